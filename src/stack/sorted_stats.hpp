// Order statistics and moments of an ascending float array, shared by the rejection algorithms.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

namespace zm::detail {

inline double median_sorted(const float* v, int n) {
  const int h = n / 2;
  return (n % 2) ? static_cast<double>(v[h]) : 0.5 * (static_cast<double>(v[h - 1]) + static_cast<double>(v[h]));
}

// Median absolute deviation from `centre` of an ascending array, without a second selection: the deviations
// below the centre (read leftwards) and above it (read rightwards) are two ascending sequences, and the k-th
// smallest of two sorted sequences is found by bisecting how many of the first k + 1 come from the left one.
inline double mad_sorted(const float* v, int n, double centre) {
  const int split = static_cast<int>(std::lower_bound(v, v + n, centre, [](float x, double c) { return x < c; }) - v);
  const int nl = split, nr = n - split;
  auto left = [&](int i) { return centre - v[split - 1 - i]; };  // ascending in i
  auto right = [&](int i) { return v[split + i] - centre; };      // ascending in i
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  const int k = n / 2;
  // i = how many of the k + 1 smallest deviations lie left of the centre: the smallest i with
  // left(i) >= right(k - i) (a missing element counts as +infinity, a missing right(-1) as -infinity).
  int lo = std::max(0, k + 1 - nr), hi = std::min(k + 1, nl);
  while (lo < hi) {
    const int i = (lo + hi) / 2, j = k + 1 - i;
    if (i < nl && j > 0 && left(i) < right(j - 1)) lo = i + 1;
    else hi = i;
  }
  const int i = lo, j = k + 1 - lo;
  const double a = i > 0 ? left(i - 1) : kNegInf, b = j > 0 ? right(j - 1) : kNegInf;
  const double kth = std::max(a, b);
  if (n % 2) return kth;
  // Even count: the element of rank k - 1 is the larger of what remains once the k-th is taken out.
  const double a2 = a >= b ? (i > 1 ? left(i - 2) : kNegInf) : a;
  const double b2 = a >= b ? b : (j > 1 ? right(j - 2) : kNegInf);
  return 0.5 * (std::max(a2, b2) + kth);
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
