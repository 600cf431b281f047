// The global grid of the frame routes (Mosaic-First, SDS, grid mode) over every frame footprint.
#pragma once

#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "pipeline/options/run_options.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// North up (global_wcs_orientation), pixel scale = median | min | max of the frames' scales
// (global_wcs_pixelscale_mode), margin global_wcs_padding_px. Unlike ZeMosaic's descriptor the RA span is measured
// on the tangent plane, so there is no missing cos(Dec).
OutputGrid global_grid(const GlobalGridOptions& options, const std::vector<FrameRecord>& frames);

}  // namespace zm
