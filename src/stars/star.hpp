// One detected star: sub-pixel position, photometry and shape, as produced by detection and consumed by matching.
#pragma once

namespace zm {

struct Star {
  double x = 0.0;      // 0-based pixel coordinates of the centroid ((0,0) = centre of the first pixel)
  double y = 0.0;
  double flux = 0.0;   // background-subtracted sum inside the aperture (ADU)
  double peak = 0.0;   // highest background-subtracted pixel near the centroid (ADU)
  double fwhm = 0.0;   // px, from core-weighted second moments, pixel-size broadening removed
  double snr = 0.0;    // flux / its noise (sky + read noise; plus shot noise when a gain is given)
  bool saturated = false;
};

}  // namespace zm
