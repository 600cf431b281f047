// The flow of a run, route by route; every phase lives in its stage's folder (ingest, classic, merge, assembly,
// routes, output) and talks to the user only through the event stream.
#include "pipeline/run.hpp"

#include "pipeline/classic/classic_route.hpp"
#include "pipeline/classic/phase2_cluster.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/output/phase6_save.hpp"
#include "pipeline/output/phase7_cleanup.hpp"
#include "pipeline/output/sky_kept.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/routes/global_grid.hpp"
#include "pipeline/routes/grid/grid_route.hpp"
#include "pipeline/routes/mosaic_first.hpp"
#include "pipeline/routes/sds/sds_route.hpp"
#include "pipeline/run_marker.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

// Frames in group order, then input order inside a group: the order SDS batches follow.
std::vector<FrameRecord> in_group_order(const std::vector<FrameRecord>& frames, const std::vector<FrameGroup>& groups) {
  std::vector<FrameRecord> ordered;
  ordered.reserve(frames.size());
  for (const auto& g : groups)
    for (int m : g.members) ordered.push_back(frames[static_cast<std::size_t>(m)]);
  return ordered.size() == frames.size() ? ordered : frames;
}

void report_fallback(const RunContext& ctx, Route from, Route to, const RouteFailed& e) {
  ctx.events().warn(pipeline_keys::kRouteFallback,
                    {{"from", to_string(from)}, {"to", to_string(to)}, {"reason", e.what()}});
}

// Mosaic-First or SDS: Phase 2 only orders the frames and makes the global grid; Phases 3-5 are the route's own.
// Falls back SDS -> Mosaic-First -> classic on a RouteFailed (a reason of the data), saying why; any other error
// stops the run.
RouteResult run_frame_route(const RunContext& ctx, const IngestResult& ingest, Route route) {
  const RunOptions& o = ctx.options;
  const std::vector<FrameGroup> groups = run_phase2(ctx, o.cluster, ingest.frames);
  const int n_groups = static_cast<int>(groups.size());
  ctx.check();
  const std::vector<FrameRecord> frames = in_group_order(ingest.frames, groups);
  const OutputGrid grid = global_grid(o.global_grid, frames);
  report_output_grid(ctx.events(), ctx.cache.output_grid(), grid, frames.size(), route);  // still Phase 2
  ctx.check();
  if (route == Route::sds) {
    try {
      MosaicArtifacts mosaic = run_sds(ctx, o, frames, ingest.key, grid);
      return {grid, std::move(mosaic), summarize_frames(frames, ingest.inputs_found, Route::sds), n_groups, {}};
    } catch (const RouteFailed& e) {
      report_fallback(ctx, Route::sds, Route::mosaic_first, e);
    }
  }
  try {
    MosaicArtifacts mosaic = run_mosaic_first(ctx, o.global_coadd, frames, ingest.key, grid);
    return {grid, std::move(mosaic), summarize_frames(frames, ingest.inputs_found, Route::mosaic_first), n_groups, {}};
  } catch (const RouteFailed& e) {
    report_fallback(ctx, Route::mosaic_first, Route::classic, e);
  }
  return run_classic(ctx, o, ingest);
}

// The route's mosaic; `ingest` gets the frames it was made from (the usable ones).
RouteResult run_route(const RunContext& ctx, Route route, RunOutcome& out, IngestResult& ingest) {
  if (route == Route::grid) {
    GridRunResult g = run_grid_route(ctx, ctx.options);
    out.frames_found = g.summary.frames_found;
    out.inputs_set_aside = static_cast<int>(g.ingest.set_aside.size());
    ingest = std::move(g.ingest);
    return {std::move(g.grid), std::move(g.mosaic), std::move(g.summary),
            static_cast<int>(g.stats.layout.tiles.size()), {}};
  }
  ingest = run_phase1(ctx, ctx.options.ingest);
  out.frames_found = ingest.inputs_found;
  out.inputs_set_aside = static_cast<int>(ingest.set_aside.size());
  ctx.check();
  return route == Route::classic ? run_classic(ctx, ctx.options, ingest) : run_frame_route(ctx, ingest, route);
}

std::string_view why_sky_is_lost(Route route) {
  switch (route) {
    case Route::classic: return "outside every master tile, or every sample there rejected";
    case Route::sds: return "masked by sds_min_coverage_keep, or every sample there rejected";
    case Route::mosaic_first: return "every sample there rejected, or the frame off the grid";
    case Route::grid: return "outside every grid tile, or every sample there rejected";
  }
  return "";
}

// The invariant: the mosaic covers the union of the usable frames' footprints. SKY_KEPT on every run; SKY_LOST
// (WARN) naming the frames whose sky was dropped when less than kSkyKeptWarnBelow of the union is kept.
double report_sky_kept(const RunContext& ctx, const IngestResult& ingest, const RouteResult& r) {
  const SkyKept s = measure_sky_kept(ingest.frames, r.grid, r.mosaic);
  ctx.events().info(pipeline_keys::kSkyKept, {{"sky_kept_fraction", s.fraction},
                                              {"union_cells", s.union_cells},
                                              {"kept_cells", s.kept_cells},
                                              {"cell_px", s.cell_px},
                                              {"frames_short", s.short_frames.size()}});
  if (s.fraction < kSkyKeptWarnBelow) {
    nlohmann::json frames = nlohmann::json::array();
    for (std::size_t k = 0; k < s.short_frames.size() && k < pipeline_keys::kSkyLostFramesListed; ++k)
      frames.push_back({{"file", s.short_frames[k].path}, {"kept", s.short_frames[k].kept}});
    ctx.events().warn(pipeline_keys::kSkyLost, {{"sky_kept_fraction", s.fraction},
                                                {"route", to_string(r.summary.route)},
                                                {"frames_short", s.short_frames.size()},
                                                {"frames", std::move(frames)},
                                                {"reason", why_sky_is_lost(r.summary.route)}});
  }
  return s.fraction;
}

std::pair<Route, std::string> choose_route(const RunContext& ctx) {
  if (const auto plan = find_stack_plan(ctx.input_dir)) return {Route::grid, plan->filename().string() + " in the input folder"};
  if (ctx.options.run.sds_mode) return {Route::sds, "sds_mode is on"};
  if (ctx.options.run.mosaic_first) return {Route::mosaic_first, "mosaic_first is on"};
  return {Route::classic, "default route"};
}

}  // namespace

RunOutcome run_pipeline(RunContext& ctx) {
  fs::create_directories(ctx.cache.root);
  if (!ctx.resume()) clear_resume_state(ctx);
  const std::string signature = run_signature(ctx);
  if (ctx.resume()) {
    if (const auto done = load_complete_run(ctx, signature)) {
      ctx.events().info(pipeline_keys::kResumeReused,
                        {{"phase", "all"}, {"reused", 1}, {"total", 1}, {"science", done->science}});
      run_phase7(ctx);
      return *done;
    }
  }
  fs::remove(ctx.cache.run_complete());  // rewritten only when this run finishes

  const auto [route, reason] = choose_route(ctx);
  ctx.events().info(pipeline_keys::kRouteSelected, {{"route", to_string(route)}, {"reason", reason}});
  RunOutcome out;
  IngestResult ingest;
  RouteResult r = run_route(ctx, route, out, ingest);
  out.groups = r.groups;
  out.master_tiles = r.master_tiles;
  out.frames_used = r.summary.frames_used;
  ctx.check();
  r.summary.sky_kept_fraction = out.sky_kept_fraction = report_sky_kept(ctx, ingest, r);
  const SavedOutputs saved = run_phase6(ctx, ctx.options.save, r.summary, r.grid, r.mosaic);
  out.science = saved.science.string();
  out.aesthetic = saved.aesthetic.string();
  out.coverage = saved.coverage.string();
  out.preview = saved.preview.string();
  ctx.check();
  save_complete_run(ctx, signature, out);
  run_phase7(ctx);
  return out;
}

}  // namespace zm
