// Shared helpers of the simulator tests: small configs, centroids, isolated-star selection.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include "sim/dataset.hpp"

namespace zm::sim::testutil {

// A small, fast dataset: 384 x 256 frames, bright stars dense enough for centroid statistics.
inline SimConfig small_config(std::uint64_t seed = 7) {
  SimConfig c;
  c.seed = seed;
  c.layout.width = 384;
  c.layout.height = 256;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 2;
  c.layout.nights = 2;
  c.sky.mag_bright = 8.0;
  c.sky.mag_limit = 13.0;
  c.sky.star_density_per_deg2 = 2000.0;
  return c;
}

// Gaussian-windowed centroid (like SExtractor's XWIN): iterates x <- x + 2 sum(w I (x_i - x)) / sum(w I) with
// w = exp(-r^2 / 2 sigma_w^2) centred on the current estimate, whose fixed point is the centre of any symmetric
// PSF; the weights keep the sky noise far from the star out of the estimate. Background: median of an annulus.
// `value(x, y)` returns the pixel or nullopt for pixels to ignore (e.g. non-green CFA sites).
inline std::optional<std::array<double, 2>> centroid(const std::function<std::optional<double>(int, int)>& value,
                                                     int width, int height, double x0, double y0,
                                                     double sigma_w = 1.5) {
  const double reach = 4.0 * sigma_w;
  const int ring_in = 10, ring_out = 14;
  const int xa = static_cast<int>(std::floor(x0)) - ring_out, xb = static_cast<int>(std::ceil(x0)) + ring_out;
  const int ya = static_cast<int>(std::floor(y0)) - ring_out, yb = static_cast<int>(std::ceil(y0)) + ring_out;
  if (xa < 0 || ya < 0 || xb >= width || yb >= height) return std::nullopt;
  std::vector<double> ring;
  for (int y = ya; y <= yb; ++y)
    for (int x = xa; x <= xb; ++x) {
      const double r = std::hypot(x - x0, y - y0);
      if (r < ring_in || r > ring_out) continue;
      if (auto v = value(x, y)) ring.push_back(*v);
    }
  if (ring.empty()) return std::nullopt;
  std::nth_element(ring.begin(), ring.begin() + ring.size() / 2, ring.end());
  const double bg = ring[ring.size() / 2];
  double cx = x0, cy = y0;
  for (int iter = 0; iter < 50; ++iter) {
    double sw = 0, sx = 0, sy = 0;
    for (int y = static_cast<int>(std::floor(cy - reach)); y <= static_cast<int>(std::ceil(cy + reach)); ++y)
      for (int x = static_cast<int>(std::floor(cx - reach)); x <= static_cast<int>(std::ceil(cx + reach)); ++x) {
        if (x < 0 || y < 0 || x >= width || y >= height) return std::nullopt;
        const double r2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        if (r2 > reach * reach) continue;
        const auto v = value(x, y);
        if (!v) continue;
        const double w = std::exp(-0.5 * r2 / (sigma_w * sigma_w)) * (*v - bg);
        sw += w;
        sx += w * (x - cx);
        sy += w * (y - cy);
      }
    if (!(sw > 0)) return std::nullopt;
    const double dx = 2.0 * sx / sw, dy = 2.0 * sy / sw;
    cx += dx;
    cy += dy;
    if (std::hypot(cx - x0, cy - y0) > 3.0) return std::nullopt;
    if (std::fabs(dx) + std::fabs(dy) < 1e-6) break;
  }
  return std::array<double, 2>{cx, cy};
}

struct Predicted {
  const Star* star;
  double x;
  double y;
};

// Stars predicted inside a frame (margin px from the edges) with green flux in [lo, hi] and no neighbour
// brighter than `contrast` times their flux within `isolation` px.
inline std::vector<Predicted> isolated_stars(const std::vector<Star>& stars, Wcs& wcs, double lo, double hi,
                                             double margin = 20.0, double isolation = 15.0, double contrast = 0.01) {
  std::vector<Predicted> all;
  for (const Star& s : stars) {
    const auto p = wcs.world_to_pixel(s.pos);
    if (p) all.push_back({&s, p->x, p->y});
  }
  std::vector<Predicted> out;
  for (const auto& p : all) {
    const double f = p.star->flux[1];
    if (f < lo || f > hi) continue;
    if (p.x < margin || p.y < margin || p.x > wcs.width() - 1 - margin || p.y > wcs.height() - 1 - margin) continue;
    bool alone = true;
    for (const auto& q : all)
      if (q.star != p.star && std::hypot(q.x - p.x, q.y - p.y) < isolation && q.star->flux[1] > contrast * f) alone = false;
    if (alone) out.push_back(p);
  }
  return out;
}

}  // namespace zm::sim::testutil
