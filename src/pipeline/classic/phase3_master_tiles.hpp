// Phase 3: one master tile per group, groups in parallel as far as the master_tiles plan's memory allows.
#pragma once

#include <vector>

#include "pipeline/model/frame_group.hpp"
#include "pipeline/model/ingest_result.hpp"
#include "pipeline/model/tile_set.hpp"
#include "pipeline/run_context.hpp"

namespace zm {

// A tile's signature (its resume key, and what every later key chains) covers its group's frames, the Phase 1
// settings that made their pixels and the Phase 3 settings: changing any of them rebuilds the tile.
std::vector<MasterTileInfo> run_phase3(const RunContext& ctx, const MasterTileStageOptions& options,
                                       const IngestResult& ingest, const std::vector<FrameGroup>& groups);

}  // namespace zm
