// Per-frame, per-channel quality weights for the weighted-mean combine (larger = better; best frame = 1).
//
// - None: all 1.
// - NoiseVariance (ZeMosaic's default): sigma = sigma-clipped 1.4826*MAD of the frame's samples in that channel
//   (3 sigma, 5 passes), multiplied by |gain| when normalisation coefficients are given (the noise of the
//   normalised frame is what the mean sees); weight = min_variance / variance over the frames of that channel,
//   so each channel's best frame has weight 1 (ZeMosaic takes the minimum over all channels at once; a
//   per-channel constant factor does not change a weighted mean). A frame whose sigma is not finite or is 0
//   gets weight 0 (no data, or a dead constant frame); when no frame of a channel has a usable sigma, all get 1.
//   The samples include sky structure and stars, so this measures "noise + clutter"; the caller may pass
//   high-pass residuals instead when it has them.
// - NoiseFwhm: weight = min_fwhm / fwhm per frame (same for every channel), the FWHM measured by the caller's
//   star detection. Frames with no usable FWHM (not finite or <= 0) get the weight of the median valid FWHM;
//   with no valid FWHM at all every weight is 1.
#pragma once

#include <span>

#include "stack/frame_samples.hpp"
#include "stack/linear_coeffs.hpp"

namespace zm {

enum class WeightMethod { None, NoiseVariance, NoiseFwhm };

// Noise sigma of every frame and channel (the statistic behind NoiseVariance). norm: null or one coefficient per
// frame and channel. Throws std::invalid_argument when channel counts or norm's shape differ.
PerFrameChannel<double> noise_sigmas(std::span<const FrameSamples> frames,
                                     const PerFrameChannel<LinearCoeffs>* norm = nullptr);

PerFrameChannel<float> noise_variance_weights(const PerFrameChannel<double>& sigmas);
PerFrameChannel<float> noise_variance_weights(std::span<const FrameSamples> frames,
                                              const PerFrameChannel<LinearCoeffs>* norm = nullptr);

// One weight per frame, replicated over `channels`.
PerFrameChannel<float> fwhm_weights(std::span<const double> fwhm, int channels);

PerFrameChannel<float> uniform_weights(int frames, int channels);

}  // namespace zm
