#include "pipeline/classic/classic_route.hpp"

#include "pipeline/assembly/phase5_assembly.hpp"
#include "pipeline/classic/phase2_cluster.hpp"
#include "pipeline/classic/phase3_master_tiles.hpp"
#include "pipeline/classic/phase4_grid.hpp"
#include "pipeline/merge/phase45_merge.hpp"
#include "pipeline/merge/phase45_photometry.hpp"

namespace zm {

RouteResult run_classic(const RunContext& ctx, const RunOptions& options, const IngestResult& ingest) {
  const std::vector<FrameGroup> groups = run_phase2(ctx, options.cluster, ingest.frames);
  ctx.check();
  const std::vector<MasterTileInfo> master = run_phase3(ctx, options.master_tiles, ingest, groups);
  std::vector<std::string> paths;
  for (const auto& t : master) paths.push_back(t.path);
  ctx.check();
  const std::vector<TileInfo> master_infos = read_tile_infos(master);
  OutputGrid grid = run_phase4(ctx, options.final_grid, master_infos);
  ctx.check();
  const std::vector<TileInfo> tiles = run_phase45_merge(ctx, options.merge, master_infos, grid);  // identity unless on
  ctx.check();
  const std::vector<TileCorrection> corrections = run_phase45(ctx, options.tile_match, tiles);
  ctx.check();
  MosaicArtifacts mosaic = run_phase5(ctx, options.assembly, tiles, corrections, grid);
  return {std::move(grid), std::move(mosaic), summarize_tiles(tiles, ingest.inputs_found),
          static_cast<int>(groups.size()), std::move(paths)};
}

}  // namespace zm
