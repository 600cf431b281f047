#include "reproject/coadd_gpu.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>

#include "reproject/kernels.hpp"
#include "reproject/pixel_map.hpp"
#include "sched/cancel_token.hpp"

namespace zm::coadd_detail {
namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool touches(const PreparedTile& t, int y0, int rows) {
  return t.used() && t.bbox.y0 < y0 + rows && y0 < t.bbox.y0 + t.bbox.rows;
}

std::uint64_t tile_bytes(const PreparedTile& t) {
  return gpu::DeviceTile::bytes(static_cast<long long>(t.width) * t.height, t.channels, t.has_coverage);
}

// Device bytes of the tiles resident at once: the most any one band touches.
std::uint64_t resident_bytes(const std::vector<PreparedTile>& tiles, int height, int rows) {
  std::uint64_t most = 0;
  for (int y0 = 0; y0 < height; y0 += rows) {
    std::uint64_t sum = 0;
    for (const PreparedTile& t : tiles)
      if (touches(t, y0, rows)) sum += tile_bytes(t);
    most = std::max(most, sum);
  }
  return most;
}

gpu::Rect to_gpu(const PixelRect& r) { return gpu::Rect{r.x0, r.y0, r.cols, r.rows}; }

// Adds tile t over rect: the map from its node grid when every node is finite, else computed on the host.
void add_tile(const CoaddContext& ctx, const PreparedTile& t, const PixelRect& rect, const gpu::DeviceTile& dev,
              gpu::DeviceAccumulator& acc) {
  WcsPixelTransform out_to_in(*ctx.out_wcs, (*ctx.tiles)[t.index].wcs);
  const gpu::Contribution how = contribution(ctx, t);
  if (!t.grid.exact()) {
    const MapNodes nodes = map_nodes(out_to_in, rect, t.grid);
    if (nodes.all_finite()) {
      acc.add(dev, how, to_gpu(rect), nodes.view());
      return;
    }
  }
  const PixelMap map = compute_pixel_map(out_to_in, rect, t.grid);
  acc.add(dev, how, to_gpu(rect), map.x.data(), map.y.data());
}

// Reads the tiles in `wanted` (in_flight at a time, in parallel) and uploads them in order.
void upload_tiles(const CoaddContext& ctx, const std::vector<PreparedTile>& tiles, const std::vector<int>& wanted,
                  int in_flight, std::map<int, std::unique_ptr<gpu::DeviceTile>>& resident) {
  const int step = std::max(1, in_flight);
  for (std::size_t b = 0; b < wanted.size(); b += step) {
    const std::size_t e = std::min(wanted.size(), b + step);
    std::vector<RectInputs> loaded(e - b);
    tbb::parallel_for(std::size_t{0}, e - b,
                      [&](std::size_t k) { loaded[k] = load_whole_tile(ctx, tiles[wanted[b + k]]); });
    for (std::size_t k = 0; k < loaded.size(); ++k) {
      const PreparedTile& t = tiles[wanted[b + k]];
      const RectInputs& in = loaded[k];
      const gpu::TileRows host{in.data.data(), in.weight.data(), t.has_coverage ? in.coverage.data() : nullptr,
                               t.channels,     t.width,          t.height, 0, t.height};
      resident[t.index] = std::make_unique<gpu::DeviceTile>(host);
      loaded[k] = RectInputs{};
    }
  }
}

// Two sets of page-locked finish buffers: the device fills one while a writer thread writes the other.
struct FinishBuffers {
  std::size_t pixels;
  int channels;
  std::unique_ptr<gpu::PinnedFloats> set[2];
  FinishBuffers(std::size_t px, int c) : pixels(px), channels(c) {
    for (auto& s : set) s = std::make_unique<gpu::PinnedFloats>(px * (c + 2));
  }
  float* img(int k) const { return set[k]->data(); }
  float* wgt(int k) const { return set[k]->data() + pixels * channels; }
  float* cov(int k) const { return set[k]->data() + pixels * (channels + 1); }
};

// Normalises and writes a band in steps of `step` rows, each write overlapping the next step's download.
void finish_band(gpu::DeviceAccumulator& acc, const PixelRect& band, int step, const GpuRunIo& io,
                 const FinishBuffers& buf, GpuCoaddResult& res) {
  std::future<void> writing;
  int k = 0;
  for (int r0 = 0; r0 < band.rows; r0 += step, k ^= 1) {
    const int n = std::min(step, band.rows - r0);
    res.covered += acc.finish_rows(r0, n, buf.img(k), buf.wgt(k), buf.cov(k));
    if (writing.valid()) writing.get();  // the other set is free again (and its write error, if any, surfaces)
    const int y0 = band.y0 + r0;
    writing = std::async(std::launch::async, [&io, &buf, y0, n, k] {
      io.write_rows(y0, n, buf.img(k), buf.wgt(k), buf.cov(k));
    });
    io.tick();
  }
  if (writing.valid()) writing.get();
}

}  // namespace

GpuCoaddPlan plan_gpu_coadd(const CoaddContext& ctx, const std::vector<PreparedTile>& tiles, std::uint64_t budget,
                            int finish_rows) {
  GpuCoaddPlan p;
  const int W = ctx.out_width;
  const int H = ctx.out_height;
  int rows = H;
  for (;;) {
    const long long band_px = static_cast<long long>(W) * rows;
    const int fr = std::max(1, std::min(finish_rows, rows));
    const std::uint64_t need =
        gpu::DeviceAccumulator::bytes(band_px, static_cast<long long>(W) * fr, ctx.channels, band_px) +
        resident_bytes(tiles, H, rows);
    if (budget == 0 || need <= budget) {
      p.band_rows = rows;
      p.finish_rows = fr;
      break;
    }
    if (rows == 1) {
      p.note = "one output row and the tiles it touches need " + std::to_string(need >> 20) +
               " MiB, more than the GPU budget of " + std::to_string(budget >> 20) + " MiB: assembled on the CPU";
      return p;
    }
    rows = (rows + 1) / 2;
  }
  p.bands = (H + p.band_rows - 1) / p.band_rows;
  for (int b = 0; b < p.bands; ++b) {
    const int y0 = b * p.band_rows;
    const int n = std::min(p.band_rows, H - y0);
    for (const PreparedTile& t : tiles) p.units += touches(t, y0, n) ? 1 : 0;
    p.units += (n + p.finish_rows - 1) / p.finish_rows;
  }
  return p;
}

GpuCoaddResult gpu_coadd(const CoaddContext& ctx, const std::vector<PreparedTile>& tiles, const GpuCoaddPlan& plan,
                         const GpuRunIo& io) {
  const int W = ctx.out_width;
  const int H = ctx.out_height;
  const int C = ctx.channels;
  GpuCoaddResult res;
  gpu::DeviceAccumulator acc(static_cast<long long>(W) * plan.band_rows, static_cast<long long>(W) * plan.finish_rows,
                             C, lanczos3_weight_table());
  std::map<int, std::unique_ptr<gpu::DeviceTile>> resident;
  FinishBuffers buffers(static_cast<std::size_t>(plan.finish_rows) * W, C);
  int adds = 0;
  for (int b = 0; b < plan.bands; ++b) {
    if (io.cancel != nullptr && io.cancel->requested()) {
      res.cancelled = true;
      return res;
    }
    const PixelRect band{0, b * plan.band_rows, W, std::min(plan.band_rows, H - b * plan.band_rows)};
    acc.rebase(to_gpu(band));
    std::vector<int> wanted;
    for (const PreparedTile& t : tiles)
      if (touches(t, band.y0, band.rows) && resident.count(t.index) == 0) wanted.push_back(t.index);
    auto t0 = std::chrono::steady_clock::now();
    upload_tiles(ctx, tiles, wanted, io.load_in_flight, resident);
    res.load_seconds += since(t0);
    t0 = std::chrono::steady_clock::now();
    for (const PreparedTile& t : tiles) {
      if (!touches(t, band.y0, band.rows)) continue;
      if (io.fail_after_adds >= 0 && adds++ >= io.fail_after_adds) throw gpu::DeviceError("injected device failure");
      add_tile(ctx, t, intersect(band, t.bbox), *resident.at(t.index), acc);
      io.tick();
    }
    res.add_seconds += since(t0);
    t0 = std::chrono::steady_clock::now();
    for (auto it = resident.begin(); it != resident.end();) {  // tiles no later band touches
      const PreparedTile& t = tiles[it->first];
      it = (t.bbox.y0 + t.bbox.rows <= band.y0 + band.rows) ? resident.erase(it) : std::next(it);
    }
    finish_band(acc, band, plan.finish_rows, io, buffers, res);
    res.finish_seconds += since(t0);
    ++res.bands_done;
  }
  return res;
}

}  // namespace zm::coadd_detail
