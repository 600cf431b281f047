#include "pipeline/route_mosaic_first.hpp"

#include <algorithm>
#include <fstream>

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/mosaic_result.hpp"
#include "pipeline/phase1_ingest.hpp"
#include "pipeline/phase4_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/route_common.hpp"
#include "pipeline/route_photometry.hpp"
#include "pipeline/route_planes.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

double pick_scale(const std::vector<FrameRecord>& frames, const std::string& mode) {
  std::vector<double> s;
  for (const auto& f : frames)
    if (f.scale_arcsec > 0) s.push_back(f.scale_arcsec);
  if (s.empty()) return 0.0;  // find_optimal_grid takes the median of the WCS scales
  std::sort(s.begin(), s.end());
  if (mode == "min") return s.front();
  if (mode == "max") return s.back();
  return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
}

}  // namespace

std::vector<std::string_view> mosaic_first_config_keys() { return global_coadd_config_keys(); }

OutputGrid global_grid(const RunContext& ctx, const std::vector<FrameRecord>& frames) {
  std::vector<ImageFootprint> footprints;
  footprints.reserve(frames.size());
  for (const auto& f : frames) footprints.push_back({f.make_wcs(), f.width, f.height});
  OptimalGridOptions o;
  o.pixel_scale_arcsec = pick_scale(frames, ctx.config.get_string("global_wcs_pixelscale_mode"));
  o.north_up = ctx.config.get_string("global_wcs_orientation") == "north_up";
  o.pad_px = static_cast<int>(ctx.config.get_int("global_wcs_padding_px"));
  return find_optimal_grid(footprints, o);
}

MosaicArtifacts run_mosaic_first(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid) {
  GlobalCoaddStats stats;
  return run_mosaic_first(ctx, frames, grid, stats);
}

MosaicArtifacts run_mosaic_first(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                 GlobalCoaddStats& stats) {
  PhaseScope scope(*ctx.progress, "5", "Mosaic-First global coadd");
  EventStream& events = ctx.events();
  if (frames.empty()) throw PipelineError("Mosaic-First: no frame to co-add");
  const fs::path dir = ctx.cache_dir / "mosaic_first";
  MosaicArtifacts a = mosaic_in(dir, grid, frames.front().channels,
                                hash_hex(frames_signature(frames) + grid_cards(grid) +
                                         ctx.config.hash_of(phase1_config_keys()) +
                                         ctx.config.hash_of(mosaic_first_config_keys())));
  const fs::path manifest = dir / "mosaic_first_manifest.json";
  if (reuse_mosaic(ctx, manifest, a)) return a;

  const ParallelPlan plan =
      make_plan(PlanKind::mosaic_first, ctx.caps, ctx.config, frames_onto_grid_job(frames, grid, a.channels));
  emit_plan_summary(events, "5", plan);

  std::vector<CoaddFrame> inputs = coadd_frames(ctx, frames, {});
  if (ctx.config.get_bool("global_coadd_normalize")) {
    std::vector<std::array<float, 3>> sigmas, skies;
    for (const auto& f : frames) {
      sigmas.push_back(f.sky_sigma);
      skies.push_back(f.sky_median);
    }
    const RoutePhotometry p = solve_star_photometry(inputs, skies, plan.cpu_workers);
    apply_route_photometry(inputs, p, sigmas);
    nlohmann::json gains = nlohmann::json::array();
    for (const auto& c : p.corrections) gains.push_back({c.gain, c.offset});
    events.info(pipeline_keys::kPhotometrySolved, {{"phase", "5"},
                                                   {"inputs", "frames"},
                                                   {"anchor", p.anchor},
                                                   {"pairs", p.pairs},
                                                   {"disconnected", p.disconnected},
                                                   {"corrections", std::move(gains)}});
  }

  GlobalCoaddOptions o = global_coadd_options(ctx, plan);
  RunProgress* progress = ctx.progress;
  o.progress = [progress](int done, int total) {
    progress->update("global_coadd", static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(total));
  };
  std::error_code ec;
  fs::remove(manifest, ec);
  stats = global_coadd(inputs, grid, a, o);
  if (stats.cancelled || ctx.cancelled()) throw RunCancelled();
  for (int k : stats.frames_off_canvas)
    events.warn(pipeline_keys::kInputSetAside, {{"phase", "5"},
                                                {"file", frames[static_cast<std::size_t>(k)].path},
                                                {"kind", "off_canvas"},
                                                {"reason", "the frame's footprint does not meet the global grid"}});
  if (stats.frames_used == 0) throw PipelineError("Mosaic-First: no frame lands on the global grid");
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", "mosaic_first"},
                                                {"combine", ctx.config.get_string("global_coadd_method")},
                                                {"kernel", std::string(to_string(o.kernel))},
                                                {"width", grid.width},
                                                {"height", grid.height},
                                                {"covered_pixels", stats.covered_pixels},
                                                {"bands", stats.bands},
                                                {"band_rows", stats.band_rows},
                                                {"frames", stats.frames_used},
                                                {"rejected_fraction", stats.reject.rejected_fraction()},
                                                {"peak_band_bytes", stats.peak_band_bytes},
                                                {"seconds", stats.seconds}});
  write_text_atomic(manifest, nlohmann::json{{"key", a.key}, {"width", a.width}, {"height", a.height},
                                             {"channels", a.channels}}.dump(1));
  return a;
}

}  // namespace zm
