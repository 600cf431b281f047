#include "photometry/overlap_difference.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "photometry/robust_fit.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"

namespace zm {
namespace {

// The median of v and its 1.4826 MAD (v reordered).
std::pair<double, double> median_mad(std::vector<double>& v) {
  const double m = median_in_place(v);
  std::vector<double> dev(v.size());
  for (std::size_t k = 0; k < v.size(); ++k) dev[k] = std::fabs(v[k] - m);
  return {m, 1.4826 * median_in_place(dev)};
}

}  // namespace

OverlapDifference overlap_difference(const TilePreview& a, const TilePreview& b, const std::array<double, 3>& ga,
                                     const std::array<double, 3>& gb, int min_samples) {
  OverlapDifference out;
  const int C = std::min({3, a.image.channels, b.image.channels});
  if (C < 1 || a.image.plane_size() == 0 || b.image.plane_size() == 0) return out;
  Wcs wa = a.wcs, wb = b.wcs;
  wa.set_size(a.image.width, a.image.height);
  wb.set_size(b.image.width, b.image.height);
  const PixelRect rect = output_bbox(wb, wa, 2);
  if (rect.empty()) return out;
  PixelMapOptions mo;
  mo.interp = MapInterp::Bilinear;
  const PixelMap map = compute_pixel_map(wa, wb, rect, mo);
  const WarpedBand warped = warp_band(b.image, map, Kernel::Bilinear);
  std::vector<std::size_t> on_a, on_w;  // common valid pixels: index on a, index in the warped band
  for (int r = 0; r < rect.rows; ++r)
    for (int col = 0; col < rect.cols; ++col) {
      const std::size_t k = static_cast<std::size_t>(r) * rect.cols + col;
      const std::size_t p = static_cast<std::size_t>(rect.y0 + r) * a.image.width + rect.x0 + col;
      if (!warped.footprint[k]) continue;
      bool ok = true;
      for (int c = 0; c < C && ok; ++c)
        ok = std::isfinite(a.image.plane(c)[p]) && std::isfinite(warped.image.plane(c)[k]);
      if (!ok) continue;
      on_a.push_back(p);
      on_w.push_back(k);
    }
  out.samples = static_cast<long long>(on_a.size());
  if (out.samples < std::max(1, min_samples)) return out;
  std::vector<double> v, lv;
  for (int c = 0; c < C; ++c) {
    v.clear();
    lv.clear();
    for (std::size_t q = 0; q < on_a.size(); ++q) {
      const double x = ga[c] * a.image.plane(c)[on_a[q]];
      v.push_back(gb[c] * warped.image.plane(c)[on_w[q]] - x);
      lv.push_back(x);
    }
    std::vector<double> all = v;
    const auto [m0, s0] = median_mad(all);
    std::vector<double> kept;
    for (double d : v)
      if (std::fabs(d - m0) <= 3.0 * s0) kept.push_back(d);
    if (kept.size() < static_cast<std::size_t>(std::max(1, min_samples))) kept = v;
    const auto [m, s] = median_mad(kept);
    const double level = median_in_place(lv);
    out.diff[c] = m;
    out.level[c] = level;
    out.sigma[c] = std::max(1.2533 * s / std::sqrt(static_cast<double>(kept.size())),
                            kOverlapDifferenceFloor * std::fabs(level));
    if (!(out.sigma[c] > 0)) out.sigma[c] = 1e-12 + kOverlapDifferenceFloor;
  }
  out.ok = true;
  return out;
}

}  // namespace zm
