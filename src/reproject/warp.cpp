#include "reproject/warp.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace zm {
namespace {

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

inline bool inside(double x, double y, int w, int h) {
  return x >= -0.5 && x <= w - 0.5 && y >= -0.5 && y <= h - 0.5;
}

}  // namespace

RowRange input_rows_needed(const PixelMap& map, Kernel kernel, int input_width, int input_height) {
  double ymin = std::numeric_limits<double>::infinity();
  double ymax = -ymin;
  const std::size_t n = map.x.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double y = map.y[i];
    if (!inside(map.x[i], y, input_width, input_height)) continue;
    ymin = std::min(ymin, y);
    ymax = std::max(ymax, y);
  }
  if (ymin > ymax) return {};
  const KernelSupport s = kernel_support(kernel);
  RowRange r;
  r.begin = std::max(0, static_cast<int>(std::floor(ymin)) - s.before);
  r.end = std::min(input_height, static_cast<int>(std::floor(ymax)) + s.after + 1);
  return r;
}

WarpedBand warp_band(const InputBand& input, const PixelMap& map, Kernel kernel) {
  if (input.rows == nullptr) throw std::invalid_argument("warp_band: no input image");
  const ImageF& img = *input.rows;
  const int full_h = input.height();
  const RowRange need = input_rows_needed(map, kernel, img.width, full_h);
  if (!need.empty() && (need.begin < input.row0 || need.end > input.row0 + img.height)) {
    throw std::invalid_argument("warp_band: input band holds rows [" + std::to_string(input.row0) + ", " +
                                std::to_string(input.row0 + img.height) + ") but the map needs [" +
                                std::to_string(need.begin) + ", " + std::to_string(need.end) + ")");
  }
  WarpedBand out;
  out.band = map.band;
  const int cols = map.band.cols;
  const int rows = map.band.rows;
  if (map.band.empty() || img.channels <= 0) return out;
  out.image = ImageF(img.channels, cols, rows, kNaNf);
  out.footprint.assign(static_cast<std::size_t>(cols) * rows, 0);
  const PlaneBand src{img.data.data(), img.channels, img.width, full_h, input.row0, img.height};
  std::vector<long long> row_valid(rows, 0);
  tbb::parallel_for(tbb::blocked_range<int>(0, rows), [&](const tbb::blocked_range<int>& range) {
    std::vector<float*> outs(img.channels);
    for (int r = range.begin(); r < range.end(); ++r) {
      for (int c = 0; c < img.channels; ++c) outs[c] = &out.image.at(c, r, 0);
      resample_row(src, map.x_row(r), map.y_row(r), cols, kernel, outs.data());
      std::uint8_t* fp = out.footprint.data() + static_cast<std::size_t>(r) * cols;
      long long valid = 0;
      for (int x = 0; x < cols; ++x) {
        bool ok = true;
        for (int c = 0; c < img.channels && ok; ++c) ok = std::isfinite(outs[c][x]);
        fp[x] = ok ? 1 : 0;
        valid += ok ? 1 : 0;
      }
      row_valid[r] = valid;
    }
  });
  for (long long v : row_valid) out.valid_pixels += v;
  return out;
}

WarpedBand warp_band(const ImageF& input, const PixelMap& map, Kernel kernel) {
  return warp_band(InputBand{&input, 0, input.height}, map, kernel);
}

PixelRect output_bbox(PixelTransform& in_to_out, int in_w, int in_h, int out_w, int out_h, int pad,
                      int edge_step) {
  if (in_w <= 0 || in_h <= 0 || out_w <= 0 || out_h <= 0) return {};
  edge_step = std::max(1, edge_step);
  std::vector<double> px;
  std::vector<double> py;
  const double xl = -0.5;
  const double xr = in_w - 0.5;
  const double yt = -0.5;
  const double yb = in_h - 0.5;
  auto add_edge = [&](double x0, double y0, double x1, double y1, double len) {
    const int n = std::max(1, static_cast<int>(std::ceil(len / edge_step)));
    for (int i = 0; i <= n; ++i) {
      const double t = static_cast<double>(i) / n;
      px.push_back(x0 + t * (x1 - x0));
      py.push_back(y0 + t * (y1 - y0));
    }
  };
  add_edge(xl, yt, xr, yt, in_w);
  add_edge(xr, yt, xr, yb, in_h);
  add_edge(xr, yb, xl, yb, in_w);
  add_edge(xl, yb, xl, yt, in_h);
  const int n = static_cast<int>(px.size());
  std::vector<double> ox(n);
  std::vector<double> oy(n);
  in_to_out.map(px.data(), py.data(), n, ox.data(), oy.data());
  double xmin = std::numeric_limits<double>::infinity();
  double xmax = -xmin;
  double ymin = xmin;
  double ymax = -xmin;
  for (int i = 0; i < n; ++i) {
    if (!std::isfinite(ox[i]) || !std::isfinite(oy[i])) continue;
    xmin = std::min(xmin, ox[i]);
    xmax = std::max(xmax, ox[i]);
    ymin = std::min(ymin, oy[i]);
    ymax = std::max(ymax, oy[i]);
  }
  if (xmin > xmax) return {};
  // Output pixel p covers [p - 0.5, p + 0.5]. Clip in double so far-off points cannot overflow an int.
  const double fx0 = std::max(0.0, std::floor(xmin + 0.5) - pad);
  const double fx1 = std::min(out_w - 1.0, std::floor(xmax + 0.5) + pad);
  const double fy0 = std::max(0.0, std::floor(ymin + 0.5) - pad);
  const double fy1 = std::min(out_h - 1.0, std::floor(ymax + 0.5) + pad);
  if (fx1 < fx0 || fy1 < fy0) return {};
  const int x0 = static_cast<int>(fx0);
  const int x1 = static_cast<int>(fx1);
  const int y0 = static_cast<int>(fy0);
  const int y1 = static_cast<int>(fy1);
  return PixelRect{x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

PixelRect output_bbox(const Wcs& input, const Wcs& output, int pad, int edge_step) {
  WcsPixelTransform t(input, output);
  return output_bbox(t, input.width(), input.height(), output.width(), output.height(), pad, edge_step);
}

}  // namespace zm
