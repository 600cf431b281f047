#include "pipeline/routes/global_coadd.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "pipeline/model/frame_cache.hpp"
#include "pipeline/model/raw_planes.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "sched/worker_arena.hpp"

namespace zm {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// The part of `box` inside output rows [y0, y0 + nr).
PixelRect clip_rows(const PixelRect& box, int y0, int nr) {
  const int top = std::max(box.y0, y0), bottom = std::min(box.y0 + box.rows, y0 + nr);
  if (box.empty() || bottom <= top) return {};
  return {box.x0, top, box.cols, bottom - top};
}

// One frame's warped samples on its part of the band (NaN where it has no data).
struct Contribution {
  int frame = 0;
  PixelRect rect;
  ImageF image;
};

struct Scratch {
  RejectScratch reject;
  std::vector<float> samples, weights;
};

std::uint64_t output_band_bytes(int out_w, int rows, int channels) {
  return static_cast<std::uint64_t>(out_w) * rows * (channels + 2) * sizeof(float);
}

// Bytes a frame's warp holds while it runs: its input rows (bounded by the whole frame) and its pixel map.
std::uint64_t transient_bytes(const CoaddFrame& f, const PixelRect& part) {
  return static_cast<std::uint64_t>(f.width) * f.height * f.channels * sizeof(float) +
         static_cast<std::uint64_t>(part.area()) * (kPixelMapBytesPerPixel + warped_bytes_per_pixel(f.channels));
}

void combine_row(const std::vector<Contribution>& contribs, const std::vector<CoaddFrame>& frames, int y, int out_w,
                 int channels, const RejectParams& params, Scratch& s, float* img_row, std::size_t plane,
                 float* weight_row, float* cov_row, RejectStats& stats) {
  // The contributions covering this row, in frame order (contribs are built in frame order).
  std::vector<const Contribution*> row;
  for (const auto& c : contribs)
    if (y >= c.rect.y0 && y < c.rect.y0 + c.rect.rows) row.push_back(&c);
  const int green = std::min(1, channels - 1);
  s.samples.resize(row.size());
  s.weights.resize(row.size());
  for (int x = 0; x < out_w; ++x) {
    for (int ch = 0; ch < channels; ++ch) {
      int n = 0;
      double wsum = 0.0;
      for (const Contribution* c : row) {
        if (x < c->rect.x0 || x >= c->rect.x0 + c->rect.cols) continue;
        const float v = c->image.at(ch, y - c->rect.y0, x - c->rect.x0);
        if (!std::isfinite(v)) continue;
        const CoaddFrame& f = frames[static_cast<std::size_t>(c->frame)];
        s.samples[n] = f.gain[ch] * v + f.offset[ch];
        s.weights[n] = f.weight[ch];
        wsum += f.weight[ch];
        ++n;
      }
      float* out = img_row + ch * plane + x;
      if (n == 0) {
        *out = kNaN;
        ++stats.empty_pixels;
      } else {
        const PixelResult r = combine_pixel(s.samples.data(), s.weights.data(), n, params, s.reject);
        *out = r.value;
        stats.samples += static_cast<std::uint64_t>(n);
        stats.kept += static_cast<std::uint64_t>(r.kept);
        stats.rejected_low += static_cast<std::uint64_t>(r.rejected_low);
        stats.rejected_high += static_cast<std::uint64_t>(r.rejected_high);
      }
      ++stats.pixels;
      if (ch == green) {
        weight_row[x] = static_cast<float>(wsum);
        cov_row[x] = static_cast<float>(n);
      }
    }
  }
}

}  // namespace

std::vector<PixelRect> coadd_frame_boxes(std::vector<CoaddFrame>& frames, const OutputGrid& grid) {
  std::vector<PixelRect> boxes;
  boxes.reserve(frames.size());
  for (auto& f : frames) boxes.push_back(output_bbox(f.wcs, grid.wcs, 2));
  return boxes;
}

std::uint64_t coadd_band_bytes_bound(const std::vector<PixelRect>& boxes, const std::vector<CoaddFrame>& frames,
                                     int out_w, int out_h, int channels, int rows) {
  std::uint64_t worst = 0;
  for (int y0 = 0; y0 < out_h; y0 += rows) {
    const int nr = std::min(rows, out_h - y0);
    std::uint64_t held = output_band_bytes(out_w, nr, channels), transient = 0;
    for (std::size_t k = 0; k < boxes.size(); ++k) {
      const PixelRect part = clip_rows(boxes[k], y0, nr);
      if (part.empty()) continue;
      held += static_cast<std::uint64_t>(part.area()) * frames[k].channels * sizeof(float);
      transient = std::max(transient, transient_bytes(frames[k], part));
    }
    worst = std::max(worst, held + transient);
  }
  return worst;
}

int coadd_rows_for_budget(const std::vector<PixelRect>& boxes, const std::vector<CoaddFrame>& frames, int out_w,
                          int out_h, int channels, std::uint64_t budget) {
  if (budget == 0) return std::max(1, out_h);
  int lo = 1, hi = std::max(1, out_h);
  if (coadd_band_bytes_bound(boxes, frames, out_w, out_h, channels, hi) <= budget) return hi;
  while (hi - lo > 1) {  // largest rows whose bound fits (the bound grows with rows, up to band alignment)
    const int mid = lo + (hi - lo) / 2;
    if (coadd_band_bytes_bound(boxes, frames, out_w, out_h, channels, mid) <= budget) lo = mid;
    else hi = mid;
  }
  return lo;
}

namespace {

// Every frame's warp onto one band (only the input rows the band needs), with the bytes they hold.
struct BandContributions {
  std::vector<Contribution> contribs;
  std::uint64_t bytes = 0;  // held contributions + the output band + the largest transient of one warp
};

BandContributions warp_band_frames(const std::vector<CoaddFrame>& frames, const std::vector<PixelRect>& boxes,
                                   const std::vector<MapGrid>& map_grids, const OutputGrid& grid, int y0, int nr,
                                   int C, Kernel kernel, WorkerArena& arena) {
  BandContributions b;
  std::uint64_t held = output_band_bytes(grid.width, nr, C), transient = 0;
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const PixelRect part = clip_rows(boxes[k], y0, nr);
    if (part.empty()) continue;
    const CoaddFrame& f = frames[k];
    const PixelMap map = compute_pixel_map(grid.wcs, f.wcs, part, map_grids[k]);
    const RowRange need = input_rows_needed(map, kernel, f.width, f.height);
    if (need.empty()) continue;
    const CachedFrameReader reader(f.path, f.width, f.height, f.channels, f.flat);
    ImageF in(f.channels, f.width, need.count());
    reader.read_rows(need.begin, need.count(), in.data);
    WarpedBand wb;
    arena.run([&] { wb = warp_band(InputBand{&in, need.begin, f.height}, map, kernel); });
    transient = std::max<std::uint64_t>(transient, in.data.size() * sizeof(float) + map.x.size() * 2 * sizeof(double) +
                                                       wb.footprint.size());
    if (wb.valid_pixels == 0) continue;
    held += wb.image.data.size() * sizeof(float);
    b.contribs.push_back({static_cast<int>(k), part, std::move(wb.image)});
  }
  b.bytes = held + transient;
  return b;
}

}  // namespace

GlobalCoaddStats global_coadd(std::vector<CoaddFrame>& frames, const OutputGrid& grid, const MosaicArtifacts& out,
                              const GlobalCoaddOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  validate(o.reject);
  GlobalCoaddStats st;
  const int W = grid.width, H = grid.height, C = out.channels;
  const std::vector<PixelRect> boxes = coadd_frame_boxes(frames, grid);
  std::vector<MapGrid> map_grids(frames.size());
  for (std::size_t k = 0; k < frames.size(); ++k) {
    if (boxes[k].empty()) {
      st.frames_off_canvas.push_back(static_cast<int>(k));
      continue;
    }
    ++st.frames_used;
    // Chosen over the whole box, so every band of this frame interpolates on the same nodes.
    map_grids[k] = choose_map_grid(grid.wcs, frames[k].wcs, boxes[k]);
  }
  st.band_rows = o.band_rows > 0 ? std::min(o.band_rows, H)
                                 : coadd_rows_for_budget(boxes, frames, W, H, C, o.memory_budget_bytes);
  st.estimated_band_bytes = coadd_band_bytes_bound(boxes, frames, W, H, C, st.band_rows);
  const int total_bands = (H + st.band_rows - 1) / st.band_rows;

  MosaicWriters writers(out);
  WorkerArena arena(o.workers);
  tbb::enumerable_thread_specific<Scratch> scratch;
  for (int y0 = 0; y0 < H; y0 += st.band_rows) {
    if (o.cancel != nullptr && o.cancel->requested()) {
      st.cancelled = true;
      return st;
    }
    const int nr = std::min(st.band_rows, H - y0);
    const BandContributions band = warp_band_frames(frames, boxes, map_grids, grid, y0, nr, C, o.kernel, arena);
    st.peak_band_bytes = std::max(st.peak_band_bytes, band.bytes);
    ImageF img(C, W, nr, kNaN);
    std::vector<float> weight(static_cast<std::size_t>(W) * nr, 0.0f), cov(weight.size(), 0.0f);
    std::vector<RejectStats> row_stats(static_cast<std::size_t>(nr));
    arena.run([&] {
      tbb::parallel_for(tbb::blocked_range<int>(0, nr), [&](const tbb::blocked_range<int>& r) {
        Scratch& s = scratch.local();
        for (int y = r.begin(); y < r.end(); ++y) {
          const std::size_t off = static_cast<std::size_t>(y) * W;
          combine_row(band.contribs, frames, y0 + y, W, C, o.reject, s, img.data.data() + off, img.plane_size(),
                      weight.data() + off, cov.data() + off, row_stats[static_cast<std::size_t>(y)]);
        }
      });
    });
    for (const auto& rs : row_stats) st.reject += rs;  // in row order: totals do not depend on scheduling
    for (float c : cov) st.covered_pixels += c > 0 ? 1 : 0;
    writers.image.write_rows(y0, nr, img.data.data());
    writers.weight.write_rows(y0, nr, weight.data());
    writers.coverage.write_rows(y0, nr, cov.data());
    ++st.bands;
    if (o.progress) o.progress(st.bands, total_bands);
  }
  writers.commit();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace zm
