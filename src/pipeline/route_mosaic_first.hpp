// Mosaic-First route: no master tiles; every cached frame is reprojected straight onto one global north-up grid
// and stacked there per output pixel with rejection (global_coadd_method), in row bands sized by the plan.
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/frame_record.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/route_global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// The global grid of Mosaic-First and SDS over every frame footprint: north up (global_wcs_orientation), pixel
// scale = median | min | max of the frames' scales (global_wcs_pixelscale_mode), margin global_wcs_padding_px.
// Unlike ZeMosaic's descriptor the RA span is measured on the tangent plane, so there is no missing cos(Dec).
OutputGrid global_grid(const RunContext& ctx, const std::vector<FrameRecord>& frames);

// Phase "5" (global coadd): frame matching (global_coadd_normalize), then global_coadd of every frame into
// ctx.cache_dir / "mosaic_first" (mosaic.f32, weight.f32, coverage.f32), reused when its key matches.
// Emits PHASE_UPDATE, parallel_plan_summary (kind mosaic_first), progress, FRAME_OFF_CANVAS for frames that miss
// the grid, and MOSAIC_ASSEMBLED. Throws PipelineError when no frame lands on the grid, RunCancelled on cancel.
MosaicArtifacts run_mosaic_first(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid);

// The same with the coadd's statistics (tests and the benchmark read them); stats is left default when reused.
MosaicArtifacts run_mosaic_first(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                 GlobalCoaddStats& stats);

std::vector<std::string_view> mosaic_first_config_keys();

}  // namespace zm
