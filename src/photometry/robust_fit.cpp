// robust_line_fit / robust_rms.
#include "photometry/robust_fit.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace zm {
namespace {

constexpr double kMadToSigma = 1.4826;

double median_inplace(std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2) return hi;
  const double lo = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lo + hi);
}

// OLS on the samples flagged in `keep`; false when fewer than 2 or x has no spread.
bool ols(std::span<const float> x, std::span<const float> y, const std::vector<char>& keep, LineFit& fit) {
  double sx = 0, sy = 0;
  long long n = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (keep[i]) sx += x[i], sy += y[i], ++n;
  if (n < 2) return false;
  const double mx = sx / n, my = sy / n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (keep[i]) {
      const double dx = x[i] - mx;
      sxx += dx * dx, sxy += dx * (y[i] - my);
    }
  if (!(sxx > 0)) return false;
  fit.a = sxy / sxx;
  fit.b = my - fit.a * mx;
  fit.mean_x = mx, fit.mean_y = my;
  fit.kept = static_cast<int>(n);
  return true;
}

}  // namespace

LineFit robust_line_fit(std::span<const float> x, std::span<const float> y, double clip_sigma, int min_samples,
                        int max_iter) {
  LineFit fit;
  std::vector<char> keep(x.size(), 1);
  std::vector<double> abs_res;
  for (int it = 0; it < max_iter; ++it) {
    if (!ols(x, y, keep, fit)) return LineFit{};
    abs_res.clear();
    for (std::size_t i = 0; i < x.size(); ++i)
      if (keep[i]) abs_res.push_back(std::fabs(y[i] - (fit.a * x[i] + fit.b)));
    fit.sigma = kMadToSigma * median_inplace(abs_res);
    const double limit = clip_sigma * fit.sigma;
    bool changed = false;
    long long kept = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const char k = std::fabs(y[i] - (fit.a * x[i] + fit.b)) <= limit ? 1 : 0;
      changed = changed || k != keep[i];
      keep[i] = k;
      kept += k;
    }
    if (kept < std::max(2, min_samples)) break;  // keep the last fit with enough samples
    if (!changed) break;
  }
  fit.ok = fit.kept >= std::max(2, min_samples) && std::isfinite(fit.a) && std::isfinite(fit.b);
  return fit;
}

double robust_rms(std::span<const float> x, std::span<const float> y, double a, double b) {
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) r[i] = y[i] - (a * x[i] + b);
  std::vector<double> tmp = r;
  const double bias = median_inplace(tmp);
  for (double& v : r) v = std::fabs(v - bias);
  const double sigma = kMadToSigma * median_inplace(r);
  return std::sqrt(bias * bias + sigma * sigma);
}

double attenuation(std::span<const float> v, double noise) {
  if (v.size() < 2) return 1.0;
  double s = 0, s2 = 0;
  for (float f : v) s += f;
  const double m = s / v.size();
  for (float f : v) s2 += (f - m) * (f - m);
  const double var = s2 / (v.size() - 1);
  return var > 0 ? std::min(1.0, noise * noise / var) : 1.0;
}

double median_in_place(std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const double hi = v[mid];
  if (v.size() % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)));
}

}  // namespace zm
