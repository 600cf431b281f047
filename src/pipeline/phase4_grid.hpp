// Phase 4: the mosaic's output grid, a TAN WCS that covers every master tile.
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Emits OUTPUT_GRID and writes output_grid.json in the cache (the grid's cards, for tools and resume checks).
OutputGrid run_phase4(const RunContext& ctx, const std::vector<TileInfo>& tiles);

// The OUTPUT_GRID event and output_grid.json for a grid made elsewhere (the routes' global grid); `inputs` counts
// the tiles or frames it covers (the event's "tiles" field). Routes other than "classic" report it in Phase 2.
void report_output_grid(const RunContext& ctx, const OutputGrid& grid, std::size_t inputs, std::string_view route);

// The grid as FITS header cards (WCS + NAXIS sizes): part of the resume keys of later phases.
std::string grid_cards(const OutputGrid& grid);

std::vector<std::string_view> phase4_config_keys();

}  // namespace zm
