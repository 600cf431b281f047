#include "reproject/feather.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace zm {
namespace {

constexpr double kFar = 1e30;

// 1-D squared distance transform: d[q] = min_p (q - p)^2 + f[p]. v/z are scratch of size n and n + 1.
void dt_1d(const double* f, int n, double* d, int* v, double* z) {
  int k = 0;
  v[0] = 0;
  z[0] = -kFar;
  z[1] = kFar;
  for (int q = 1; q < n; ++q) {
    if (f[q] >= kFar) continue;  // an infinite parabola never enters the envelope
    double s = 0.0;
    while (true) {
      const int p = v[k];
      if (f[p] >= kFar) {  // only possible for v[0]: replace it outright
        s = -kFar;
      } else {
        s = ((f[q] + static_cast<double>(q) * q) - (f[p] + static_cast<double>(p) * p)) / (2.0 * (q - p));
      }
      if (s <= z[k] && k > 0) {
        --k;
        continue;
      }
      break;
    }
    if (f[v[k]] >= kFar) {
      v[k] = q;
      z[k] = -kFar;
      z[k + 1] = kFar;
      continue;
    }
    ++k;
    v[k] = q;
    z[k] = s;
    z[k + 1] = kFar;
  }
  if (f[v[0]] >= kFar) {  // no finite sample on this line
    std::fill(d, d + n, kFar);
    return;
  }
  k = 0;
  for (int q = 0; q < n; ++q) {
    while (z[k + 1] < q) ++k;
    const double dq = static_cast<double>(q - v[k]);
    d[q] = dq * dq + f[v[k]];
  }
}

}  // namespace

std::vector<double> squared_distance_to_nodata(const std::vector<std::uint8_t>& alpha, int width, int height) {
  if (width < 0 || height < 0 || alpha.size() != static_cast<std::size_t>(width) * height)
    throw std::invalid_argument("feather: alpha size does not match width * height");
  const std::size_t W = static_cast<std::size_t>(width);
  std::vector<double> g(alpha.size());
  for (std::size_t i = 0; i < alpha.size(); ++i) g[i] = alpha[i] == 0 ? 0.0 : kFar;
  if (alpha.empty()) return g;
  // Columns: gather, transform, scatter (stride-W access is cheaper than a transpose at these sizes).
  tbb::parallel_for(tbb::blocked_range<int>(0, width, 16), [&](const tbb::blocked_range<int>& r) {
    std::vector<double> f(height), d(height), z(height + 1);
    std::vector<int> v(height);
    for (int x = r.begin(); x < r.end(); ++x) {
      for (int y = 0; y < height; ++y) f[y] = g[y * W + x];
      dt_1d(f.data(), height, d.data(), v.data(), z.data());
      for (int y = 0; y < height; ++y) g[y * W + x] = d[y];
    }
  });
  tbb::parallel_for(tbb::blocked_range<int>(0, height, 8), [&](const tbb::blocked_range<int>& r) {
    std::vector<double> f(width), z(width + 1);
    std::vector<int> v(width);
    for (int y = r.begin(); y < r.end(); ++y) {
      double* row = g.data() + y * W;
      std::copy(row, row + width, f.begin());
      dt_1d(f.data(), width, row, v.data(), z.data());
    }
  });
  return g;
}

std::vector<float> feather_weights(const std::vector<std::uint8_t>& alpha, int width, int height, double feather_px,
                                   double floor) {
  if (width < 0 || height < 0 || alpha.size() != static_cast<std::size_t>(width) * height)
    throw std::invalid_argument("feather_weights: alpha size does not match width * height");
  std::vector<float> w(alpha.size(), 0.0f);
  const std::size_t W = static_cast<std::size_t>(width);
  if (!(feather_px > 0.0)) {
    for (std::size_t i = 0; i < alpha.size(); ++i) w[i] = alpha[i] != 0 ? 1.0f : 0.0f;
    return w;
  }
  const std::vector<double> d2 = squared_distance_to_nodata(alpha, width, height);
  const double lo = std::clamp(floor, 0.0, 1.0);
  tbb::parallel_for(tbb::blocked_range<int>(0, height, 8), [&](const tbb::blocked_range<int>& r) {
    for (int y = r.begin(); y < r.end(); ++y) {
      const double dy = std::min(y + 1, height - y);
      for (int x = 0; x < width; ++x) {
        const std::size_t i = y * W + x;
        if (alpha[i] == 0) continue;
        const double border = std::min<double>(dy, std::min(x + 1, width - x));
        const double d = std::min(border, std::sqrt(d2[i]));
        w[i] = static_cast<float>(std::clamp(d / feather_px, lo, 1.0));
      }
    }
  });
  return w;
}

void mark_last_resort_samples(const std::vector<std::uint8_t>& alpha, int width, int height,
                              std::vector<float>& weights) {
  const std::vector<double> d2 = squared_distance_to_nodata(alpha, width, height);
  for (std::size_t i = 0; i < weights.size(); ++i)
    if (weights[i] > 0.0f && d2[i] <= kEdgeFillRadius * kEdgeFillRadius) weights[i] *= kLastResortWeight;
}

void weigh_by_coverage(const std::vector<float>& coverage, std::vector<float>& weights) {
  float most = 0.0f;
  for (float c : coverage)
    if (std::isfinite(c)) most = std::max(most, c);
  if (!(most > 0.0f)) return;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] > 0.0f)) continue;
    const float c = coverage[i];
    weights[i] *= (std::isfinite(c) && c > 0.0f ? c : 1.0f) / most;
  }
}

}  // namespace zm
