#include "stack/robust_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "stack/sorted_stats.hpp"

namespace zm {
namespace {

std::vector<float> sorted_finite(std::span<const float> samples) {
  std::vector<float> v;
  v.reserve(samples.size());
  for (float x : samples)
    if (std::isfinite(x)) v.push_back(x);
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

std::vector<double> percentiles(std::span<const float> samples, std::span<const double> ps) {
  std::vector<float> v;
  v.reserve(samples.size());
  for (float x : samples)
    if (std::isfinite(x)) v.push_back(x);
  std::vector<double> out(ps.size(), std::numeric_limits<double>::quiet_NaN());
  if (v.empty()) return out;
  // Ascending targets: each selection only needs to look right of the previous one.
  auto from = v.begin();
  for (std::size_t k = 0; k < ps.size(); ++k) {
    const double pos = std::clamp(ps[k], 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
    const auto i = static_cast<std::size_t>(pos);
    const auto it = v.begin() + static_cast<std::ptrdiff_t>(i);
    if (it < from) throw std::invalid_argument("percentiles: targets must be ascending");
    std::nth_element(from, it, v.end());
    from = it;
    const double f = pos - static_cast<double>(i);
    if (i + 1 >= v.size() || f == 0.0) {
      out[k] = *it;
      continue;
    }
    const double next = *std::min_element(it + 1, v.end());
    out[k] = *it + f * (next - *it);
  }
  return out;
}

double percentile(std::span<const float> samples, double p) {
  const double ps[1] = {p};
  return percentiles(samples, ps)[0];
}

double sigma_clipped_sigma(std::span<const float> samples, double kappa, int max_iterations) {
  const std::vector<float> v = sorted_finite(samples);
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  // The kept set of a clip around the median is a contiguous run of the sorted samples.
  std::size_t lo = 0, hi = v.size();
  double sigma = 0.0;
  for (int it = 0; it <= max_iterations; ++it) {
    const int n = static_cast<int>(hi - lo);
    const double med = detail::median_sorted(v.data() + lo, n);
    sigma = 1.4826 * detail::mad_sorted(v.data() + lo, n, med);
    if (it == max_iterations || sigma == 0.0) break;
    std::size_t a = lo, b = hi;
    while (a < b && v[a] < med - kappa * sigma) ++a;
    while (b > a && v[b - 1] > med + kappa * sigma) --b;
    if (a == lo && b == hi) break;
    lo = a;
    hi = b;
  }
  return sigma;
}

}  // namespace zm
