#include "pipeline/routes/mosaic_first.hpp"

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/routes/route_common.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

void report_off_canvas(EventStream& events, const std::vector<FrameRecord>& frames, const GlobalCoaddStats& stats) {
  for (int k : stats.frames_off_canvas)
    events.warn(pipeline_keys::kInputSetAside, {{"phase", "5"},
                                                {"file", frames[static_cast<std::size_t>(k)].path},
                                                {"kind", "off_canvas"},
                                                {"reason", "the frame's footprint does not meet the global grid"}});
}

void report_assembled(EventStream& events, const GlobalCoaddStageOptions& options, const OutputGrid& grid,
                      const GlobalCoaddStats& stats) {
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", "mosaic_first"},
                                                {"combine", options.method},
                                                {"kernel", std::string(to_string(options.kernel))},
                                                {"width", grid.width},
                                                {"height", grid.height},
                                                {"covered_pixels", stats.covered_pixels},
                                                {"bands", stats.bands},
                                                {"band_rows", stats.band_rows},
                                                {"frames", stats.frames_used},
                                                {"rejected_fraction", stats.reject.rejected_fraction()},
                                                {"peak_band_bytes", stats.peak_band_bytes},
                                                {"seconds", stats.seconds}});
}

}  // namespace

MosaicArtifacts run_mosaic_first(const RunContext& ctx, const GlobalCoaddStageOptions& options,
                                 const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                 const OutputGrid& grid) {
  GlobalCoaddStats stats;
  return run_mosaic_first(ctx, options, frames, ingest_key, grid, stats);
}

MosaicArtifacts run_mosaic_first(const RunContext& ctx, const GlobalCoaddStageOptions& options,
                                 const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                 const OutputGrid& grid, GlobalCoaddStats& stats) {
  PhaseScope scope(*ctx.progress, "5", "Mosaic-First global coadd");
  EventStream& events = ctx.events();
  if (frames.empty()) throw RouteFailed(Route::mosaic_first, "Mosaic-First: no frame to co-add");
  const fs::path dir = ctx.cache.mosaic_first();
  MosaicArtifacts a = mosaic_in(dir, grid, frames.front().channels,
                                hash_hex(frames_signature(frames) + grid_cards(grid) + ingest_key + options.settings));
  const fs::path manifest = dir / "mosaic_first_manifest.json";
  if (reuse_mosaic(ctx.resume(), events, manifest, a)) return a;

  const ParallelPlan plan =
      make_plan(PlanKind::mosaic_first, ctx.caps, ctx.options.plan, frames_onto_grid_job(frames, grid, a.channels));
  emit_plan_summary(events, "5", plan);

  std::vector<CoaddFrame> inputs = coadd_frames(ctx.cache.frames(), frames);
  if (options.normalize) normalize_frames(ctx, frames, inputs, plan.cpu_workers, "5");

  GlobalCoaddOptions o = global_coadd_options(ctx, options, plan);
  RunProgress* progress = ctx.progress;
  o.progress = [progress](int done, int total) {
    progress->update("global_coadd", static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(total));
  };
  std::error_code ec;
  fs::remove(manifest, ec);
  stats = global_coadd(inputs, grid, a, o);
  if (stats.cancelled || ctx.cancelled()) throw RunCancelled();
  report_off_canvas(events, frames, stats);
  if (stats.frames_used == 0) throw RouteFailed(Route::mosaic_first, "Mosaic-First: no frame lands on the global grid");
  report_assembled(events, options, grid, stats);
  commit_mosaic_manifest(manifest, a);
  return a;
}

}  // namespace zm
