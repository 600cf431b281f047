// Pieces both alternative routes share: config -> coadd options, Phase 1 records -> coadd inputs, resume keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/frame_record.hpp"
#include "pipeline/route_global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {

// global_coadd_method/k: kappa_sigma -> KappaSigma, winsorized -> WinsorizedSigmaClip (both sides at k),
// mean -> no rejection, median -> no rejection + median combine.
RejectParams global_coadd_reject(const Config& cfg);

// The global coadd's options from the config (global_coadd_*) and the plan (band budget, workers).
GlobalCoaddOptions global_coadd_options(const RunContext& ctx, const ParallelPlan& plan);

// The Phase 4.5 settings (intertile_*) that also govern frame and mega-tile matching.
HarmonizeOptions route_harmonize_options(const Config& cfg);

// Inputs of the global coadd for `members` (indices into frames; all when empty), cached under cache_dir/frames.
std::vector<CoaddFrame> coadd_frames(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                     const std::vector<int>& members);

// Identity of the frame set (paths, sizes, mtimes, caches, WCS) for resume keys.
std::string frames_signature(const std::vector<FrameRecord>& frames);

// Keys of the routes that change a global coadd's pixels.
std::vector<std::string_view> global_coadd_config_keys();

// Preview side used for frame matching: small enough that thousands of previews fit in RAM.
inline constexpr int kRoutePreviewSide = 128;

}  // namespace zm
