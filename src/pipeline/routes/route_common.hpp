// Pieces the frame routes (Mosaic-First, SDS, grid mode) share: their coadd options, and frames put on one
// photometric scale.
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/model/coadd_frame.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/routes/global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {

// The global coadd's options: the stage's settings, the plan's band budget and workers, the run's cancel.
GlobalCoaddOptions global_coadd_options(const RunContext& ctx, const GlobalCoaddStageOptions& stage,
                                        const ParallelPlan& plan);

// Star-flux gains and overlap offsets of `inputs` (the frames' coadd inputs, same order) solved over all of them at
// once, gated, applied with weights 1 / (gain x sigma)^2; PHOTOMETRY_SOLVED {"phase", "inputs": "frames", "anchor",
// "pairs", "disconnected", "corrections"} and PHOTOMETRY_GATE.
void normalize_frames(const RunContext& ctx, const std::vector<FrameRecord>& frames, std::vector<CoaddFrame>& inputs,
                      int workers, std::string_view phase);

// Preview side used for frame matching: small enough that thousands of previews fit in RAM.
inline constexpr int kRoutePreviewSide = 128;

}  // namespace zm
