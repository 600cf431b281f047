#include "stack/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "stack/robust_stats.hpp"

namespace zm {
namespace {

constexpr double kMinRelativeSpread = 1e-4;

struct TwoPoint {
  double lo = 0.0;
  double hi = 0.0;
  bool finite() const { return std::isfinite(lo) && std::isfinite(hi); }
};

TwoPoint two_point(std::span<const float> s, const NormParams& p) {
  const double ps[2] = {p.low_percentile, p.high_percentile};
  const std::vector<double> v = percentiles(s, ps);
  return {v[0], v[1]};
}

LinearCoeffs offset_only(double ref, double src) {
  LinearCoeffs c;
  if (std::isfinite(ref) && std::isfinite(src)) c.offset = static_cast<float>(ref - src);
  return c;
}

LinearCoeffs linear_fit(const TwoPoint& ref, const TwoPoint& src, const NormParams& p) {
  if (!ref.finite() || !src.finite()) return {};
  const double scale = std::max({std::abs(ref.lo), std::abs(ref.hi), std::abs(src.lo), std::abs(src.hi)});
  const double min_spread = kMinRelativeSpread * scale;
  const double d_ref = ref.hi - ref.lo, d_src = src.hi - src.lo;
  if (!(d_ref > min_spread) || !(d_src > min_spread)) return offset_only(ref.lo, src.lo);
  const double gain = d_ref / d_src;
  if (!(gain <= p.max_gain && gain >= 1.0 / p.max_gain)) return offset_only(ref.lo, src.lo);
  return {static_cast<float>(gain), static_cast<float>(ref.lo - gain * src.lo)};
}

void check(const NormParams& p) {
  if (!(p.low_percentile >= 0.0 && p.low_percentile < p.high_percentile && p.high_percentile <= 100.0) ||
      !(p.sky_percentile >= 0.0 && p.sky_percentile <= 100.0) || !(p.max_gain >= 1.0))
    throw std::invalid_argument("normalisation: need 0 <= low < high <= 100 percentiles and max_gain >= 1");
}

}  // namespace

LinearCoeffs normalization_coeffs(NormMethod method, std::span<const float> reference, std::span<const float> frame,
                                  const NormParams& p) {
  check(p);
  switch (method) {
    case NormMethod::None:
      return {};
    case NormMethod::LinearFit:
      return linear_fit(two_point(reference, p), two_point(frame, p), p);
    case NormMethod::SkyMean:
      return offset_only(percentile(reference, p.sky_percentile), percentile(frame, p.sky_percentile));
  }
  return {};
}

PerFrameChannel<LinearCoeffs> compute_normalization(NormMethod method, std::span<const FrameSamples> frames,
                                                    int reference_frame, const NormParams& p) {
  check(p);
  const int n = static_cast<int>(frames.size());
  if (n == 0) return {};
  if (reference_frame < 0 || reference_frame >= n)
    throw std::invalid_argument("compute_normalization: reference frame out of range");
  const int channels = frames[0].channels;
  for (const FrameSamples& f : frames)
    if (f.channels != channels) throw std::invalid_argument("compute_normalization: channel counts differ");
  PerFrameChannel<LinearCoeffs> out(n, channels);
  if (method == NormMethod::None) return out;
  for (int c = 0; c < channels; ++c) {
    const std::span<const float> ref = frames[reference_frame].channel(c);
    const TwoPoint ref_points = two_point(ref, p);
    const double ref_sky = percentile(ref, p.sky_percentile);
    for (int f = 0; f < n; ++f) {
      if (f == reference_frame) continue;
      const std::span<const float> src = frames[f].channel(c);
      out.at(f, c) = method == NormMethod::LinearFit ? linear_fit(ref_points, two_point(src, p), p)
                                                     : offset_only(ref_sky, percentile(src, p.sky_percentile));
    }
  }
  return out;
}

}  // namespace zm
