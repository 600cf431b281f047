// fit_background_model: iteratively clipped least squares on [1, r2, u, v], then per-term significance tests.
#include "stack/background_model.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

namespace zm {
namespace {

struct Sample {
  double u, v, value;
};

// Median of |residual| x 1.4826 over the kept samples.
double robust_sigma(const std::vector<double>& residuals, const std::vector<char>& keep) {
  std::vector<double> a;
  for (std::size_t i = 0; i < residuals.size(); ++i)
    if (keep[i]) a.push_back(std::abs(residuals[i]));
  if (a.empty()) return 0.0;
  std::nth_element(a.begin(), a.begin() + a.size() / 2, a.end());
  return 1.4826 * a[a.size() / 2];
}

}  // namespace

BackgroundModel fit_background_model(std::span<const float> xs, std::span<const float> ys,
                                     std::span<const float> values, int width, int height,
                                     const BackgroundModelOptions& o) {
  BackgroundModel m;
  m.cx = 0.5 * (width - 1);
  m.cy = 0.5 * (height - 1);
  m.radius = std::max(1.0, 0.5 * std::hypot(width, height));
  std::vector<Sample> s;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (std::isfinite(values[i]))
      s.push_back({(xs[i] - m.cx) / m.radius, (ys[i] - m.cy) / m.radius, values[i]});
  if (static_cast<int>(s.size()) < o.min_samples) return m;

  std::vector<char> keep(s.size(), 1);
  std::vector<double> res(s.size(), 0.0);
  Eigen::Vector4d c = Eigen::Vector4d::Zero();
  Eigen::Matrix4d ata;
  double sigma = 0.0;
  int kept = 0;
  for (int it = 0; it < o.iterations; ++it) {
    ata.setZero();
    Eigen::Vector4d atb = Eigen::Vector4d::Zero();
    kept = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (!keep[i]) continue;
      const Eigen::Vector4d row(1.0, s[i].u * s[i].u + s[i].v * s[i].v, s[i].u, s[i].v);
      ata.noalias() += row * row.transpose();
      atb.noalias() += row * s[i].value;
      ++kept;
    }
    if (kept < o.min_samples) return BackgroundModel{.cx = m.cx, .cy = m.cy, .radius = m.radius};
    c = ata.ldlt().solve(atb);
    for (std::size_t i = 0; i < s.size(); ++i)
      res[i] = s[i].value - (c[0] + c[1] * (s[i].u * s[i].u + s[i].v * s[i].v) + c[2] * s[i].u + c[3] * s[i].v);
    sigma = robust_sigma(res, keep);
    if (sigma <= 0.0) break;
    bool changed = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const char k = res[i] <= o.clip_high * sigma && res[i] >= -o.clip_low * sigma;
      changed = changed || k != keep[i];
      keep[i] = k;
    }
    if (!changed) break;
  }
  if (!(c[0] > 0.0) || kept < o.min_samples) return BackgroundModel{.cx = m.cx, .cy = m.cy, .radius = m.radius};
  // Standard errors from the kept samples' scatter; the clipped residuals are not Gaussian, so this is a guide.
  const Eigen::Matrix4d cov = ata.inverse() * (sigma * sigma);
  auto significant = [&](int k) { return std::abs(c[k]) > o.significance * std::sqrt(std::max(cov(k, k), 0.0)); };
  m.c0 = c[0];
  m.samples_used = kept;
  m.q = c[1] / c[0];
  m.radial = significant(1) && std::abs(m.q) <= o.max_vignetting;
  m.plane = significant(2) || significant(3);
  m.gx = m.plane ? c[2] : 0.0;
  m.gy = m.plane ? c[3] : 0.0;
  if (!m.radial) m.q = 0.0;
  return m;
}

void apply_background_model(const BackgroundModel& m, float* plane_rows, int width, int y0, int rows, int x0) {
  if (m.identity()) return;
  for (int r = 0; r < rows; ++r) {
    float* row = plane_rows + static_cast<std::size_t>(r) * width;
    for (int x = 0; x < width; ++x)
      if (std::isfinite(row[x])) row[x] = m.apply(row[x], x0 + x, y0 + r);
  }
}

}  // namespace zm
