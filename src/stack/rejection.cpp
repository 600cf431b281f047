#include "stack/rejection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "stack/normal_quantile.hpp"
#include "stack/sort_keys.hpp"
#include "stack/sorted_stats.hpp"

namespace zm {
namespace {

using detail::mad_sorted;
using detail::mean_std;
using detail::median_sorted;
using detail::Location;

constexpr double kMadToSigma = 1.4826;           // Gaussian sigma per unit of MAD
constexpr double kWinsorClip = 1.5;              // Huber's clipping point, in sigmas (PixInsight, Siril)
constexpr double kWinsorConsistency = 1.134;     // sigma of a Gaussian / sigma after winsorising it at 1.5
constexpr double kWinsorTolerance = 5e-4;        // relative convergence of the winsorised m and s
constexpr int kWinsorMaxRounds = 50;             // bound on winsorisation rounds whatever the data

// Kept samples: v[lo..hi) of the sorted list (KappaSigma and WinsorizedSigmaClip reject from the ends only).
struct KeptRange {
  int lo = 0;
  int hi = 0;
  int count() const { return hi - lo; }
};

// Narrows [lo, hi) to the samples inside [low_limit, high_limit]. False (range untouched) when nothing changes
// or fewer than 2 samples would remain.
bool clip_range(const float* v, KeptRange& r, double low_limit, double high_limit) {
  int lo = r.lo, hi = r.hi;
  while (lo < hi && static_cast<double>(v[lo]) < low_limit) ++lo;
  while (hi > lo && static_cast<double>(v[hi - 1]) > high_limit) --hi;
  if ((lo == r.lo && hi == r.hi) || hi - lo < 2) return false;
  r.lo = lo;
  r.hi = hi;
  return true;
}

void kappa_sigma(const float* v, KeptRange& r, const RejectParams& p) {
  for (int it = 0; it < p.max_iterations && r.count() >= 3; ++it) {
    const float* s = v + r.lo;
    const double centre = median_sorted(s, r.count());
    const double sigma = mean_std(s, r.count()).std;
    if (!clip_range(v, r, centre - p.kappa_low * sigma, centre + p.kappa_high * sigma)) break;
  }
}

// Clip positions of the sorted s[0..n) for bounds [low, high]: s[0..a) < low, s[b..n) > high. Moved from
// their previous values, which are usually close.
inline void clip_positions(const float* s, int n, double low, double high, int& a, int& b) {
  while (a > 0 && s[a - 1] >= low) --a;
  while (a < n && s[a] < low) ++a;
  while (b < n && s[b] <= high) ++b;
  while (b > a && s[b - 1] > high) --b;
}

// Huber's winsorisation from (median, 1.4826*MAD) to a robust mean and sigma of the sorted array s[0..n).
//
// The classic iteration (clip to m +- 1.5s, m = mean, s = 1.134*std, until changes < 5e-4 s) converges to a
// fixed point, which we compute exactly: clipping a sorted array replaces a prefix (a samples) and a suffix
// (n - b samples) by the clip values, and for a fixed (a, b) the fixed-point equations solve in closed form
// (with d = s_i - median, S1/S2 = sum of d/d^2 over the k = b - a unclipped samples, q = n - b - a):
//   m = (S1 + 1.5 q s) / k,   s^2 = (S2 - S1^2/k) / ((n-1)/1.134^2 - 2.25 (n-k) - 2.25 q^2/k).
// Each round either lands on a fixed point whose own clip positions are (a, b) (done), or moves to the
// positions its bounds give. When no closed form exists (denominator <= 0) or the positions cycle, rounds fall
// back to the classic update with its tolerance. Prefix sums p1/p2 (n + 1 entries) make every round O(1).
Location winsorized_location_impl(const float* s, int n, double* p1, double* p2) {
  Location loc;
  const double c = median_sorted(s, n);
  loc.m = c;
  loc.s = kMadToSigma * mad_sorted(s, n, c);
  if (loc.s == 0.0) return loc;
  p1[0] = p2[0] = 0.0;
  for (int i = 0; i < n; ++i) {
    const double d = s[i] - c;
    p1[i + 1] = p1[i] + d;
    p2[i + 1] = p2[i] + d * d;
  }
  const double var_scale = (n - 1) / (kWinsorConsistency * kWinsorConsistency);
  const double clip2 = kWinsorClip * kWinsorClip;
  int a = 0, b = n, prev_a = -1, prev_b = -1;
  bool exact = true;
  for (int round = 0; round < kWinsorMaxRounds && loc.s > 0.0; ++round) {
    clip_positions(s, n, loc.m - kWinsorClip * loc.s, loc.m + kWinsorClip * loc.s, a, b);
    const int k = b - a, q = n - b - a;
    const double s1 = p1[b] - p1[a], s2 = p2[b] - p2[a];
    if (exact && k >= 2) {
      const double denom = var_scale - clip2 * (n - k) - clip2 * q * q / k;
      if (denom > 0.0) {
        const double sigma = std::sqrt(std::max(s2 - s1 * s1 / k, 0.0) / denom);
        const Location fixed{c + (s1 + kWinsorClip * q * sigma) / k, sigma};
        int fa = a, fb = b;
        clip_positions(s, n, fixed.m - kWinsorClip * fixed.s, fixed.m + kWinsorClip * fixed.s, fa, fb);
        if (fa == a && fb == b) return fixed;
        exact = !(fa == prev_a && fb == prev_b);  // two configurations pointing at each other: iterate instead
        prev_a = a;
        prev_b = b;
        loc = fixed;
        continue;
      }
    }
    const double dl = loc.m - kWinsorClip * loc.s - c, dh = loc.m + kWinsorClip * loc.s - c;
    const double mean_d = (a * dl + s1 + (n - b) * dh) / n;
    const double ss = a * dl * dl + s2 + (n - b) * dh * dh - n * mean_d * mean_d;
    const double sigma = kWinsorConsistency * std::sqrt(std::max(ss, 0.0) / (n - 1));
    const double mean = c + mean_d;
    const bool converged =
        std::abs(sigma - loc.s) <= kWinsorTolerance * loc.s && std::abs(mean - loc.m) <= kWinsorTolerance * loc.s;
    loc.m = mean;
    loc.s = sigma;
    if (converged) break;
  }
  return loc;
}

void winsorized_sigma_clip(const float* v, KeptRange& r, const RejectParams& p, RejectScratch& s) {
  for (int it = 0; it < p.max_iterations && r.count() >= 3; ++it) {
    const Location loc = winsorized_location_impl(v + r.lo, r.count(), s.prefix1.data(), s.prefix2.data());
    if (!clip_range(v, r, loc.m - p.kappa_low * loc.s, loc.m + p.kappa_high * loc.s)) break;
  }
}

// One LinearFitClip pass over the sorted v/frames[0..n): compacts the kept samples in place (order kept),
// returns the new count and adds to the rejection counters; returns n unchanged when nothing would be rejected
// or fewer than 2 samples would remain.
int linear_fit_pass(float* v, std::uint32_t* frames, int n, const double* z, const RejectParams& p, int& rej_low,
                    int& rej_high) {
  int a = 0, b = n;
  while (a < b && z[a] < -1.0) ++a;
  while (b > a && z[b - 1] > 1.0) --b;
  if (b - a < 2) {  // tiny stacks: fit every rank
    a = 0;
    b = n;
  }
  double sz = 0.0, sv = 0.0;
  for (int i = a; i < b; ++i) {
    sz += z[i];
    sv += v[i];
  }
  const double zbar = sz / (b - a), vbar = sv / (b - a);
  double szv = 0.0, szz = 0.0;
  for (int i = a; i < b; ++i) {
    szv += (z[i] - zbar) * (v[i] - vbar);
    szz += (z[i] - zbar) * (z[i] - zbar);
  }
  const double slope = szv / szz;  // >= 0: both sequences ascend
  const double low = -p.kappa_low * slope, high = p.kappa_high * slope;
  auto residual = [&](int i) { return v[i] - (vbar + slope * (z[i] - zbar)); };
  int n_low = 0, n_high = 0;
  for (int i = 0; i < n; ++i) {
    const double r = residual(i);
    n_low += r < low;
    n_high += r > high;
  }
  if (n_low + n_high == 0 || n - n_low - n_high < 2) return n;
  int out = 0;
  for (int i = 0; i < n; ++i) {
    const double r = residual(i);
    if (r < low || r > high) continue;
    v[out] = v[i];
    frames[out] = frames[i];
    ++out;
  }
  rej_low += n_low;
  rej_high += n_high;
  return out;
}

void linear_fit_clip(float* v, std::uint32_t* frames, KeptRange& r, const RejectParams& p, RejectScratch& s,
                     int& rej_low, int& rej_high) {
  for (int it = 0; it < p.max_iterations && r.count() >= 3; ++it) {
    const int n = linear_fit_pass(v, frames, r.hi, s.blom_scores(r.hi), p, rej_low, rej_high);
    if (n == r.hi) break;
    r.hi = n;
  }
}

float combine_kept(const float* v, const std::uint32_t* frames, int n, const float* weights, CombineMethod method) {
  if (method == CombineMethod::Median) return static_cast<float>(median_sorted(v, n));
  double sw = 0.0, swx = 0.0;
  for (int i = 0; i < n; ++i) {
    const double w = weights ? weights[frames[i]] : 1.0;
    sw += w;
    swx += w * v[i];
  }
  return static_cast<float>(swx / sw);
}

inline bool usable_weight(const float* weights, int k) {
  if (!weights) return true;
  const float w = weights[k];
  return std::isfinite(w) && w > 0.0f;
}

// The None + Mean case needs no ordering: one pass over the samples.
PixelResult plain_mean(const float* samples, const float* weights, int n) {
  double sw = 0.0, swx = 0.0;
  int kept = 0;
  for (int k = 0; k < n; ++k) {
    if (!std::isfinite(samples[k]) || !usable_weight(weights, k)) continue;
    const double w = weights ? weights[k] : 1.0;
    sw += w;
    swx += w * samples[k];
    ++kept;
  }
  PixelResult r;
  r.kept = kept;
  r.value = kept ? static_cast<float>(swx / sw) : std::numeric_limits<float>::quiet_NaN();
  return r;
}

}  // namespace

void validate(const RejectParams& p) {
  if (!(p.kappa_low >= 0.0f) || !(p.kappa_high >= 0.0f) || !std::isfinite(p.kappa_low) ||
      !std::isfinite(p.kappa_high))
    throw std::invalid_argument("rejection kappas must be finite and >= 0");
  if (p.max_iterations < 1) throw std::invalid_argument("rejection max_iterations must be >= 1");
}

void RejectScratch::reserve(int n) {
  const auto size = static_cast<std::size_t>(detail::sort_capacity(std::max(n, 0)));
  if (keys.size() < size) {
    keys.resize(size);
    sort_tmp.resize(size);
    values.resize(size);
    frames.resize(size);
    prefix1.resize(size + 1);
    prefix2.resize(size + 1);
  }
}

namespace {
void fill_blom_scores(std::vector<double>& z, int k) {
  z.resize(static_cast<std::size_t>(k));
  for (int i = 0; i < k; ++i) z[i] = detail::normal_quantile((i + 0.625) / (k + 0.25));
}
}  // namespace

const double* RejectScratch::blom_scores(int k) {
  // Small stacks hit the same few k over and over: cache those (at most 256*257/2 doubles). Larger ones are
  // recomputed, with the same function, so the cache never changes a result.
  if (k > kBlomCacheMax) {
    fill_blom_scores(blom_large, k);
    return blom_large.data();
  }
  if (normal_scores.size() <= static_cast<std::size_t>(k)) normal_scores.resize(static_cast<std::size_t>(k) + 1);
  std::vector<double>& z = normal_scores[static_cast<std::size_t>(k)];
  if (z.empty()) fill_blom_scores(z, k);
  return z.data();
}

namespace detail {
Location winsorized_location(const float* sorted, int n, RejectScratch& scratch) {
  scratch.reserve(n);
  return winsorized_location_impl(sorted, n, scratch.prefix1.data(), scratch.prefix2.data());
}
}  // namespace detail

PixelResult combine_pixel(const float* samples, const float* weights, int n, const RejectParams& p,
                          RejectScratch& scratch) {
  if (p.algo == RejectAlgo::None && p.combine == CombineMethod::Mean) return plain_mean(samples, weights, n);
  scratch.reserve(n);
  double* keys = scratch.keys.data();
  int m = 0;
  for (int k = 0; k < n; ++k) {
    if (!std::isfinite(samples[k]) || !usable_weight(weights, k)) continue;
    keys[m++] = detail::make_key(samples[k], static_cast<std::uint32_t>(k));
  }
  PixelResult result;
  if (m == 0) {
    result.value = std::numeric_limits<float>::quiet_NaN();
    return result;
  }
  detail::sort_keys(keys, m, scratch.sort_tmp.data());
  float* v = scratch.values.data();
  std::uint32_t* frames = scratch.frames.data();
  for (int i = 0; i < m; ++i) {
    v[i] = detail::key_value(keys[i]);
    frames[i] = detail::key_frame(keys[i]);
  }
  KeptRange r{0, m};
  switch (p.algo) {
    case RejectAlgo::None:
      break;
    case RejectAlgo::KappaSigma:
      kappa_sigma(v, r, p);
      break;
    case RejectAlgo::WinsorizedSigmaClip:
      winsorized_sigma_clip(v, r, p, scratch);
      break;
    case RejectAlgo::LinearFitClip:
      linear_fit_clip(v, frames, r, p, scratch, result.rejected_low, result.rejected_high);
      break;
  }
  if (p.algo != RejectAlgo::LinearFitClip) {
    result.rejected_low = r.lo;
    result.rejected_high = m - r.hi;
  }
  result.kept = r.count();
  result.value = combine_kept(v + r.lo, frames + r.lo, r.count(), weights, p.combine);
  return result;
}

PixelResult combine_pixel(std::span<const float> samples, std::span<const float> weights, const RejectParams& p) {
  if (!weights.empty() && weights.size() != samples.size())
    throw std::invalid_argument("combine_pixel: weights and samples differ in size");
  RejectScratch scratch;
  return combine_pixel(samples.data(), weights.empty() ? nullptr : weights.data(),
                       static_cast<int>(samples.size()), p, scratch);
}

}  // namespace zm
