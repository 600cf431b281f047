#include "pipeline/classic/phase4_grid.hpp"

#include "pipeline/model/output_grid.hpp"

namespace zm {

OutputGrid run_phase4(const RunContext& ctx, const FinalGridOptions& options, const std::vector<TileInfo>& tiles) {
  PhaseScope scope(*ctx.progress, "4", "Output grid");
  std::vector<ImageFootprint> footprints;
  footprints.reserve(tiles.size());
  for (const auto& t : tiles) footprints.push_back({t.wcs, t.width, t.height});
  OutputGrid grid = find_optimal_grid(footprints, options.grid);
  report_output_grid(ctx.events(), ctx.cache.output_grid(), grid, tiles.size(), Route::classic);
  return grid;
}

}  // namespace zm
