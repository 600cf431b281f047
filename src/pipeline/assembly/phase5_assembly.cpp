// The result is cached with a manifest keyed by the tiles, their corrections, the grid and the Phase 5 settings, so
// a rerun after a kill in Phase 6 or 7 does not assemble again. Outputs are committed by coadd_tiles atomically.
#include "pipeline/assembly/phase5_assembly.hpp"

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"
#include "reproject/coadd.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

std::string corrections_text(const std::vector<TileCorrection>& c) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& t : c) j.push_back({t.gain, t.offset});
  return j.dump();
}

std::vector<CoaddInput> coadd_inputs(bool weighting, const std::vector<TileInfo>& tiles,
                                     const std::vector<TileCorrection>& corrections) {
  std::vector<CoaddInput> in;
  in.reserve(tiles.size());
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    CoaddInput c{.path = tiles[i].path,
                 .wcs = tiles[i].wcs,
                 .width = tiles[i].width,
                 .height = tiles[i].height,
                 .channels = tiles[i].channels,
                 .gain = {1, 1, 1},
                 .offset = {0, 0, 0},
                 .weight = 1.0};
    for (int k = 0; k < 3; ++k) {
      c.gain[k] = static_cast<float>(corrections[i].gain[k]);
      c.offset[k] = static_cast<float>(corrections[i].offset[k]);
    }
    c.weight = weighting ? std::max(1, tiles[i].frames) : 1.0;  // inverse variance of a mean of N frames
    in.push_back(std::move(c));
  }
  return in;
}

std::string_view method_name(CoaddMethod m) {
  return m == CoaddMethod::Incremental ? "incremental" : "reproject_coadd";
}

}  // namespace

MosaicArtifacts run_phase5(const RunContext& ctx, const AssemblyOptions& options, const std::vector<TileInfo>& tiles,
                           const std::vector<TileCorrection>& corrections, const OutputGrid& grid) {
  PhaseScope scope(*ctx.progress, "5", "Reproject & coadd");
  EventStream& events = ctx.events();
  const fs::path dir = ctx.cache.phase5();
  // The kernel is in the key on its own: grid mode blends with the nearest kernel whatever phase5_interpolation says.
  MosaicArtifacts a = mosaic_in(dir, grid, tiles.front().channels,
                                hash_hex(tiles_signature(tiles) + corrections_text(corrections) + grid_cards(grid) +
                                         options.settings + std::string(to_string(options.kernel))));
  const fs::path manifest = dir / "phase5_manifest.json";
  if (reuse_mosaic(ctx.resume(), events, manifest, a)) return a;

  const ParallelPlan plan = make_plan(PlanKind::phase5, ctx.caps, ctx.options.plan, tiles_onto_grid_job(tiles, grid, options.method));
  emit_plan_summary(events, "5", plan);

  CoaddOptions o;
  o.method = options.method;
  o.kernel = options.kernel;
  o.band_rows = options.rows_override > 0 ? options.rows_override : std::max(16, plan.rows_per_chunk);
  o.feather_px = options.feather_px;
  o.alpha_weight_floor = options.alpha_weight_floor;
  o.workers = std::max(1, plan.cpu_workers);
  o.memory_budget_bytes = plan.ram_budget_bytes;
  o.scratch_dir = plan.memmap_dir.empty() ? dir : fs::path(plan.memmap_dir);
  o.use_gpu = plan.use_gpu;  // the outputs are the same bits either way, so the cache key ignores it
  o.gpu_budget_bytes = plan.gpu_max_chunk_bytes;
  o.cancel = ctx.cancel;
  RunProgress* progress = ctx.progress;
  o.progress = [progress](long long done, long long total) {
    progress->update("assembly", static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(total));
  };
  std::error_code ec;
  fs::remove(manifest, ec);  // the old result is about to be replaced
  const CoaddStats s = coadd_tiles(coadd_inputs(options.tile_weighting, tiles, corrections), grid.wcs, grid.width, grid.height,
                                   a.channels, o, {a.image, a.weight, a.coverage});
  if (s.cancelled || ctx.cancelled()) throw RunCancelled();
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", method_name(options.method)},
                                                {"kernel", std::string(to_string(o.kernel))},
                                                {"width", grid.width},
                                                {"height", grid.height},
                                                {"covered_pixels", s.covered_pixels},
                                                {"bands", s.bands},
                                                {"tiles", s.tiles_used},
                                                {"band_rows", o.band_rows},
                                                {"gpu", s.gpu_units > 0},
                                                {"gpu_units", s.gpu_units},
                                                {"cpu_fallbacks", s.cpu_fallbacks},
                                                {"gpu_note", s.gpu_note},
                                                {"seconds", s.seconds}});
  commit_mosaic_manifest(manifest, a);
  return a;
}

}  // namespace zm
