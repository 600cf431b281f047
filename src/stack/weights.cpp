#include "stack/weights.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "stack/robust_stats.hpp"

namespace zm {
namespace {

bool usable(double x) { return std::isfinite(x) && x > 0.0; }

}  // namespace

PerFrameChannel<double> noise_sigmas(std::span<const FrameSamples> frames, const PerFrameChannel<LinearCoeffs>* norm) {
  const int n = static_cast<int>(frames.size());
  const int channels = n ? frames[0].channels : 0;
  for (const FrameSamples& f : frames)
    if (f.channels != channels) throw std::invalid_argument("noise_sigmas: channel counts differ");
  if (norm && (norm->frames != n || norm->channels != channels))
    throw std::invalid_argument("noise_sigmas: normalisation table does not match the frames");
  PerFrameChannel<double> out(n, channels);
  for (int f = 0; f < n; ++f) {
    for (int c = 0; c < channels; ++c) {
      const double gain = norm ? std::abs(static_cast<double>(norm->at(f, c).gain)) : 1.0;
      out.at(f, c) = gain * sigma_clipped_sigma(frames[f].channel(c));
    }
  }
  return out;
}

PerFrameChannel<float> noise_variance_weights(const PerFrameChannel<double>& sigmas) {
  PerFrameChannel<float> out(sigmas.frames, sigmas.channels, 1.0f);
  for (int c = 0; c < sigmas.channels; ++c) {
    double min_var = std::numeric_limits<double>::infinity();
    for (int f = 0; f < sigmas.frames; ++f)
      if (usable(sigmas.at(f, c))) min_var = std::min(min_var, sigmas.at(f, c) * sigmas.at(f, c));
    if (!std::isfinite(min_var)) continue;  // no usable sigma in this channel: all 1
    for (int f = 0; f < sigmas.frames; ++f) {
      const double s = sigmas.at(f, c);
      out.at(f, c) = usable(s) ? static_cast<float>(min_var / (s * s)) : 0.0f;
    }
  }
  return out;
}

PerFrameChannel<float> noise_variance_weights(std::span<const FrameSamples> frames,
                                              const PerFrameChannel<LinearCoeffs>* norm) {
  return noise_variance_weights(noise_sigmas(frames, norm));
}

PerFrameChannel<float> fwhm_weights(std::span<const double> fwhm, int channels) {
  const int n = static_cast<int>(fwhm.size());
  PerFrameChannel<float> out(n, channels, 1.0f);
  std::vector<double> valid;
  for (double f : fwhm)
    if (usable(f)) valid.push_back(f);
  if (valid.empty()) return out;
  std::sort(valid.begin(), valid.end());
  const double min_fwhm = valid.front();
  const std::size_t h = valid.size() / 2;
  const double median = valid.size() % 2 ? valid[h] : 0.5 * (valid[h - 1] + valid[h]);
  for (int f = 0; f < n; ++f) {
    const auto w = static_cast<float>(min_fwhm / (usable(fwhm[f]) ? fwhm[f] : median));
    for (int c = 0; c < channels; ++c) out.at(f, c) = w;
  }
  return out;
}

PerFrameChannel<float> uniform_weights(int frames, int channels) { return {frames, channels, 1.0f}; }

}  // namespace zm
