#include "reproject/coadd.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "gpu/coadd_device.hpp"
#include "gpu/device_probe.hpp"
#include "io/fits_reader.hpp"
#include "reproject/coadd_io.hpp"
#include "reproject/coadd_tile.hpp"
#include "sched/cancel_token.hpp"

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
std::uint64_t band_bytes(int out_width, int rows, int channels) {
  const std::uint64_t px = u64(static_cast<long long>(out_width) * rows);
  return px * ((channels + 2) * sizeof(double) + kPixelMapBytesPerPixel + (channels + 2) * sizeof(float));
}
int norm_rows(int out_width) {
  return static_cast<int>(std::max<std::uint64_t>(1, kNormPixels / static_cast<std::uint64_t>(std::max(1, out_width))));
}
int incremental_chunk_cols(int out_width, int tw, int th) { return std::max(1, std::min(out_width, tw + th)); }

// Work items [0, n) computed out of order by up to `in_flight` at once, finished in order on one thread at a time
// (progress, counters). Stops admitting new items once cancel is requested; returns false then.
template <class Work, class Done>
bool run_ordered(int n, int in_flight, const CancelToken* cancel, Work&& work, Done&& done) {
  int next = 0;
  bool stopped = false;
  if (n <= 0) return true;
  tbb::parallel_pipeline(
      static_cast<std::size_t>(std::max(1, in_flight)),
      tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order,
                                  [&](tbb::flow_control& fc) -> int {
                                    if (next < n && cancel != nullptr && cancel->requested()) stopped = true;
                                    if (next >= n || stopped) {
                                      fc.stop();
                                      return -1;
                                    }
                                    return next++;
                                  }) &
          tbb::make_filter<int, int>(tbb::filter_mode::parallel,
                                     [&](int i) {
                                       work(i);
                                       return i;
                                     }) &
          tbb::make_filter<int, void>(tbb::filter_mode::serial_in_order, [&](int i) { done(i); }));
  return !stopped;
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
void write_rows(int y0, int rows, int width, int height, int channels, const std::vector<float>& img,
                const std::vector<float>& wgt, const std::vector<float>& cov, Outputs& out) {
  const std::size_t n = static_cast<std::size_t>(rows) * width;
  const std::uint64_t row_off = static_cast<std::uint64_t>(y0) * width * sizeof(float);
  const std::uint64_t plane_bytes = static_cast<std::uint64_t>(width) * height * sizeof(float);
  for (int c = 0; c < channels; ++c)
    out.image.pwrite(c * plane_bytes + row_off, img.data() + c * n, n * sizeof(float));
  out.weight.pwrite(row_off, wgt.data(), n * sizeof(float));
  out.coverage.pwrite(row_off, cov.data(), n * sizeof(float));
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
    for (int c = 0; c < channels; ++c)
      img[c * n + i] = ok ? static_cast<float>(base[c * acc.plane + i] / w) : std::numeric_limits<float>::quiet_NaN();
    wgt[i] = static_cast<float>(w);
    cov[i] = static_cast<float>(csum[i]);
  }
  write_rows(y0, rows, width, height, channels, img, wgt, cov, out);
  return covered;
}

gpu::Rect to_gpu(const PixelRect& r) { return gpu::Rect{r.x0, r.y0, r.cols, r.rows}; }

struct Run {
  CoaddContext ctx;
  const CoaddOptions& opt;
  int workers = 1;
  int tile_w = 0;
  int tile_h = 0;
  std::vector<PreparedTile> prepared;
  long long done = 0;
  long long total = 0;
  CoaddStats stats;
  // GPU state: wanted and fitting, not yet broken by a device error; one device job at a time.
  bool gpu = false;
  std::atomic<bool> gpu_broken{false};
  std::mutex gpu_lock;
  std::mutex note_lock;
  std::atomic<long long> gpu_units{0};
  std::atomic<long long> cpu_fallbacks{0};
  std::unique_ptr<gpu::DeviceAccumulator> chunk_device;  // the incremental method's, reused for every chunk

  explicit Run(const CoaddOptions& o) : opt(o) {}

  void tick() {
    ++done;
    if (opt.progress) opt.progress(done, total);
  }
  std::uint64_t budget() const { return opt.memory_budget_bytes; }
  int fit(std::uint64_t unit) const {
    if (budget() == 0 || unit == 0) return workers;
    return static_cast<int>(std::clamp<std::uint64_t>(budget() / unit, 1, static_cast<std::uint64_t>(workers)));
  }

  bool prepare() {
    const int n = static_cast<int>(ctx.tiles->size());
    prepared.resize(n);
    const int in_flight = fit(prep_bytes(tile_w, tile_h));
    stats.peak_bytes_estimate = std::max(stats.peak_bytes_estimate, in_flight * prep_bytes(tile_w, tile_h));
    const bool ok = run_ordered(
        n, in_flight, opt.cancel, [&](int i) { prepared[i] = coadd_detail::prepare_tile(ctx, i); },
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

  bool gpu_on() const { return gpu && !gpu_broken.load(); }

  // A device error sends this unit and every later one to the CPU, which recomputes it from scratch.
  void gpu_failed(const char* what) {
    gpu_broken = true;
    ++cpu_fallbacks;
    std::lock_guard<std::mutex> lock(note_lock);
    if (stats.gpu_note.empty()) stats.gpu_note = std::string("GPU error, continued on the CPU: ") + what;
  }

  // Bands in flight the VRAM budget allows (0: not even one band fits).
  int gpu_bands_fitting(int rows) const {
    const long long band_px = static_cast<long long>(ctx.out_width) * rows;
    const std::uint64_t unit =
        gpu::device_bytes(band_px, ctx.channels, static_cast<long long>(tile_w) * tile_h, band_px);
    if (opt.gpu_budget_bytes == 0) return workers;
    return static_cast<int>(std::min<std::uint64_t>(opt.gpu_budget_bytes / unit, static_cast<std::uint64_t>(workers)));
  }

  // One band on the GPU: the host loads each tile's rows and map, the device adds them and normalises.
  bool band_on_gpu(const PixelRect& band, Outputs& out, long long& covered) {
    const int C = ctx.channels;
    const std::size_t n = static_cast<std::size_t>(band.area());
    try {
      gpu::DeviceAccumulator dev(to_gpu(band), C, lanczos3_weight_table(), kLanczosPhases);
      for (const PreparedTile& t : prepared) {
        if (!t.used()) continue;
        const PixelRect r = coadd_detail::intersect(band, t.bbox);
        if (r.empty()) continue;
        const coadd_detail::RectInputs in = coadd_detail::load_rect_inputs(ctx, t, r);
        std::lock_guard<std::mutex> lock(gpu_lock);
        coadd_detail::add_to_device(ctx, t, r, in, dev);
      }
      std::vector<float> img(n * C);
      std::vector<float> wgt(n);
      std::vector<float> cov(n);
      {
        std::lock_guard<std::mutex> lock(gpu_lock);
        covered = dev.finish(img.data(), wgt.data(), cov.data());
      }
      write_rows(band.y0, band.rows, ctx.out_width, ctx.out_height, C, img, wgt, cov, out);
      ++gpu_units;
      return true;
    } catch (const gpu::DeviceError& e) {
      gpu_failed(e.what());
      return false;
    }
  }

  // One incremental chunk on the GPU: the canvas rows go up, the tile is added, the sums come back. The host
  // accumulators change only once the device has delivered, so a failure leaves them for the CPU untouched.
  bool chunk_on_gpu(const PreparedTile& t, const PixelRect& r, const AccumView& view, long long capacity) {
    try {
      const coadd_detail::RectInputs in = coadd_detail::load_rect_inputs(ctx, t, r);
      if (in.empty()) return true;
      const int C = ctx.channels;
      const std::size_t n = static_cast<std::size_t>(r.area());
      std::vector<double> sums(n * (C + 2));
      std::lock_guard<std::mutex> lock(gpu_lock);
      if (!chunk_device) {
        const gpu::Rect cap{r.x0, r.y0, static_cast<int>(capacity), 1};
        chunk_device = std::make_unique<gpu::DeviceAccumulator>(cap, C, lanczos3_weight_table(), kLanczosPhases);
      }
      chunk_device->rebase(to_gpu(r));
      chunk_device->load(view.base, view.plane, view.row_stride, view.x0, view.y0);
      coadd_detail::add_to_device(ctx, t, r, in, *chunk_device);
      chunk_device->store(sums.data(), n, static_cast<std::size_t>(r.cols), r.x0, r.y0);
      for (int k = 0; k < C + 2; ++k)
        for (int y = 0; y < r.rows; ++y)
          std::copy_n(sums.data() + k * n + static_cast<std::size_t>(y) * r.cols, r.cols,
                      view.base + k * view.plane +
                          static_cast<std::size_t>(r.y0 + y - view.y0) * view.row_stride + (r.x0 - view.x0));
      ++gpu_units;
      return true;
    } catch (const gpu::DeviceError& e) {
      chunk_device.reset();
      gpu_failed(e.what());
      return false;
    }
  }

  bool reproject_coadd(Outputs& out) {
    const int W = ctx.out_width;
    const int H = ctx.out_height;
    const int C = ctx.channels;
    const int rows = band_rows;
    const int nb = bands;
    const std::uint64_t unit = coadd_footprint(CoaddMethod::ReprojectCoadd, W, rows, C, tile_w, tile_h);
    int in_flight = fit(unit);
    if (gpu) {
      const int fitting = gpu_bands_fitting(rows);
      if (fitting < 1) {
        gpu = false;
        stats.gpu_note = "one band of " + std::to_string(rows) + " rows does not fit the GPU budget";
      } else {
        in_flight = std::min(in_flight, fitting);
      }
    }
    stats.peak_bytes_estimate = std::max(stats.peak_bytes_estimate, in_flight * unit);
    std::vector<long long> covered(nb, 0);
    return run_ordered(
        nb, in_flight, opt.cancel,
        [&](int b) {
          const PixelRect band{0, b * rows, W, std::min(rows, H - b * rows)};
          if (gpu_on() && band_on_gpu(band, out, covered[b])) return;
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
    if (gpu && opt.gpu_budget_bytes > 0 &&
        gpu::device_bytes(static_cast<long long>(rows) * chunk_cols, C, static_cast<long long>(tile_w) * tile_h,
                          static_cast<long long>(rows) * chunk_cols) > opt.gpu_budget_bytes) {
      gpu = false;
      stats.gpu_note = "one chunk does not fit the GPU budget";
    }
    for (const PreparedTile& t : prepared) {
      if (t.used()) {
        for (int y = t.bbox.y0; y < t.bbox.y0 + t.bbox.rows; y += rows) {
          if (opt.cancel != nullptr && opt.cancel->requested()) return false;
          for (int x = t.bbox.x0; x < t.bbox.x0 + t.bbox.cols; x += chunk_cols) {
            const PixelRect r{x, y, std::min(chunk_cols, t.bbox.x0 + t.bbox.cols - x),
                              std::min(rows, t.bbox.y0 + t.bbox.rows - y)};
            if (gpu_on() && chunk_on_gpu(t, r, view, static_cast<long long>(rows) * chunk_cols)) continue;
            coadd_detail::accumulate_rect(ctx, t, r, view);
          }
          release_rows(accum, plane, C, W, y, std::min(rows, t.bbox.y0 + t.bbox.rows - y));
        }
      }
      tick();
    }
    std::vector<long long> covered(nb, 0);
    return run_ordered(
        nb, fit(norm_bytes_unit(W, C)), opt.cancel,
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

  static std::uint64_t norm_bytes_unit(int W, int C) {
    return static_cast<std::uint64_t>(norm_rows(W)) * W * (C + 2) * sizeof(float);
  }
};

}  // namespace

std::uint64_t coadd_footprint(CoaddMethod method, int out_width, int band_rows, int channels, int tile_width,
                              int tile_height) {
  out_width = std::max(0, out_width);
  band_rows = std::max(1, band_rows);
  const std::uint64_t prep = prep_bytes(tile_width, tile_height);
  const std::uint64_t tile_rows = tile_rows_bytes(tile_width, tile_height, channels);
  if (method == CoaddMethod::ReprojectCoadd)
    return std::max(prep, band_bytes(out_width, band_rows, channels) + tile_rows);
  const std::uint64_t chunk =
      u64(static_cast<long long>(band_rows) * incremental_chunk_cols(out_width, tile_width, tile_height)) *
          kPixelMapBytesPerPixel +
      tile_rows;
  const std::uint64_t norm =
      u64(static_cast<long long>(norm_rows(out_width)) * out_width) * (channels + 2) * sizeof(float);
  return std::max({prep, chunk, norm});
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
  run.gpu = options.use_gpu && built_with_cuda();
  if (options.use_gpu && !built_with_cuda()) run.stats.gpu_note = "built without CUDA";

  tbb::task_arena arena(run.workers);
  arena.execute([&] {
    if (!run.prepare()) {
      run.stats.cancelled = true;
      return;
    }
    Outputs out(outputs, out_width, out_height, channels);
    const bool ok = incremental ? run.incremental(out) : run.reproject_coadd(out);
    if (!ok) {
      run.stats.cancelled = true;
      return;
    }
    out.commit();
  });
  run.chunk_device.reset();
  run.prepared.clear();  // removes the scratch planes
  run.stats.gpu_units = run.gpu_units.load();
  run.stats.cpu_fallbacks = run.cpu_fallbacks.load();
  run.stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run.stats;
}

}  // namespace zm
