// Order statistics and moments of an ascending float array, shared by the rejection algorithms.
#pragma once

#include <cmath>
#include <limits>

namespace zm::detail {

inline double median_sorted(const float* v, int n) {
  const int h = n / 2;
  return (n % 2) ? static_cast<double>(v[h]) : 0.5 * (static_cast<double>(v[h - 1]) + static_cast<double>(v[h]));
}

// Median absolute deviation from `centre` of an ascending array, without a second selection: the deviations
// on each side of the centre are already ascending, so merging them outwards reaches the middle one in n/2 steps.
inline double mad_sorted(const float* v, int n, double centre) {
  int right = 0;
  while (right < n && static_cast<double>(v[right]) < centre) ++right;
  int left = right - 1;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double prev = 0.0, cur = 0.0;
  for (int k = 0; k <= n / 2; ++k) {
    const double dl = left >= 0 ? centre - v[left] : kInf;
    const double dr = right < n ? v[right] - centre : kInf;
    // Which side is next is a coin flip on real data: select arithmetically instead of branching.
    const bool take_left = dl < dr;
    prev = cur;
    cur = take_left ? dl : dr;
    left -= take_left;
    right += !take_left;
  }
  return (n % 2) ? cur : 0.5 * (prev + cur);
}

struct MeanStd {
  double mean = 0.0;
  double std = 0.0;  // n-1 normalisation; 0 for n < 2
};

// Two passes (mean, then squared deviations) so a large common level does not cancel the spread.
inline MeanStd mean_std(const float* v, int n) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += v[i];
  MeanStd r;
  r.mean = sum / n;
  if (n < 2) return r;
  double ss = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = v[i] - r.mean;
    ss += d * d;
  }
  r.std = std::sqrt(ss / (n - 1));
  return r;
}

}  // namespace zm::detail
