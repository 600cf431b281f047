// Hot-pixel correction: isolated pixels far above their local 5x5 median are replaced by that median.
#pragma once

#include <cstddef>

#include "image/debayer.hpp"
#include "image/image.hpp"

namespace zm {

struct HotPixelParams {
  float threshold_sigma = 3.0f;  // excess over the 5x5 median, in local sigmas
  // Isolation: the excess must also beat this many times the largest excess among the nearest neighbours (a hot
  // pixel is a single-pixel spike; a star core is not): excess > threshold_sigma*sigma + ratio*neighbour_excess.
  float isolation_ratio = 4.0f;
  float sigma_floor = 1e-5f;  // lower bound of the local sigma (flat synthetic data has MAD = 0)
};

// Rows of context a band needs on each side: a 5x5 same-colour window on a CFA spans 4 rows, and one more is needed
// at the first/last rows, where each colour plane is mirrored as its own image.
constexpr int kHotPixelHalo = 5;

// Per channel of a colour image. Returns the number of pixels replaced.
std::size_t correct_hot_pixels(ImageF& image, const HotPixelParams& params = {});

// On a raw CFA frame, before demosaicing (so a hot site is not smeared into its neighbours): each pixel is
// compared with the 5x5 window of same-colour sites. Returns the number of pixels replaced.
std::size_t correct_hot_pixels_cfa(ImageF& cfa, BayerPattern pattern, const HotPixelParams& params = {});

// Band form of correct_hot_pixels_cfa: `in` holds rows [in_row0, in_row0+in_rows) of a width x full_height CFA;
// corrected output rows [out_row0, out_row0+out_rows) go to `out` (out_rows x width). Identical to the whole-image
// result when the halo is present.
std::size_t correct_hot_pixels_cfa_rows(BayerPattern pattern, const HotPixelParams& params, const float* in, int width,
                                        int full_height, int in_row0, int in_rows, int out_row0, int out_rows,
                                        float* out);

}  // namespace zm
