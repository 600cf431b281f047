// Where a route keeps its assembled mosaic (raw float32 planes in a cache folder) and when an earlier one is reused.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/frame_record.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "plan/parallel_plan.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// mosaic.f32 / weight.f32 / coverage.f32 in `dir` (created) for the grid.
MosaicArtifacts mosaic_in(const std::filesystem::path& dir, const OutputGrid& grid, int channels, std::string key);

// The manifest exists, parses and records `key`.
bool manifest_matches(const std::filesystem::path& manifest, const std::string& key);

// With resume on, a manifest recording a.key and complete planes: emits RESUME_REUSED (phase 5), sets a.reused.
bool reuse_mosaic(const RunContext& ctx, const std::filesystem::path& manifest, MosaicArtifacts& a);

// The plan's job description for frames co-added straight onto the grid (Mosaic-First, SDS).
JobSizes frames_onto_grid_job(const std::vector<FrameRecord>& frames, const OutputGrid& grid, int channels);
// ... and for tiles reprojected onto it (Phase 5, the inter-master merge).
JobSizes tiles_onto_grid_job(const std::vector<TileInfo>& tiles, const OutputGrid& grid);

}  // namespace zm
