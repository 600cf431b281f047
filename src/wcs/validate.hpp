// Pre-flight validation of a header WCS (like ZeMosaic's validate_wcs_header), with a reason when rejected.
#pragma once

#include <string>

#include "io/fits_header.hpp"

namespace zm {

struct WcsBounds {
  double min_scale_arcsec = 0.3;
  double max_scale_arcsec = 15.0;
};

struct WcsValidation {
  bool ok = false;
  std::string reason;         // empty when ok
  double scale_arcsec = 0.0;  // when computable
};

// Checks: celestial CTYPE pair (RA/DEC or GLON/GLAT ...), numeric CRVAL/CRPIX, a CD matrix or PC+CDELT (or
// CDELT alone), finite and non-singular (|det| >= 1e-16), pixel scale within bounds, wcslib accepts it, and the
// footprint corners are finite with |Dec| <= 90.5. width/height 0 = take NAXIS1/2 from the header.
WcsValidation validate_wcs_header(const FitsHeader& header, const WcsBounds& bounds = {}, int width = 0,
                                  int height = 0);

}  // namespace zm
