// Carrying a solved WCS over to another frame of the same camera through a pixel-to-pixel affine transform.
#pragma once

#include <optional>
#include <string>

#include "io/fits_header.hpp"
#include "stars/transform.hpp"

namespace zm {

// The WCS of a frame whose pixel p maps to pixel target_to_ref(p) of the frame described by `ref_wcs` (a TAN or
// TAN-SIP header in CD form, as Wcs::write_to_header writes it). Exact: the SIP polynomials are re-expressed in the
// new pixel axes (an affine substitution keeps their order), so no distortion is lost. nullopt (with `why`) for
// projections or distortions it cannot carry (TPV, non-TAN) or a singular transform.
std::optional<FitsHeader> compose_wcs(const FitsHeader& ref_wcs, const Affine2D& target_to_ref, int width, int height,
                                      std::string* why = nullptr);

}  // namespace zm
