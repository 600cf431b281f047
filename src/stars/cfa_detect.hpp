// Detection images from raw Bayer (CFA) frames, and star detection on them in full-resolution coordinates.
#pragma once

#include <vector>

#include "image/debayer.hpp"
#include "image/image.hpp"
#include "stars/detect.hpp"

namespace zm {

// Mean of each aligned 2x2 cell (one R, two G, one B whatever the pattern): (width/2) x (height/2), an odd last
// row/column is dropped. `out` holds (width/2) * (height/2) floats.
void bin2x2_luminance(const float* cfa, int width, int height, float* out);
ImageF bin2x2_luminance(const float* cfa, int width, int height);
ImageF green_plane(const float* cfa, int width, int height, BayerPattern pattern);
void green_plane(const float* cfa, int width, int height, BayerPattern pattern, float* out);  // width * height

// A star measured on the 2x2-binned image expressed in full-resolution pixels: bin (i, j) covers pixels
// (2i, 2j)..(2i+1, 2j+1), so its centre is (2i + 0.5, 2j + 0.5); FWHM doubles; flux (a sum of 2x2 means)
// is multiplied by 4 to be a sum of full-resolution pixels. Peak and SNR stay as measured.
Star binned_to_full_res(const Star& s);

// Runs detect_stars on the chosen detection image and returns full-resolution coordinates. `params` applies to
// the detection image as it is (lengths in binned pixels for Binned2x2), except `saturation`, which for
// Binned2x2 is checked on the raw CFA sites around each star (a 2x2 mean dilutes a saturated site); there,
// saturated stars are removed after the `max_stars` cut, so fewer may come back.
std::vector<Star> detect_stars_cfa(const float* cfa, int width, int height, BayerPattern pattern,
                                   CfaDetectMode mode, const DetectParams& params = {}, DetectInfo* info = nullptr);

}  // namespace zm
