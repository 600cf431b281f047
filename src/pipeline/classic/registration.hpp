// Phase 3 registration of a frame onto its group's reference frame: WCS prediction refined by star matching.
#pragma once

#include <string>
#include <vector>

#include "stars/star.hpp"
#include "stars/transform.hpp"
#include "wcs/wcs.hpp"

namespace zm {

struct FrameRegistration {
  bool ok = false;
  Affine2D frame_to_ref;      // frame pixel -> reference pixel
  double rms_px = 0.0;        // residual of the matched stars after the fit
  int matched = 0;
  std::string method;         // "identity" (the reference), "stars_wcs" (WCS-guided), "stars_triangles", "wcs"
  std::string reason;         // why star matching was not used (method "wcs")
};

// The affine that best reproduces the WCS mapping frame pixel -> world -> reference pixel over the frame.
Affine2D wcs_predicted_affine(Wcs& frame_wcs, Wcs& ref_wcs, int width, int height);

// Stars of the frame are predicted in the reference frame with the WCS affine, associated with the nearest reference
// star within `radius_px`, and an affine is fitted with iterative 3-sigma clipping. Too few matches: triangle
// matching without the WCS; failing that, the WCS prediction alone (ok stays true, method "wcs", reason set).
FrameRegistration register_frame(const std::vector<Star>& ref_stars, const std::vector<Star>& frame_stars,
                                 const Affine2D& wcs_guess, double radius_px = 4.0);

}  // namespace zm
