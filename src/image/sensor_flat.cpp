// sensor_flat: dividing frames by the radial profile, and the per-frame sky mesh it is estimated from.
#include "image/sensor_flat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace zm {

void SensorFlat::apply_rows(float* planes, int channels, int row0, int nrows) const {
  if (q == 0.0 || width <= 0) return;
  const double cx = 0.5 * (width - 1), cy = 0.5 * (height - 1);
  const double inv_r2 = 1.0 / (0.25 * (static_cast<double>(width) * width + static_cast<double>(height) * height));
  std::vector<float> inv(static_cast<std::size_t>(width));
  const std::size_t band = static_cast<std::size_t>(nrows) * width;
  for (int y = 0; y < nrows; ++y) {
    const double dy = row0 + y - cy;
    for (int x = 0; x < width; ++x) {
      const double dx = x - cx;
      inv[static_cast<std::size_t>(x)] = static_cast<float>(1.0 / (1.0 + q * (dx * dx + dy * dy) * inv_r2));
    }
    for (int c = 0; c < channels; ++c) {
      float* row = planes + c * band + static_cast<std::size_t>(y) * width;
      for (int x = 0; x < width; ++x) row[x] *= inv[static_cast<std::size_t>(x)];
    }
  }
}

double SensorFlat::at(double x, double y) const {
  if (q == 0.0 || width <= 0) return 1.0;
  const double dx = x - 0.5 * (width - 1), dy = y - 0.5 * (height - 1);
  const double r2 = 0.25 * (static_cast<double>(width) * width + static_cast<double>(height) * height);
  return 1.0 + q * (dx * dx + dy * dy) / r2;
}

double flattened_sky_factor(const std::vector<float>& mesh, const SensorFlat& flat, int width, int height) {
  const std::size_t n = static_cast<std::size_t>(kSkyMeshSide) * kSkyMeshSide;
  if (!flat.applies_to(width, height) || mesh.size() != n) return 1.0;
  std::vector<double> v;
  for (int by = 0; by < kSkyMeshSide; ++by)
    for (int bx = 0; bx < kSkyMeshSide; ++bx) {
      const float m = mesh[static_cast<std::size_t>(by) * kSkyMeshSide + bx];
      if (!std::isfinite(m)) continue;
      // Centre of the block sky_mesh() measured (same integer edges).
      const double cx = 0.5 * (bx * width / kSkyMeshSide + (bx + 1) * width / kSkyMeshSide - 1);
      const double cy = 0.5 * (by * height / kSkyMeshSide + (by + 1) * height / kSkyMeshSide - 1);
      v.push_back(m / flat.at(cx, cy));
    }
  if (v.size() < n / 2) return 1.0;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

std::vector<float> sky_mesh(const ImageF& image, int channel, float level) {
  std::vector<float> out(static_cast<std::size_t>(kSkyMeshSide) * kSkyMeshSide, std::numeric_limits<float>::quiet_NaN());
  if (!(level > 0.0f) || channel < 0 || channel >= image.channels) return out;
  std::vector<float> v;
  for (int by = 0; by < kSkyMeshSide; ++by)
    for (int bx = 0; bx < kSkyMeshSide; ++bx) {
      const int x0 = bx * image.width / kSkyMeshSide, x1 = (bx + 1) * image.width / kSkyMeshSide;
      const int y0 = by * image.height / kSkyMeshSide, y1 = (by + 1) * image.height / kSkyMeshSide;
      v.clear();
      for (int y = y0; y < y1; y += 2)
        for (int x = x0; x < x1; x += 2) {
          const float p = image.at(channel, y, x);
          if (std::isfinite(p)) v.push_back(p);
        }
      if (v.size() < 16) continue;
      auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
      std::nth_element(v.begin(), mid, v.end());
      out[static_cast<std::size_t>(by) * kSkyMeshSide + bx] =
          static_cast<float>(std::round(static_cast<double>(*mid) / level * 1e5) / 1e5);
    }
  return out;
}

}  // namespace zm
