// Mosaic-First route: no master tiles; every cached frame is reprojected straight onto one global north-up grid
// and stacked there per output pixel with rejection (global_coadd_method), in row bands sized by the plan.
#pragma once

#include <vector>

#include "pipeline/model/ingest_result.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/routes/global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Phase "5" (global coadd): frame matching (global_coadd_normalize), then global_coadd of every frame into the
// cache's mosaic_first folder (mosaic.f32, weight.f32, coverage.f32), reused when its key matches. Emits
// PHASE_UPDATE, parallel_plan_summary (kind mosaic_first), progress, INPUT_SET_ASIDE (off_canvas) for frames that
// miss the grid, and MOSAIC_ASSEMBLED. Throws RouteFailed when no frame lands on the grid, RunCancelled on cancel.
// `frames` may be reordered from `ingest.frames` (its key is what counts).
MosaicArtifacts run_mosaic_first(const RunContext& ctx, const GlobalCoaddStageOptions& options,
                                 const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                 const OutputGrid& grid);

// The same with the coadd's statistics (tests and the benchmark read them); stats is left default when reused.
MosaicArtifacts run_mosaic_first(const RunContext& ctx, const GlobalCoaddStageOptions& options,
                                 const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                 const OutputGrid& grid, GlobalCoaddStats& stats);

}  // namespace zm
