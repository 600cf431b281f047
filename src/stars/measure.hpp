// Sub-pixel measurement of one star on a background-subtracted image: adaptive Gaussian-weighted moments.
#pragma once

#include <optional>

#include "stars/star.hpp"

namespace zm {

struct MeasureParams {
  double fwhm_guess = 3.0;
  double aperture_fwhm = 2.0;
  double min_aperture = 3.0;
  double max_shift = 3.0;  // a centroid that wanders further from its seed belongs to something else
  double gain = 0.0;
};

// Measures the star seeded at integer pixel (x0, y0) of `resid` (image minus background), `noise` being the
// local per-pixel sigma. The weight is a circular Gaussian re-centred and re-sized each iteration until its
// centre is the weighted centroid and its width matches the star's (adaptive moments): for any symmetric profile
// the fixed point is the true centre, up to the sampling error of the discrete sums, which is negligible once
// the FWHM exceeds ~2 px. peak/saturation are not filled in here. nullopt when it does not converge.
std::optional<Star> measure_star(const float* resid, int width, int height, int x0, int y0, double noise,
                                 const MeasureParams& params);

}  // namespace zm
