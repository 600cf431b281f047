#include "pipeline/route_sds.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/frame_cache.hpp"
#include "pipeline/mosaic_result.hpp"
#include "pipeline/phase1_ingest.hpp"
#include "pipeline/phase4_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/route_common.hpp"
#include "pipeline/route_photometry.hpp"
#include "pipeline/route_planes.hpp"
#include "plan/parallel_plan.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "stack/method_names.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kCoverageRasterSide = 256;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Cells of the coarse canvas raster whose centre falls inside each frame.
std::vector<std::vector<int>> frame_cells(const std::vector<FrameRecord>& frames, const OutputGrid& grid) {
  const int f = std::max(1, (std::max(grid.width, grid.height) + kCoverageRasterSide - 1) / kCoverageRasterSide);
  const int cw = std::max(1, grid.width / f), ch = std::max(1, grid.height / f);
  const Wcs coarse = scale_wcs(grid.wcs, f, cw, ch);
  std::vector<std::vector<int>> cells(frames.size());
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const Wcs w = frames[k].make_wcs();
    const PixelRect box = output_bbox(w, coarse, 1);
    if (box.empty()) continue;
    const PixelMap map = compute_pixel_map(coarse, w, box);
    const double xmax = frames[k].width - 0.5, ymax = frames[k].height - 0.5;
    for (int r = 0; r < box.rows; ++r)
      for (int c = 0; c < box.cols; ++c) {
        const double x = map.x_row(r)[c], y = map.y_row(r)[c];
        if (x >= -0.5 && x <= xmax && y >= -0.5 && y <= ymax) cells[k].push_back((box.y0 + r) * cw + box.x0 + c);
      }
  }
  return cells;
}

// Consecutive runs of frames (indices) forming the nights, in time order; one run of everything when not by night.
std::vector<std::vector<int>> nights_of(const std::vector<FrameRecord>& frames, const SdsBatchOptions& o) {
  std::vector<int> order(frames.size());
  std::iota(order.begin(), order.end(), 0);
  if (!o.by_night) return {order};
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return frames[a].time_s < frames[b].time_s; });
  std::vector<std::vector<int>> nights;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || frames[order[i]].time_s - frames[order[i - 1]].time_s > o.night_gap_s) nights.emplace_back();
    nights.back().push_back(order[i]);
  }
  return nights;
}

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

RejectParams megatile_reject(const Config& cfg) {
  RejectParams p;
  p.algo = parse_reject_algo(cfg.get_string("stack_reject_algo")).value_or(RejectAlgo::WinsorizedSigmaClip);
  p.kappa_low = static_cast<float>(cfg.get_double("stack_kappa_low"));
  p.kappa_high = static_cast<float>(cfg.get_double("stack_kappa_high"));
  p.max_iterations = static_cast<int>(cfg.get_int("stack_max_iterations"));
  p.combine = parse_combine_method(cfg.get_string("stack_final_combine")).value_or(CombineMethod::Mean);
  return p;
}

// Every frame with its photometric correction, solved over ALL frames at once: the mega-tiles then share one
// anchor, and the mega-tile matching only has residual differences left to remove.
std::vector<CoaddFrame> normalized_inputs(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                          const ParallelPlan& plan) {
  std::vector<CoaddFrame> inputs = coadd_frames(ctx, frames, {});
  if (!ctx.config.get_bool("global_coadd_normalize")) return inputs;
  std::vector<std::array<float, 3>> sigmas, skies;
  for (const auto& f : frames) {
    sigmas.push_back(f.sky_sigma);
    skies.push_back(f.sky_median);
  }
  apply_route_photometry(inputs, solve_star_photometry(inputs, skies, plan.cpu_workers), sigmas);
  return inputs;
}

std::vector<MegaTile> build_megatiles(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                      const OutputGrid& grid, const std::vector<SdsBatch>& batches,
                                      const ParallelPlan& plan, const fs::path& dir) {
  EventStream& events = ctx.events();
  ProgressCounter counter(*ctx.progress, "sds_megatiles", batches.size());
  std::vector<MegaTile> tiles;
  std::vector<CoaddFrame> all_inputs;  // built on the first mega-tile that is not reused
  const std::string settings = grid_cards(grid) + ctx.config.hash_of(phase1_config_keys()) +
                               ctx.config.hash_of(global_coadd_config_keys());
  for (std::size_t b = 0; b < batches.size(); ++b) {
    std::vector<FrameRecord> members;
    for (int m : batches[b].members) members.push_back(frames[static_cast<std::size_t>(m)]);
    MegaTile t{megatile_paths(dir, static_cast<int>(b), grid, frames.front().channels), {}};
    t.art.key = hash_hex(frames_signature(members) + settings);
    const fs::path manifest = dir / fmt::format("megatile_{:04d}.json", b);
    if (ctx.config.get_string("resume") != "off" && manifest_matches(manifest, t.art.key) &&
        artifacts_complete(t.art)) {
      t.art.reused = true;
      tiles.push_back(std::move(t));
      counter.advance();
      continue;
    }
    if (all_inputs.empty()) all_inputs = normalized_inputs(ctx, frames, plan);
    std::vector<CoaddFrame> inputs;
    for (int m : batches[b].members) inputs.push_back(all_inputs[static_cast<std::size_t>(m)]);
    GlobalCoaddOptions o = global_coadd_options(ctx, plan);
    std::error_code ec;
    fs::remove(manifest, ec);
    t.stats = global_coadd(inputs, grid, t.art, o);
    if (t.stats.cancelled || ctx.cancelled()) throw RunCancelled();
    for (int k : t.stats.frames_off_canvas)
      events.warn(pipeline_keys::kInputSetAside,
                  {{"phase", "3"},
                   {"file", frames[static_cast<std::size_t>(batches[b].members[static_cast<std::size_t>(k)])].path},
                   {"kind", "off_canvas"},
                   {"reason", "the frame's footprint does not meet the global grid"}});
    events.info("SDS_MEGATILE_DONE", {{"phase", "3"},
                                      {"megatile", b},
                                      {"frames", t.stats.frames_used},
                                      {"covered_pixels", t.stats.covered_pixels},
                                      {"rejected_fraction", t.stats.reject.rejected_fraction()},
                                      {"seconds", t.stats.seconds}});
    write_text_atomic(manifest, nlohmann::json{{"key", t.art.key}}.dump());
    tiles.push_back(std::move(t));
    counter.advance();
  }
  return tiles;
}

struct StackScratch {
  RejectScratch reject;
  std::vector<float> samples, weights;
};

// The mega-tile stack, band by band, into `out`.
void stack_megatiles(const std::vector<MegaTile>& tiles, const std::vector<TileCorrection>& corr,
                     const RejectParams& params, double keep_fraction, int band_rows, int workers,
                     const MosaicArtifacts& out, SdsStats& stats) {
  const int W = out.width, H = out.height, C = out.channels, n = static_cast<int>(tiles.size());
  std::vector<std::unique_ptr<CachedFrameReader>> img, wgt, cov;
  for (const auto& t : tiles) {
    img.push_back(std::make_unique<CachedFrameReader>(t.art.image, W, H, C));
    wgt.push_back(std::make_unique<CachedFrameReader>(t.art.weight, W, H, 1));
    cov.push_back(std::make_unique<CachedFrameReader>(t.art.coverage, W, H, 1));
  }
  // Peak of the summed coverage first: the mask threshold is relative to it.
  double peak = 0.0;
  {
    std::vector<float> sum(static_cast<std::size_t>(W) * band_rows), row(sum.size());
    for (int y0 = 0; y0 < H; y0 += band_rows) {
      const int nr = std::min(band_rows, H - y0);
      const std::size_t np = static_cast<std::size_t>(W) * nr;
      std::fill(sum.begin(), sum.begin() + static_cast<std::ptrdiff_t>(np), 0.0f);
      for (int k = 0; k < n; ++k) {
        cov[k]->read_rows(y0, nr, row);
        for (std::size_t i = 0; i < np; ++i) sum[i] += row[i];
      }
      for (std::size_t i = 0; i < np; ++i) peak = std::max(peak, static_cast<double>(sum[i]));
    }
  }
  const double threshold = keep_fraction * peak;
  MosaicWriters writers(out);
  tbb::task_arena arena(std::max(1, workers));
  tbb::enumerable_thread_specific<StackScratch> scratch;
  for (int y0 = 0; y0 < H; y0 += band_rows) {
    const int nr = std::min(band_rows, H - y0);
    const std::size_t np = static_cast<std::size_t>(W) * nr;
    std::vector<std::vector<float>> ti(n, std::vector<float>(np * C)), tw(n, std::vector<float>(np)),
        tc(n, std::vector<float>(np));
    for (int k = 0; k < n; ++k) {
      img[k]->read_rows(y0, nr, ti[k]);
      wgt[k]->read_rows(y0, nr, tw[k]);
      cov[k]->read_rows(y0, nr, tc[k]);
    }
    stats.peak_band_bytes = std::max<std::uint64_t>(stats.peak_band_bytes, np * sizeof(float) * (n * (C + 2) + C + 2));
    ImageF o(C, W, nr, kNaN);
    std::vector<float> ow(np, 0.0f), oc(np, 0.0f);
    std::vector<RejectStats> row_stats(static_cast<std::size_t>(nr));
    std::vector<long long> row_masked(static_cast<std::size_t>(nr), 0);
    arena.execute([&] {
      tbb::parallel_for(tbb::blocked_range<int>(0, nr), [&](const tbb::blocked_range<int>& r) {
        StackScratch& s = scratch.local();
        s.samples.resize(static_cast<std::size_t>(n));
        s.weights.resize(static_cast<std::size_t>(n));
        for (int y = r.begin(); y < r.end(); ++y) {
          RejectStats& rs = row_stats[static_cast<std::size_t>(y)];
          for (int x = 0; x < W; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * W + x;
            double csum = 0.0, wsum = 0.0;
            for (int k = 0; k < n; ++k) {
              csum += tc[k][i];
              wsum += tw[k][i];
            }
            oc[i] = static_cast<float>(csum);
            ow[i] = static_cast<float>(wsum);
            if (csum <= 0.0) continue;
            if (csum < threshold) {
              ++row_masked[static_cast<std::size_t>(y)];
              continue;
            }
            for (int c = 0; c < C; ++c) {
              int m = 0;
              for (int k = 0; k < n; ++k) {
                const float v = ti[k][c * np + i];
                if (!std::isfinite(v) || tc[k][i] <= 0.0f) continue;
                s.samples[m] = static_cast<float>(corr[k].gain[c] * v + corr[k].offset[c]);
                s.weights[m] = tc[k][i];
                ++m;
              }
              const PixelResult pr = combine_pixel(s.samples.data(), s.weights.data(), m, params, s.reject);
              o.plane(c)[i] = pr.value;
              ++rs.pixels;
              rs.samples += static_cast<std::uint64_t>(m);
              rs.kept += static_cast<std::uint64_t>(pr.kept);
              rs.rejected_low += static_cast<std::uint64_t>(pr.rejected_low);
              rs.rejected_high += static_cast<std::uint64_t>(pr.rejected_high);
              if (m == 0) ++rs.empty_pixels;
            }
          }
        }
      });
    });
    for (std::size_t y = 0; y < row_stats.size(); ++y) {
      stats.final_reject += row_stats[y];
      stats.masked_pixels += row_masked[y];
    }
    writers.image.write_rows(y0, nr, o.data.data());
    writers.weight.write_rows(y0, nr, ow.data());
    writers.coverage.write_rows(y0, nr, oc.data());
  }
  writers.commit();
}

MosaicArtifacts run_sds_impl(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                             SdsStats& stats) {
  EventStream& events = ctx.events();
  if (frames.empty()) throw SdsFailed("SDS: no frame to batch");
  const fs::path dir = ctx.cache_dir / "sds";
  MosaicArtifacts a = mosaic_in(dir, grid, frames.front().channels,
                                hash_hex(frames_signature(frames) + grid_cards(grid) +
                                         ctx.config.hash_of(phase1_config_keys()) + ctx.config.hash_of(sds_config_keys())));
  const fs::path manifest = dir / "sds_manifest.json";
  if (reuse_mosaic(ctx, manifest, a)) return a;

  JobSizes job = frames_onto_grid_job(frames, grid, a.channels);
  std::vector<MegaTile> tiles;
  ParallelPlan plan;
  {
    PhaseScope scope(*ctx.progress, "3", "SDS mega-tiles");
    stats.batches = plan_sds_batches(frames, grid, sds_batch_options(ctx.config));
    if (stats.batches.empty()) throw SdsFailed("SDS: no batch could be formed");
    nlohmann::json sizes = nlohmann::json::array(), covs = nlohmann::json::array();
    for (const auto& b : stats.batches) {
      sizes.push_back(b.members.size());
      covs.push_back(b.coverage);
    }
    events.info("SDS_BATCHES", {{"phase", "3"}, {"batches", stats.batches.size()}, {"sizes", sizes}, {"coverage", covs}});
    job.megatiles = stats.batches.size();
    plan = make_plan(PlanKind::sds_megatiles, ctx.caps, ctx.config, job);
    emit_plan_summary(events, "3", plan);
    tiles = build_megatiles(ctx, frames, grid, stats.batches, plan, dir);
  }
  PhaseScope scope(*ctx.progress, "5", "SDS mega-tile stack");
  int used = 0;
  for (const auto& t : tiles) {
    stats.megatiles.push_back(t.stats);
    used += t.art.reused || t.stats.frames_used > 0 ? 1 : 0;
  }
  if (used == 0) throw SdsFailed("SDS: every mega-tile is empty (no frame lands on the global grid)");

  std::vector<CoaddFrame> mt;
  for (const auto& t : tiles) mt.push_back(CoaddFrame{t.art.image, t.art.width, t.art.height, t.art.channels, grid.wcs});
  const RoutePhotometry p =
      solve_route_photometry(mt, 4 * kRoutePreviewSide, route_harmonize_options(ctx.config), plan.cpu_workers);
  stats.megatile_corrections = p.corrections;
  if (p.disconnected > 0)
    throw SdsFailed(fmt::format("SDS: {} mega-tile(s) share no usable overlap with the others", p.disconnected));
  nlohmann::json gains = nlohmann::json::array();
  for (const auto& c : p.corrections) gains.push_back({c.gain, c.offset});
  events.info(pipeline_keys::kPhotometrySolved,
              {{"phase", "5"}, {"inputs", "megatiles"}, {"anchor", p.anchor}, {"pairs", p.pairs}, {"corrections", gains}});

  const int W = grid.width, C = a.channels, n = static_cast<int>(tiles.size());
  const long long override_rows = ctx.config.get_int("global_coadd_rows_per_chunk");
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(W) * sizeof(float) * (n * (C + 2) + C + 2);
  const int rows = override_rows > 0 ? static_cast<int>(override_rows)
                                     : static_cast<int>(std::clamp<std::uint64_t>(
                                           plan.max_chunk_bytes / std::max<std::uint64_t>(1, row_bytes), 1,
                                           static_cast<std::uint64_t>(grid.height)));
  stats.band_rows = std::min(rows, grid.height);
  std::error_code ec;
  fs::remove(manifest, ec);
  stack_megatiles(tiles, p.corrections, megatile_reject(ctx.config), ctx.config.get_double("sds_min_coverage_keep"),
                  stats.band_rows, plan.cpu_workers, a, stats);
  if (ctx.cancelled()) throw RunCancelled();
  events.info(pipeline_keys::kMosaicAssembled, {{"phase", "5"},
                                                {"method", "sds"},
                                                {"width", grid.width},
                                                {"height", grid.height},
                                                {"megatiles", n},
                                                {"band_rows", stats.band_rows},
                                                {"masked_pixels", stats.masked_pixels},
                                                {"rejected_fraction", stats.final_reject.rejected_fraction()}});
  write_text_atomic(manifest, nlohmann::json{{"key", a.key}, {"width", a.width}, {"height", a.height},
                                             {"channels", a.channels}}.dump(1));
  return a;
}

}  // namespace

SdsBatchOptions sds_batch_options(const Config& cfg) {
  SdsBatchOptions o;
  o.coverage_target = cfg.get_double("sds_coverage_target");
  o.min_batch = static_cast<int>(cfg.get_int("sds_min_batch"));
  o.max_batch = static_cast<int>(cfg.get_int("sds_max_batch"));
  o.by_night = cfg.get_bool("sds_batch_by_night");
  o.night_gap_s = cfg.get_double("sds_night_gap_h") * 3600.0;
  return o;
}

std::vector<SdsBatch> plan_sds_batches(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                       const SdsBatchOptions& o) {
  const auto cells = frame_cells(frames, grid);
  std::vector<int> all;
  for (const auto& c : cells) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  const double reachable = static_cast<double>(std::unique(all.begin(), all.end()) - all.begin());
  std::vector<SdsBatch> batches;
  const auto nights = nights_of(frames, o);
  for (std::size_t night = 0; night < nights.size(); ++night) {
    const std::size_t first_of_night = batches.size();
    SdsBatch cur;
    std::vector<int> covered;
    auto coverage = [&] {
      std::sort(covered.begin(), covered.end());
      covered.erase(std::unique(covered.begin(), covered.end()), covered.end());
      return reachable > 0 ? static_cast<double>(covered.size()) / reachable : 1.0;
    };
    for (int k : nights[night]) {
      cur.members.push_back(k);
      covered.insert(covered.end(), cells[static_cast<std::size_t>(k)].begin(), cells[static_cast<std::size_t>(k)].end());
      cur.coverage = coverage();
      const int size = static_cast<int>(cur.members.size());
      if ((size >= o.min_batch && cur.coverage >= o.coverage_target) || (o.max_batch > 0 && size >= o.max_batch)) {
        cur.night = static_cast<int>(night);
        batches.push_back(std::move(cur));
        cur = SdsBatch{};
        covered.clear();
      }
    }
    if (cur.members.empty()) continue;
    if (static_cast<int>(cur.members.size()) < o.min_batch && batches.size() > first_of_night) {
      SdsBatch& prev = batches.back();  // a short tail joins the previous batch of its night
      covered.clear();
      prev.members.insert(prev.members.end(), cur.members.begin(), cur.members.end());
      for (int k : prev.members)
        covered.insert(covered.end(), cells[static_cast<std::size_t>(k)].begin(), cells[static_cast<std::size_t>(k)].end());
      prev.coverage = coverage();
    } else {
      cur.night = static_cast<int>(night);
      batches.push_back(std::move(cur));
    }
  }
  return batches;
}

std::vector<std::string_view> sds_config_keys() {
  auto keys = global_coadd_config_keys();
  for (std::string_view k : {"sds_batch_by_night", "sds_night_gap_h", "sds_coverage_target", "sds_min_batch",
                             "sds_max_batch", "sds_min_coverage_keep", "stack_reject_algo", "stack_kappa_low",
                             "stack_kappa_high", "stack_max_iterations", "stack_final_combine"})
    keys.push_back(k);
  return keys;
}

MosaicArtifacts run_sds(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid) {
  SdsStats stats;
  return run_sds(ctx, frames, grid, stats);
}

MosaicArtifacts run_sds(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                        SdsStats& stats) {
  try {
    return run_sds_impl(ctx, frames, grid, stats);
  } catch (const RunCancelled&) {
    throw;
  } catch (const SdsFailed&) {
    throw;
  } catch (const std::exception& e) {
    throw SdsFailed(std::string("SDS failed: ") + e.what());
  }
}

}  // namespace zm
