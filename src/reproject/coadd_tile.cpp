#include "reproject/coadd_tile.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "io/fits_reader.hpp"
#include "reproject/feather.hpp"
#include "reproject/kernels.hpp"
#include "reproject/resample_core.hpp"
#include "reproject/warp.hpp"

namespace zm::coadd_detail {
namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

// Data pixels where every channel is finite (the alpha of a tile written without an ALPHA extension).
std::vector<std::uint8_t> finite_mask(const ImageF& img) {
  std::vector<std::uint8_t> a(img.plane_size(), 1);
  for (int c = 0; c < img.channels; ++c) {
    const float* p = img.plane(c);
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!std::isfinite(p[i])) a[i] = 0;
  }
  return a;
}

void check_tile_shape(const CoaddInput& in, const FitsImageInfo& info, int channels) {
  const bool size_ok = (in.width <= 0 || in.width == info.width) && (in.height <= 0 || in.height == info.height);
  if (!size_ok)
    throw InputError(InputErrorKind::BadDimensions, in.path.string(),
                     "tile is " + std::to_string(info.width) + " x " + std::to_string(info.height) +
                         " but the plan says " + std::to_string(in.width) + " x " + std::to_string(in.height));
  if (info.channels != channels)
    throw InputError(InputErrorKind::BadDimensions, in.path.string(),
                     "tile has " + std::to_string(info.channels) + " channel(s), the mosaic " +
                         std::to_string(channels));
}

// Neighbour offsets within the radius, nearest first (ties by dy, then dx): the fill source is deterministic.
const std::vector<std::array<int, 2>>& fill_offsets() {
  static const std::vector<std::array<int, 2>> offsets = [] {
    std::vector<std::array<int, 2>> o;
    for (int dy = -kEdgeFillRadius; dy <= kEdgeFillRadius; ++dy)
      for (int dx = -kEdgeFillRadius; dx <= kEdgeFillRadius; ++dx)
        if ((dx || dy) && dx * dx + dy * dy <= kEdgeFillRadius * kEdgeFillRadius) o.push_back({dx, dy});
    std::stable_sort(o.begin(), o.end(), [](const auto& a, const auto& b) {
      const int da = a[0] * a[0] + a[1] * a[1], db = b[0] * b[0] + b[1] * b[1];
      return da != db ? da < db : (a[1] != b[1] ? a[1] < b[1] : a[0] < b[0]);
    });
    return o;
  }();
  return offsets;
}

RowRange merge(const RowRange& a, const RowRange& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return RowRange{std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

}  // namespace

PixelRect intersect(const PixelRect& a, const PixelRect& b) {
  const int x0 = std::max(a.x0, b.x0);
  const int y0 = std::max(a.y0, b.y0);
  const int x1 = std::min(a.x0 + a.cols, b.x0 + b.cols);
  const int y1 = std::min(a.y0 + a.rows, b.y0 + b.rows);
  if (x1 <= x0 || y1 <= y0) return {};
  return PixelRect{x0, y0, x1 - x0, y1 - y0};
}

PreparedTile prepare_tile(const CoaddContext& ctx, int index) {
  const CoaddInput& in = (*ctx.tiles)[index];
  const CoaddOptions& opt = *ctx.options;
  PreparedTile t;
  t.index = index;
  if (!(in.weight > 0.0)) return t;
  const FitsImageInfo info = read_fits_info(in.path.string());
  check_tile_shape(in, info, ctx.channels);
  t.width = info.width;
  t.height = info.height;
  t.channels = info.channels;
  WcsPixelTransform in_to_out(in.wcs, *ctx.out_wcs);
  t.bbox = output_bbox(in_to_out, t.width, t.height, ctx.out_width, ctx.out_height);
  if (t.bbox.empty()) return t;

  coadd_io::TileExtensions ext = coadd_io::read_tile_extensions(in.path, t.width, t.height);
  if (!ext.alpha) {
    FitsImageReader reader(in.path.string());
    ext.alpha = finite_mask(reader.read_all(false));
  }
  std::vector<float> w = feather_weights(*ext.alpha, t.width, t.height, opt.feather_px, opt.alpha_weight_floor);
  mark_last_resort_samples(*ext.alpha, t.width, t.height, w);
  if (ext.coverage) weigh_by_coverage(*ext.coverage, w);
  t.has_coverage = ext.coverage.has_value();
  const std::uint64_t plane = static_cast<std::uint64_t>(t.width) * t.height * sizeof(float);
  t.planes = std::make_unique<coadd_io::ScratchFile>(ctx.scratch_dir, "tile" + std::to_string(index),
                                                     plane * (t.has_coverage ? 2 : 1));
  t.planes->pwrite(0, w.data(), plane);
  if (t.has_coverage) t.planes->pwrite(plane, ext.coverage->data(), plane);

  WcsPixelTransform out_to_in(*ctx.out_wcs, in.wcs);
  PixelMapOptions po;
  po.tolerance_px = opt.map_tolerance_px;
  t.grid = choose_map_grid(out_to_in, t.bbox, po);
  return t;
}

// No-data pixels of a tile within kEdgeFillRadius of data take the nearest data pixel's values before resampling
// (edge replication, as at the tile's own border): the kernel's taps at a data edge inside the tile (a rotated or
// dithered frame's border in a master tile grown to its members' union) see values instead of NaN, so the edge is
// not eroded by the kernel's reach. The weight plane, 0 off the data, still decides where the mosaic gets data.
void read_tile_rows(const CoaddContext& ctx, const PreparedTile& tile, RectInputs& in) {
  const CoaddInput& tin = (*ctx.tiles)[tile.index];
  const int tw = tile.width;
  const int th = tile.height;
  const int C = tile.channels;
  // Rows read: the ones needed and, around them, the fill's reach (so a row's fill does not depend on the band).
  const RowRange held{std::max(0, in.need.begin - kEdgeFillRadius), std::min(th, in.need.end + kEdgeFillRadius)};
  const int hn = held.count();
  const std::size_t held_px = static_cast<std::size_t>(hn) * tw;
  std::vector<float> data(held_px * C), weight(held_px);
  FitsImageReader reader(tin.path.string());
  reader.read_rows(held.begin, hn, data);
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(tw) * sizeof(float);
  tile.planes->pread(held.begin * row_bytes, weight.data(), held_px * sizeof(float));

  const int n = in.need.count();
  const std::size_t band_px = static_cast<std::size_t>(n) * tw;
  const int skip = in.need.begin - held.begin;
  in.weight.assign(weight.begin() + static_cast<std::ptrdiff_t>(skip) * tw,
                   weight.begin() + static_cast<std::ptrdiff_t>(skip) * tw + static_cast<std::ptrdiff_t>(band_px));
  if (tile.has_coverage) {
    in.coverage.resize(band_px);
    tile.planes->pread((static_cast<std::uint64_t>(th) + in.need.begin) * row_bytes, in.coverage.data(),
                       band_px * sizeof(float));
  }
  in.data.resize(band_px * C);
  for (int r = 0; r < n; ++r)
    for (int x = 0; x < tw; ++x) {
      const int hr = r + skip;
      std::size_t src = static_cast<std::size_t>(hr) * tw + x;
      if (!(weight[src] > 0.0f)) {  // no data here: the nearest data pixel within the radius, else NaN
        bool found = false;
        for (const auto& o : fill_offsets()) {
          const int xx = x + o[0], rr = hr + o[1];
          if (xx < 0 || xx >= tw || rr < 0 || rr >= hn) continue;
          const std::size_t q = static_cast<std::size_t>(rr) * tw + xx;
          if (weight[q] > 0.0f) {
            src = q;
            found = true;
            break;
          }
        }
        if (!found) {
          for (int c = 0; c < C; ++c) in.data[c * band_px + static_cast<std::size_t>(r) * tw + x] = kNaNf;
          continue;
        }
      }
      for (int c = 0; c < C; ++c) in.data[c * band_px + static_cast<std::size_t>(r) * tw + x] = data[c * held_px + src];
    }
}

RectInputs load_whole_tile(const CoaddContext& ctx, const PreparedTile& tile) {
  RectInputs in;
  if (!tile.used()) return in;
  in.need = RowRange{0, tile.height};
  read_tile_rows(ctx, tile, in);
  return in;
}

RectInputs load_rect_inputs(const CoaddContext& ctx, const PreparedTile& tile, const PixelRect& rect) {
  RectInputs in;
  if (rect.empty() || !tile.used()) return in;
  const CoaddInput& tin = (*ctx.tiles)[tile.index];
  const int tw = tile.width;
  const int th = tile.height;
  WcsPixelTransform out_to_in(*ctx.out_wcs, tin.wcs);
  in.map = compute_pixel_map(out_to_in, rect, tile.grid);
  const RowRange data_rows = input_rows_needed(in.map, ctx.options->kernel, tw, th);
  if (data_rows.empty()) return in;
  in.need = merge(data_rows, input_rows_needed(in.map, Kernel::Bilinear, tw, th));
  read_tile_rows(ctx, tile, in);
  return in;
}

void accumulate_rect(const CoaddContext& ctx, const PreparedTile& tile, const PixelRect& rect, const AccumView& acc) {
  const RectInputs in = load_rect_inputs(ctx, tile, rect);
  if (in.empty()) return;
  const CoaddInput& tin = (*ctx.tiles)[tile.index];
  const Kernel kernel = ctx.options->kernel;
  const int tw = tile.width;
  const int th = tile.height;
  const int C = tile.channels;
  const int n = in.need.count();
  const PlaneBand dsrc{in.data.data(), C, tw, th, in.need.begin, n};
  const PlaneBand wsrc{in.weight.data(), 1, tw, th, in.need.begin, n};
  const PlaneBand csrc{in.coverage.data(), 1, tw, th, in.need.begin, n};
  double gain[3];
  double offset[3];
  for (int c = 0; c < C; ++c) {
    gain[c] = tin.gain[c];
    offset[c] = tin.offset[c];
  }
  const double tile_weight = tin.weight;
  const int cols = rect.cols;
  const PixelMap& map = in.map;

  tbb::parallel_for(tbb::blocked_range<int>(0, rect.rows), [&](const tbb::blocked_range<int>& range) {
    std::vector<float> vals(static_cast<std::size_t>(C) * cols);
    std::vector<float> wrow(cols);
    std::vector<float> crow(cols);
    float* outs[3];
    for (int c = 0; c < C; ++c) outs[c] = vals.data() + static_cast<std::size_t>(c) * cols;
    float* wout = wrow.data();
    float* cout = crow.data();
    for (int r = range.begin(); r < range.end(); ++r) {
      const double* mx = map.x_row(r);
      const double* my = map.y_row(r);
      resample_row(dsrc, mx, my, cols, kernel, outs);
      resample_row(wsrc, mx, my, cols, Kernel::Bilinear, &wout);
      if (tile.has_coverage) resample_row(csrc, mx, my, cols, Kernel::Nearest, &cout);
      const std::size_t base =
          static_cast<std::size_t>(rect.y0 + r - acc.y0) * acc.row_stride + static_cast<std::size_t>(rect.x0 - acc.x0);
      double* sum = acc.base + base;
      const long long plane = static_cast<long long>(acc.plane);
      for (int x = 0; x < cols; ++x) {
        const float w = wrow[x];
        if (!(w > 0.0f)) continue;
        float v[3] = {0.0f, 0.0f, 0.0f};
        bool ok = true;
        for (int c = 0; c < C && ok; ++c) ok = std::isfinite(v[c] = outs[c][x]);
        if (!ok) continue;
        resample::add_contribution(sum + x, plane, C, v, w, tile_weight, gain, offset,
                                   tile.has_coverage ? static_cast<double>(crow[x]) : 1.0);
      }
    }
  });
}

gpu::Contribution contribution(const CoaddContext& ctx, const PreparedTile& tile) {
  const CoaddInput& tin = (*ctx.tiles)[tile.index];
  gpu::Contribution how;
  how.kernel = ctx.options->kernel;
  for (int c = 0; c < tile.channels; ++c) {
    how.gain[c] = tin.gain[c];
    how.offset[c] = tin.offset[c];
  }
  how.tile_weight = tin.weight;
  return how;
}

}  // namespace zm::coadd_detail
