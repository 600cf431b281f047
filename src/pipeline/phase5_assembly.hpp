// Phase 5: master tiles reprojected onto the output grid and co-added (feathered, photometrically corrected).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// The assembled mosaic as raw float32 planes in the cache (row-range readable): image C x H x W (NaN where no
// tile contributes), weight and coverage (frames per pixel) H x W.
struct MosaicArtifacts {
  std::filesystem::path image;
  std::filesystem::path weight;
  std::filesystem::path coverage;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::string key;  // resume key of this result (what Phase 6 keys its outputs on)
  bool reused = false;
};

MosaicArtifacts run_phase5(const RunContext& ctx, const std::vector<TileInfo>& tiles,
                           const std::vector<TileCorrection>& corrections, const OutputGrid& grid);

std::vector<std::string_view> phase5_config_keys();

}  // namespace zm
