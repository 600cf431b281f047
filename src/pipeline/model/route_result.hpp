// What a route hands to Phase 6: the grid, the assembled mosaic and where it came from.
#pragma once

#include <string>
#include <vector>

#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/model/mosaic_summary.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct RouteResult {
  OutputGrid grid;
  MosaicArtifacts mosaic;
  MosaicSummary summary;
  int groups = 0;                         // Phase 2 groups (grid mode: tiles)
  std::vector<std::string> master_tiles;  // classic: the master tiles' paths
};

}  // namespace zm
