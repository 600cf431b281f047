// Per-frame, per-channel normalisation coefficients that bring each frame onto a reference frame's photometric
// scale before stacking (frame' = gain * frame + offset), computed from pixel samples, not whole frames.
//
// - None: identity.
// - LinearFit (ZeMosaic's two-point fit, AS:_normalize_images_linear_fit): the low/high percentiles (default
//   P25/P90) of frame and reference are matched: gain = (ref_hi - ref_lo) / (src_hi - src_lo),
//   offset = ref_lo - gain * src_lo. Percentiles make it insensitive to stars, trails and hot pixels. It
//   matches intensity distributions, so it assumes both frames see the same scene with comparable noise.
//   Degenerate cases fall back to an offset-only match at the low percentile (gain 1): a percentile spread
//   below 1e-4 of the data scale in either frame, or a gain outside [1/max_gain, max_gain] (ZeMosaic instead
//   leaves such frames untouched).
// - SkyMean: offset only, offset = sky(reference) - sky(frame) with sky = the sky_percentile (default P25) of
//   each channel. Per channel (ZeMosaic uses one luminance offset): sky colour drifts between frames too.
// A percentile that cannot be computed (no finite sample) gives the identity. The reference frame always gets
// the exact identity.
#pragma once

#include <span>

#include "stack/frame_samples.hpp"
#include "stack/linear_coeffs.hpp"

namespace zm {

enum class NormMethod { None, LinearFit, SkyMean };

struct NormParams {
  double low_percentile = 25.0;
  double high_percentile = 90.0;
  double sky_percentile = 25.0;
  double max_gain = 20.0;
};

LinearCoeffs normalization_coeffs(NormMethod method, std::span<const float> reference, std::span<const float> frame,
                                  const NormParams& params = {});

// Both functions throw std::invalid_argument unless 0 <= low_percentile < high_percentile <= 100,
// 0 <= sky_percentile <= 100 and max_gain >= 1.
//
// Coefficients for every frame and channel against frames[reference_frame]. Every FrameSamples must have the
// same channel count. Throws std::invalid_argument otherwise or when reference_frame is out of range.
PerFrameChannel<LinearCoeffs> compute_normalization(NormMethod method, std::span<const FrameSamples> frames,
                                                    int reference_frame, const NormParams& params = {});

}  // namespace zm
