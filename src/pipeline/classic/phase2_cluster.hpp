// Phase 2: frames -> master-tile groups, written as the stack plan (CSV + JSON) in the output folder.
#pragma once

#include <vector>

#include "pipeline/model/frame_group.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/run_context.hpp"

namespace zm {

std::vector<FrameGroup> run_phase2(const RunContext& ctx, const ClusterOptions& options,
                                   const std::vector<FrameRecord>& frames);

}  // namespace zm
