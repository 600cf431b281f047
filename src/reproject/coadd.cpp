#include "reproject/coadd.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "gpu/coadd_device.hpp"
#include "gpu/device_probe.hpp"
#include "io/fits_reader.hpp"
#include "reproject/coadd_gpu.hpp"
#include "reproject/coadd_io.hpp"
#include "reproject/coadd_tile.hpp"
#include "reproject/resample_core.hpp"
#include "sched/cancel_token.hpp"
#include "sched/scheduler.hpp"
#include "sched/worker_arena.hpp"

namespace zm {
namespace {

using coadd_detail::AccumView;
using coadd_detail::CoaddContext;
using coadd_detail::PreparedTile;
using coadd_io::RawOutput;

// The Incremental normalisation pass converts at most this many output pixels at a time.
constexpr std::uint64_t kNormPixels = 1u << 18;

std::uint64_t u64(long long v) { return v > 0 ? static_cast<std::uint64_t>(v) : 0; }

std::uint64_t prep_bytes(int tw, int th) { return u64(static_cast<long long>(tw) * th) * 17; }
std::uint64_t tile_rows_bytes(int tw, int th, int channels) {
  return u64(static_cast<long long>(tw) * th) * (channels + 2) * sizeof(float);
}
// Per output pixel of a ReprojectCoadd band: accumulators, the pixel map of a rectangle, the normalised output.
std::uint64_t band_pixel_bytes(int channels) {
  return (channels + 2) * sizeof(double) + kPixelMapBytesPerPixel + (channels + 2) * sizeof(float);
}
int norm_rows(int out_width) {
  return static_cast<int>(std::max<std::uint64_t>(1, kNormPixels / static_cast<std::uint64_t>(std::max(1, out_width))));
}
// One Incremental normalisation step: norm_rows full-width rows of float outputs.
std::uint64_t norm_bytes(int out_width, int channels) {
  return u64(static_cast<long long>(norm_rows(out_width)) * out_width) * (channels + 2) * sizeof(float);
}
int incremental_chunk_cols(int out_width, int tw, int th) { return std::max(1, std::min(out_width, tw + th)); }

// coadd_item_price without the formula text (coadd_footprint is called in loops).
CoaddItemPrice price_of(CoaddMethod method, int out_width, int channels, int tile_width, int tile_height) {
  out_width = std::max(0, out_width);
  CoaddItemPrice p;
  p.fixed_bytes = tile_rows_bytes(tile_width, tile_height, channels);
  p.floor_bytes = prep_bytes(tile_width, tile_height);
  if (method == CoaddMethod::ReprojectCoadd) {
    p.row_bytes = u64(out_width) * band_pixel_bytes(channels);
  } else {
    p.row_bytes = u64(incremental_chunk_cols(out_width, tile_width, tile_height)) * kPixelMapBytesPerPixel;
    p.floor_bytes = std::max(p.floor_bytes, norm_bytes(out_width, channels));
  }
  return p;
}

struct Outputs {
  RawOutput image;
  RawOutput weight;
  RawOutput coverage;
  Outputs(const CoaddOutputs& o, int w, int h, int c)
      : image(o.image, u64(static_cast<long long>(w) * h) * c * sizeof(float)),
        weight(o.weight, u64(static_cast<long long>(w) * h) * sizeof(float)),
        coverage(o.coverage, u64(static_cast<long long>(w) * h) * sizeof(float)) {}
  void commit() {
    image.commit();
    weight.commit();
    coverage.commit();
  }
};

// Writes output rows [y0, y0 + rows) (full width) from float planes: image channels x n, weight n, coverage n.
void write_rows(int y0, int rows, int width, int height, int channels, const float* img, const float* wgt,
                const float* cov, Outputs& out) {
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  const std::uint64_t row_off = static_cast<std::uint64_t>(y0) * width * sizeof(float);
  const std::uint64_t plane_bytes = static_cast<std::uint64_t>(width) * height * sizeof(float);
  for (int c = 0; c < channels; ++c) out.image.pwrite(c * plane_bytes + row_off, img + c * n, n * sizeof(float));
  out.weight.pwrite(row_off, wgt, n * sizeof(float));
  out.coverage.pwrite(row_off, cov, n * sizeof(float));
}

// Normalises accumulator rows [y0, y0 + rows) (full output width, view `acc`) and writes them. Returns the
// number of covered pixels. The same arithmetic serves both methods (and the GPU's finish kernel).
long long finish_rows(const AccumView& acc, int y0, int rows, int width, int height, int channels, Outputs& out) {
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  std::vector<float> img(n * channels);
  std::vector<float> wgt(n);
  std::vector<float> cov(n);
  const double* base = acc.base + static_cast<std::size_t>(y0 - acc.y0) * acc.row_stride;
  const double* wsum = base + static_cast<std::size_t>(channels) * acc.plane;
  const double* csum = wsum + acc.plane;
  long long covered = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = wsum[i];
    const bool ok = w > 0.0;
    covered += ok ? 1 : 0;
    for (int c = 0; c < channels; ++c) img[c * n + i] = resample::normalised(base[c * acc.plane + i], w);
    wgt[i] = static_cast<float>(w);
    cov[i] = static_cast<float>(csum[i]);
  }
  write_rows(y0, rows, width, height, channels, img.data(), wgt.data(), cov.data(), out);
  return covered;
}

struct Run {
  CoaddContext ctx;
  const CoaddOptions& opt;
  int workers = 1;
  std::unique_ptr<WorkerArena> arena;  // parallel work outside run_ordered's items (incremental sweep, GPU path)
  int tile_w = 0;
  int tile_h = 0;
  std::vector<PreparedTile> prepared;
  long long done = 0;
  long long total = 0;
  CoaddStats stats;

  explicit Run(const CoaddOptions& o) : opt(o) {}

  void tick() {
    ++done;
    if (opt.progress) opt.progress(done, total);
  }
  std::uint64_t budget() const { return opt.memory_budget_bytes; }
  // Items the memory budget admits at once when each holds `unit` bytes (what run_ordered's admission allows).
  int fit(std::uint64_t unit) const {
    if (budget() == 0 || unit == 0) return workers;
    return static_cast<int>(std::clamp<std::uint64_t>(budget() / unit, 1, static_cast<std::uint64_t>(workers)));
  }

  // Items [0, n) of `unit` bytes each through the scheduler (sched/scheduler.hpp): computed out of order on the
  // workers under the memory budget, done(i) called in order on this thread (progress, counters). An item's
  // exception is rethrown as is. Returns false when cancelled.
  template <class Work, class Done>
  bool run_ordered(int n, std::uint64_t unit, Work&& work, Done&& done) const {
    IndexedItems items;
    items.count = static_cast<std::size_t>(std::max(0, n));
    items.footprint = [unit](std::size_t) { return unit; };
    items.work = [&work](std::size_t i, WorkContext&) { work(static_cast<int>(i)); };
    items.commit = [&done](std::size_t i) { done(static_cast<int>(i)); };
    items.discard = [](std::size_t) {};
    SchedOptions so;
    so.workers = workers;
    so.memory_budget_bytes = budget();
    so.on_error = OnItemError::rethrow;
    so.cancel = opt.cancel;
    return !run_indexed(items, so).cancelled;
  }

  bool prepare() {
    const int n = static_cast<int>(ctx.tiles->size());
    prepared.resize(n);
    const std::uint64_t unit = prep_bytes(tile_w, tile_h);
    stats.peak_bytes_estimate = std::max(stats.peak_bytes_estimate, fit(unit) * unit);
    const bool ok = run_ordered(
        n, unit, [&](int i) { prepared[i] = coadd_detail::prepare_tile(ctx, i); },
        [&](int i) {
          stats.tiles_used += prepared[i].used() ? 1 : 0;
          tick();
        });
    return ok;
  }

  // Band geometry and progress units, fixed before any work so that `total` never changes.
  int band_rows = 1;
  int bands = 0;
  void plan(bool incremental) {
    const int W = ctx.out_width;
    const int n = static_cast<int>(ctx.tiles->size());
    if (incremental) {
      band_rows = std::max(1, opt.band_rows);
      bands = (ctx.out_height + norm_rows(W) - 1) / norm_rows(W);
      total = 2LL * n + bands;
    } else {
      band_rows = coadd_band_rows_for_budget(W, std::max(1, opt.band_rows), ctx.channels, tile_w, tile_h, budget());
      bands = (ctx.out_height + band_rows - 1) / band_rows;
      total = static_cast<long long>(n) + bands;
    }
    stats.bands = bands;
  }

  // The GPU path (coadd_gpu.hpp) when it was asked for and fits; on a device error the chosen CPU method redoes
  // the whole output (every row is rewritten, so nothing of the failed attempt survives).
  bool gpu_then_cpu(Outputs& out, bool incremental) {
    const coadd_detail::GpuCoaddPlan gp =
        coadd_detail::plan_gpu_coadd(ctx, prepared, opt.gpu_budget_bytes, norm_rows(ctx.out_width));
    if (!gp.fits()) {
      stats.gpu_note = gp.note;
      return cpu(out, incremental);
    }
    const long long cpu_total = total;
    total = done + gp.units;
    const int cpu_bands = stats.bands;
    stats.bands = gp.bands;
    coadd_detail::GpuRunIo io;
    io.write_rows = [&](int y0, int rows, const float* img, const float* wgt, const float* cov) {
      write_rows(y0, rows, ctx.out_width, ctx.out_height, ctx.channels, img, wgt, cov, out);
    };
    io.tick = [&] { tick(); };
    io.cancel = opt.cancel;
    io.load_in_flight = fit(tile_rows_bytes(tile_w, tile_h, ctx.channels));
    io.fail_after_adds = opt.gpu_fail_after_adds;
    try {
      const coadd_detail::GpuCoaddResult r = arena->run([&] { return coadd_detail::gpu_coadd(ctx, prepared, gp, io); });
      stats.gpu_units = r.bands_done;
      stats.covered_pixels = r.covered;
      stats.gpu_load_seconds = r.load_seconds;
      stats.gpu_add_seconds = r.add_seconds;
      stats.gpu_finish_seconds = r.finish_seconds;
      stats.peak_bytes_estimate =
          std::max(stats.peak_bytes_estimate, io.load_in_flight * tile_rows_bytes(tile_w, tile_h, ctx.channels) +
                                                  2 * static_cast<std::uint64_t>(gp.finish_rows) * ctx.out_width *
                                                      (ctx.channels + 2) * sizeof(float));
      return !r.cancelled;
    } catch (const gpu::DeviceError& e) {
      stats.gpu_note = std::string("GPU error, redone on the CPU: ") + e.what();
      stats.cpu_fallbacks = 1;
      stats.gpu_units = 0;
      stats.covered_pixels = 0;
      stats.bands = cpu_bands;
      total = done + (cpu_total - static_cast<long long>(ctx.tiles->size()));
      return cpu(out, incremental);
    }
  }

  bool cpu(Outputs& out, bool incremental) { return incremental ? this->incremental(out) : reproject_coadd(out); }

  bool reproject_coadd(Outputs& out) {
    const int W = ctx.out_width;
    const int H = ctx.out_height;
    const int C = ctx.channels;
    const int rows = band_rows;
    const int nb = bands;
    const std::uint64_t unit = coadd_footprint(CoaddMethod::ReprojectCoadd, W, rows, C, tile_w, tile_h);
    stats.peak_bytes_estimate = std::max(stats.peak_bytes_estimate, fit(unit) * unit);
    std::vector<long long> covered(nb, 0);
    return run_ordered(
        nb, unit,
        [&](int b) {
          const PixelRect band{0, b * rows, W, std::min(rows, H - b * rows)};
          std::vector<double> acc(static_cast<std::size_t>(C + 2) * band.area(), 0.0);
          const AccumView view{acc.data(), static_cast<std::size_t>(band.area()), static_cast<std::size_t>(W), 0,
                               band.y0};
          for (const PreparedTile& t : prepared) {
            if (!t.used()) continue;
            coadd_detail::accumulate_rect(ctx, t, coadd_detail::intersect(band, t.bbox), view);
          }
          covered[b] = finish_rows(view, band.y0, band.rows, W, H, C, out);
        },
        [&](int b) {
          stats.covered_pixels += covered[b];
          tick();
        });
  }

  bool incremental(Outputs& out) {
    const int W = ctx.out_width;
    const int H = ctx.out_height;
    const int C = ctx.channels;
    const int rows = band_rows;
    const int chunk_cols = incremental_chunk_cols(W, tile_w, tile_h);
    const int nrows = norm_rows(W);
    const int nb = bands;
    stats.peak_bytes_estimate = std::max(
        stats.peak_bytes_estimate, coadd_footprint(CoaddMethod::Incremental, W, rows, C, tile_w, tile_h));
    const std::size_t plane = static_cast<std::size_t>(W) * H;
    coadd_io::ScratchFile accum(ctx.scratch_dir, "accum", static_cast<std::uint64_t>(plane) * (C + 2) * sizeof(double));
    const AccumView view{static_cast<double*>(accum.map()), plane, static_cast<std::size_t>(W), 0, 0};
    const bool swept = arena->run([&] {
      for (const PreparedTile& t : prepared) {
        if (t.used()) {
          for (int y = t.bbox.y0; y < t.bbox.y0 + t.bbox.rows; y += rows) {
            if (opt.cancel != nullptr && opt.cancel->requested()) return false;
            for (int x = t.bbox.x0; x < t.bbox.x0 + t.bbox.cols; x += chunk_cols) {
              const PixelRect r{x, y, std::min(chunk_cols, t.bbox.x0 + t.bbox.cols - x),
                                std::min(rows, t.bbox.y0 + t.bbox.rows - y)};
              coadd_detail::accumulate_rect(ctx, t, r, view);
            }
            release_rows(accum, plane, C, W, y, std::min(rows, t.bbox.y0 + t.bbox.rows - y));
          }
        }
        tick();
      }
      return true;
    });
    if (!swept) return false;
    std::vector<long long> covered(nb, 0);
    return run_ordered(
        nb, norm_bytes(W, C),
        [&](int b) {
          const int y0 = b * nrows;
          covered[b] = finish_rows(view, y0, std::min(nrows, H - y0), W, H, C, out);
          release_rows(accum, plane, C, W, y0, std::min(nrows, H - y0));
        },
        [&](int b) {
          stats.covered_pixels += covered[b];
          tick();
        });
  }

  // The accumulator file is the incremental method's memory: what a step has touched goes back to the page cache
  // (kept, reclaimable) so the process holds one band of rows at a time, not the whole canvas.
  static void release_rows(const coadd_io::ScratchFile& accum, std::size_t plane, int C, int W, int y0, int rows) {
    const std::uint64_t row = static_cast<std::uint64_t>(W) * sizeof(double);
    for (int k = 0; k < C + 2; ++k)
      accum.release((static_cast<std::uint64_t>(k) * plane * sizeof(double)) + y0 * row, rows * row);
  }
};

}  // namespace

std::uint64_t CoaddItemPrice::bytes(int rows) const {
  return std::max(floor_bytes, fixed_bytes + static_cast<std::uint64_t>(std::max(1, rows)) * row_bytes);
}

CoaddItemPrice coadd_item_price(CoaddMethod method, int out_width, int channels, int tile_width, int tile_height) {
  CoaddItemPrice p = price_of(method, out_width, channels, tile_width, tile_height);
  const std::string tile = std::to_string(tile_width) + " x " + std::to_string(tile_height) + " px";
  const std::string rows = "tile rows " + tile + " x " + std::to_string(channels + 2) + " planes x 4 B = " +
                           std::to_string(p.fixed_bytes) + " B";
  const std::string prep = "preparation " + tile + " x 17 B = " + std::to_string(prep_bytes(tile_width, tile_height)) +
                           " B";
  if (method == CoaddMethod::ReprojectCoadd) {
    p.formula = "coadd band row " + std::to_string(std::max(0, out_width)) + " px x (" + std::to_string(channels + 2) +
                " x 8 B sums + " + std::to_string(kPixelMapBytesPerPixel) + " B map + " +
                std::to_string(channels + 2) + " x 4 B output) = " + std::to_string(p.row_bytes) + " B; " + rows +
                "; " + prep;
  } else {
    p.formula = "incremental chunk row " +
                std::to_string(incremental_chunk_cols(out_width, tile_width, tile_height)) + " px x " +
                std::to_string(kPixelMapBytesPerPixel) + " B map = " + std::to_string(p.row_bytes) + " B; " + rows +
                "; at least max(" + prep + ", normalisation " + std::to_string(norm_bytes(out_width, channels)) +
                " B)";
  }
  return p;
}

std::uint64_t coadd_footprint(CoaddMethod method, int out_width, int band_rows, int channels, int tile_width,
                              int tile_height) {
  return price_of(method, out_width, channels, tile_width, tile_height).bytes(band_rows);
}

int coadd_band_rows_for_budget(int out_width, int band_rows, int channels, int tile_width, int tile_height,
                               std::uint64_t budget) {
  band_rows = std::max(1, band_rows);
  if (budget == 0) return band_rows;
  auto fits = [&](int r) {
    return coadd_footprint(CoaddMethod::ReprojectCoadd, out_width, r, channels, tile_width, tile_height) <= budget;
  };
  if (fits(band_rows)) return band_rows;
  int lo = 1;  // answer is lo when nothing fits
  int hi = band_rows;
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

CoaddStats coadd_tiles(const std::vector<CoaddInput>& tiles, const Wcs& out_wcs, int out_width, int out_height,
                       int channels, const CoaddOptions& options, const CoaddOutputs& outputs) {
  if (out_width <= 0 || out_height <= 0)
    throw std::invalid_argument("coadd_tiles: empty output grid " + std::to_string(out_width) + " x " +
                                std::to_string(out_height));
  if (channels < 1 || channels > 3)
    throw std::invalid_argument("coadd_tiles: channels must be 1..3, got " + std::to_string(channels));
  if (outputs.image.empty() || outputs.weight.empty() || outputs.coverage.empty())
    throw std::invalid_argument("coadd_tiles: every output path must be set");
  const auto t0 = std::chrono::steady_clock::now();

  Run run(options);
  run.workers = std::max(1, options.workers);
  run.arena = std::make_unique<WorkerArena>(run.workers);
  run.ctx.tiles = &tiles;
  run.ctx.out_wcs = &out_wcs;
  run.ctx.out_width = out_width;
  run.ctx.out_height = out_height;
  run.ctx.channels = channels;
  run.ctx.options = &options;
  run.ctx.scratch_dir = !options.scratch_dir.empty() ? options.scratch_dir : outputs.image.parent_path();
  if (run.ctx.scratch_dir.empty()) run.ctx.scratch_dir = ".";
  for (const CoaddInput& t : tiles) {
    int w = t.width;
    int h = t.height;
    if ((w <= 0 || h <= 0) && t.weight > 0.0) {  // the plan did not say: the header does (cheap)
      const FitsImageInfo info = read_fits_info(t.path.string());
      w = info.width;
      h = info.height;
    }
    run.tile_w = std::max(run.tile_w, w);
    run.tile_h = std::max(run.tile_h, h);
  }
  const bool incremental = options.method == CoaddMethod::Incremental;
  run.plan(incremental);
  const bool use_gpu = options.use_gpu && built_with_cuda();
  if (options.use_gpu && !built_with_cuda()) run.stats.gpu_note = "built without CUDA";

  const auto tp = std::chrono::steady_clock::now();
  const bool prepared = run.prepare();
  run.stats.prepare_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tp).count();
  if (prepared) {
    Outputs out(outputs, out_width, out_height, channels);
    const bool ok = use_gpu ? run.gpu_then_cpu(out, incremental) : run.cpu(out, incremental);
    if (ok) out.commit();
    run.stats.cancelled = !ok;
  } else {
    run.stats.cancelled = true;
  }
  run.prepared.clear();  // removes the scratch planes
  run.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run.stats;
}

}  // namespace zm
