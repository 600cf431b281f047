// What a frame's header tells an absolute plate solver: where to look (RA/DEC hint) and the pixel scale.
#pragma once

#include <optional>

#include "io/fits_header.hpp"

namespace zm {

struct SolveHint {
  std::optional<double> ra_deg;   // header RA/DEC: the target, often some 0.1-0.3 deg from the frame centre
  std::optional<double> dec_deg;
  std::optional<double> scale_arcsec;  // from FOCALLEN/XPIXSZ, else SCALE/PIXSCALE cards
};

// Reads RA/DEC (degrees, or OBJCTRA/OBJCTDEC sexagesimal) and the pixel scale. Missing parts stay empty.
SolveHint solve_hint_from_header(const FitsHeader& header);

}  // namespace zm
