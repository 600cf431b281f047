// The result is cached with a manifest keyed by the tiles, their corrections, the grid and the Phase 5 settings, so
// a rerun after a kill in Phase 6 or 7 does not assemble again. Outputs are committed by coadd_tiles atomically.
#include "pipeline/phase5_assembly.hpp"

#include "pipeline/mosaic_result.hpp"

#include <fstream>

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/phase4_grid.hpp"
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

std::vector<CoaddInput> coadd_inputs(const Config& cfg, const std::vector<TileInfo>& tiles,
                                     const std::vector<TileCorrection>& corrections) {
  const bool weighting = cfg.get_bool("enable_tile_weighting");
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

}  // namespace

std::vector<std::string_view> phase5_config_keys() {
  return {"final_assembly_method", "phase5_interpolation", "phase5_alpha_weight_floor", "phase5_feather_px",
          "enable_tile_weighting"};
}

MosaicArtifacts run_phase5(const RunContext& ctx, const std::vector<TileInfo>& tiles,
                           const std::vector<TileCorrection>& corrections, const OutputGrid& grid) {
  PhaseScope scope(*ctx.progress, "5", "Reproject & coadd");
  EventStream& events = ctx.events();
  const fs::path dir = ctx.cache_dir / "phase5";
  MosaicArtifacts a = mosaic_in(dir, grid, tiles.front().channels,
                                hash_hex(tiles_signature(tiles) + corrections_text(corrections) + grid_cards(grid) +
                                         ctx.config.hash_of(phase5_config_keys())));
  const fs::path manifest = dir / "phase5_manifest.json";
  if (reuse_mosaic(ctx, manifest, a)) return a;

  const ParallelPlan plan = make_plan(PlanKind::phase5, ctx.caps, ctx.config, tiles_onto_grid_job(tiles, grid));
  emit_plan_summary(events, "5", plan);

  CoaddOptions o;
  o.method = ctx.config.get_string("final_assembly_method") == "incremental" ? CoaddMethod::Incremental
                                                                             : CoaddMethod::ReprojectCoadd;
  o.kernel = parse_kernel(ctx.config.get_string("phase5_interpolation")).value_or(Kernel::Lanczos3);
  const long long rows_override = ctx.config.get_int("phase5_rows_per_chunk");
  o.band_rows = rows_override > 0 ? static_cast<int>(rows_override) : std::max(16, plan.rows_per_chunk);
  o.feather_px = ctx.config.get_double("phase5_feather_px");
  o.alpha_weight_floor = ctx.config.get_double("phase5_alpha_weight_floor");
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
  const CoaddStats s = coadd_tiles(coadd_inputs(ctx.config, tiles, corrections), grid.wcs, grid.width, grid.height,
                                   a.channels, o, {a.image, a.weight, a.coverage});
  if (s.cancelled || ctx.cancelled()) throw RunCancelled();
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", ctx.config.get_string("final_assembly_method")},
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
  write_text_atomic(manifest, nlohmann::json{{"key", a.key}, {"width", a.width}, {"height", a.height},
                                             {"channels", a.channels}}.dump(1));
  return a;
}

}  // namespace zm
