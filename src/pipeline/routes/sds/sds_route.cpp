#include "pipeline/routes/sds/sds_route.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/fault_point.hpp"
#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "pipeline/frame_photometry/frame_photometry.hpp"
#include "pipeline/frame_photometry/match_gate_event.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/model/raw_planes.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/routes/route_common.hpp"
#include "pipeline/routes/sds/megatile_stack.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

struct MegaTile {
  MosaicArtifacts art;
  GlobalCoaddStats stats;
};

MosaicArtifacts megatile_paths(const fs::path& dir, int id, const OutputGrid& grid, int channels) {
  MosaicArtifacts a;
  a.image = dir / fmt::format("megatile_{:04d}.f32", id);
  a.weight = dir / fmt::format("megatile_{:04d}_weight.f32", id);
  a.coverage = dir / fmt::format("megatile_{:04d}_coverage.f32", id);
  a.width = grid.width;
  a.height = grid.height;
  a.channels = channels;
  return a;
}

// What every mega-tile shares: its frames, the grid, and the settings of the frames and of the coadd.
struct MegatileBuild {
  const RunContext& ctx;
  const RunOptions& options;
  const std::vector<FrameRecord>& frames;
  const OutputGrid& grid;
  const ParallelPlan& plan;
  fs::path dir;
  std::string settings;
  std::vector<CoaddFrame> all_inputs;  // built for the first mega-tile that is not reused

  // Every frame with its photometric correction, solved over ALL frames at once: the mega-tiles then share one
  // anchor, and the mega-tile matching only has residual differences left to remove.
  const std::vector<CoaddFrame>& inputs() {
    if (all_inputs.empty()) {
      all_inputs = coadd_frames(ctx.cache.frames(), frames);
      if (options.global_coadd.normalize) normalize_frames(ctx, frames, all_inputs, plan.cpu_workers, "3");
    }
    return all_inputs;
  }

  void report_off_canvas(const SdsBatch& batch, const GlobalCoaddStats& st) const {
    for (int k : st.frames_off_canvas)
      ctx.events().warn(pipeline_keys::kInputSetAside,
                        {{"phase", "3"},
                         {"file", frames[static_cast<std::size_t>(batch.members[static_cast<std::size_t>(k)])].path},
                         {"kind", "off_canvas"},
                         {"reason", "the frame's footprint does not meet the global grid"}});
  }

  MegaTile build(std::size_t b, const SdsBatch& batch) {
    std::vector<FrameRecord> members;
    for (int m : batch.members) members.push_back(frames[static_cast<std::size_t>(m)]);
    MegaTile t{megatile_paths(dir, static_cast<int>(b), grid, frames.front().channels), {}};
    t.art.key = hash_hex(frames_signature(members) + settings);
    const fs::path manifest = dir / fmt::format("megatile_{:04d}.json", b);
    if (ctx.resume() && manifest_has_key(manifest, t.art.key, ctx.events()) && artifacts_complete(t.art)) {
      t.art.reused = true;
      return t;
    }
    std::vector<CoaddFrame> in;
    for (int m : batch.members) in.push_back(inputs()[static_cast<std::size_t>(m)]);
    std::error_code ec;
    fs::remove(manifest, ec);
    fault_point("sds.megatile");
    t.stats = global_coadd(in, grid, t.art, global_coadd_options(ctx, options.global_coadd, plan));
    if (t.stats.cancelled || ctx.cancelled()) throw RunCancelled();
    report_off_canvas(batch, t.stats);
    ctx.events().info(pipeline_keys::kSdsMegatileDone, {{"phase", "3"},
                                                        {"megatile", b},
                                                        {"frames", t.stats.frames_used},
                                                        {"covered_pixels", t.stats.covered_pixels},
                                                        {"rejected_fraction", t.stats.reject.rejected_fraction()},
                                                        {"seconds", t.stats.seconds}});
    write_manifest(manifest, {{"key", t.art.key}});
    return t;
  }
};

void report_batches(EventStream& events, const std::vector<SdsBatch>& batches) {
  nlohmann::json sizes = nlohmann::json::array(), covs = nlohmann::json::array();
  for (const auto& b : batches) {
    sizes.push_back(b.members.size());
    covs.push_back(b.coverage);
  }
  events.info(pipeline_keys::kSdsBatches, {{"phase", "3"}, {"batches", batches.size()}, {"sizes", sizes}, {"coverage", covs}});
}

// Phase "3": the batches and their mega-tiles.
std::vector<MegaTile> make_megatiles(const RunContext& ctx, const RunOptions& options,
                                     const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                     const OutputGrid& grid, SdsStats& stats, ParallelPlan& plan) {
  PhaseScope scope(*ctx.progress, "3", "SDS mega-tiles");
  stats.batches = plan_sds_batches(frames, grid, options.sds.batches);
  if (stats.batches.empty()) throw RouteFailed(Route::sds, "SDS: no batch could be formed");
  report_batches(ctx.events(), stats.batches);
  JobSizes job = frames_onto_grid_job(frames, grid, frames.front().channels);
  job.megatiles = stats.batches.size();
  plan = make_plan(PlanKind::sds_megatiles, ctx.caps, ctx.options.plan, job);
  emit_plan_summary(ctx.events(), "3", plan);
  MegatileBuild build{ctx, options, frames, grid, plan, ctx.cache.sds(),
                      grid_cards(grid) + ingest_key + options.global_coadd.settings, {}};
  ProgressCounter counter(*ctx.progress, "sds_megatiles", stats.batches.size());
  std::vector<MegaTile> tiles;
  for (std::size_t b = 0; b < stats.batches.size(); ++b) {
    tiles.push_back(build.build(b, stats.batches[b]));
    counter.advance();
  }
  return tiles;
}

// Mega-tile gains and offsets; RouteFailed when some share no overlap with the others.
std::vector<TileCorrection> match_megatiles(const RunContext& ctx, const SdsOptions& options,
                                            const std::vector<MegaTile>& tiles, const OutputGrid& grid, int workers) {
  std::vector<CoaddFrame> mt;
  for (const auto& t : tiles) mt.push_back(CoaddFrame{t.art.image, t.art.width, t.art.height, t.art.channels, grid.wcs});
  const RoutePhotometry p = solve_route_photometry(mt, 4 * kRoutePreviewSide, options.matching, workers);
  if (p.disconnected > 0)
    throw RouteFailed(Route::sds, fmt::format("SDS: {} mega-tile(s) share no usable overlap with the others", p.disconnected));
  nlohmann::json gains = nlohmann::json::array();
  for (const auto& c : p.corrections) gains.push_back({c.gain, c.offset});
  ctx.events().info(pipeline_keys::kPhotometrySolved,
                    {{"phase", "5"}, {"inputs", "megatiles"}, {"anchor", p.anchor}, {"pairs", p.pairs}, {"corrections", gains}});
  emit_match_gate(ctx.events(), "5", "megatiles", options.matching.significance, p.gains_applied,
                  p.gains_not_significant, p.offsets_applied, p.offsets_not_significant, p.disconnected);
  return p.corrections;
}

int stack_band_rows(const RunOptions& options, const ParallelPlan& plan, const OutputGrid& grid, int channels, int n) {
  const int override_rows = options.global_coadd.rows_override;
  const std::uint64_t row_bytes = megatile_stack_row_bytes(grid.width, channels, n);
  const int rows = override_rows > 0 ? override_rows
                                     : static_cast<int>(std::clamp<std::uint64_t>(
                                           plan.max_chunk_bytes / std::max<std::uint64_t>(1, row_bytes), 1,
                                           static_cast<std::uint64_t>(grid.height)));
  return std::min(rows, grid.height);
}

}  // namespace

MosaicArtifacts run_sds(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                        const std::string& ingest_key, const OutputGrid& grid) {
  SdsStats stats;
  return run_sds(ctx, options, frames, ingest_key, grid, stats);
}

MosaicArtifacts run_sds(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                        const std::string& ingest_key, const OutputGrid& grid, SdsStats& stats) {
  EventStream& events = ctx.events();
  if (frames.empty()) throw RouteFailed(Route::sds, "SDS: no frame to batch");
  const fs::path dir = ctx.cache.sds();
  MosaicArtifacts a = mosaic_in(dir, grid, frames.front().channels,
                                hash_hex(frames_signature(frames) + grid_cards(grid) + ingest_key + options.sds.settings));
  const fs::path manifest = dir / "sds_manifest.json";
  if (reuse_mosaic(ctx.resume(), events, manifest, a)) return a;

  ParallelPlan plan;
  const std::vector<MegaTile> tiles = make_megatiles(ctx, options, frames, ingest_key, grid, stats, plan);
  PhaseScope scope(*ctx.progress, "5", "SDS mega-tile stack");
  int used = 0;
  for (const auto& t : tiles) {
    stats.megatiles.push_back(t.stats);
    used += t.art.reused || t.stats.frames_used > 0 ? 1 : 0;
  }
  if (used == 0) throw RouteFailed(Route::sds, "SDS: every mega-tile is empty (no frame lands on the global grid)");
  stats.megatile_corrections = match_megatiles(ctx, options.sds, tiles, grid, plan.cpu_workers);
  const int n = static_cast<int>(tiles.size());
  stats.band_rows = stack_band_rows(options, plan, grid, a.channels, n);
  std::error_code ec;
  fs::remove(manifest, ec);
  std::vector<MosaicArtifacts> planes;
  for (const auto& t : tiles) planes.push_back(t.art);
  const MegatileStackStats s =
      stack_megatiles(planes, stats.megatile_corrections, options.sds.reject, options.sds.min_coverage_keep,
                      batch_coverage(frames, grid, stats.batches), stats.band_rows, plan.cpu_workers, a);
  stats.final_reject = s.reject;
  stats.masked_pixels = s.masked_pixels;
  stats.peak_band_bytes = s.peak_band_bytes;
  if (ctx.cancelled()) throw RunCancelled();
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", "sds"},
                                                {"width", grid.width},
                                                {"height", grid.height},
                                                {"megatiles", n},
                                                {"band_rows", stats.band_rows},
                                                {"masked_pixels", stats.masked_pixels},
                                                {"rejected_fraction", stats.final_reject.rejected_fraction()}});
  commit_mosaic_manifest(manifest, a);
  return a;
}

}  // namespace zm
