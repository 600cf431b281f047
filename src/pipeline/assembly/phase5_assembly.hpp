// Phase 5: master tiles reprojected onto the output grid and co-added (feathered, photometrically corrected).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/model/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

MosaicArtifacts run_phase5(const RunContext& ctx, const AssemblyOptions& options, const std::vector<TileInfo>& tiles,
                           const std::vector<TileCorrection>& corrections, const OutputGrid& grid);

}  // namespace zm
