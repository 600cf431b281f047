// Phase 4: the mosaic's output grid, a TAN WCS that covers every master tile.
#pragma once

#include <vector>

#include "pipeline/model/tile_set.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Emits OUTPUT_GRID and writes output_grid.json in the cache (the grid's cards, for tools and resume checks).
OutputGrid run_phase4(const RunContext& ctx, const FinalGridOptions& options, const std::vector<TileInfo>& tiles);

}  // namespace zm
