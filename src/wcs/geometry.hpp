// Sky geometry helpers on top of Wcs: scales, footprints, centres, angles, distances.
#pragma once

#include <array>

#include "wcs/wcs.hpp"

namespace zm {

// Great-circle distance (degrees), numerically stable for tiny and antipodal separations (Vincenty).
double angular_distance_deg(SkyCoord a, SkyCoord b);
// Position angle of b seen from a, degrees East of North in [0, 360).
double bearing_deg(SkyCoord a, SkyCoord b);

// Local quantities are taken at the image centre, or at CRPIX while the image size is unknown (0).
// Mean pixel scale (arcsec/px) at the image centre, from sqrt(|det J|) of the local Jacobian.
double pixel_scale_arcsec(Wcs& wcs);
// Sky positions of the four outer pixel corners: (-0.5,-0.5), (W-0.5,-0.5), (W-0.5,H-0.5), (-0.5,H-0.5).
std::array<SkyCoord, 4> footprint_corners(Wcs& wcs);
// Sky position of the image centre ((W-1)/2, (H-1)/2); of CRPIX when the size is unknown.
SkyCoord image_centre(Wcs& wcs);
// Position angle of the image +Y axis, degrees East of North in (-180, 180].
double position_angle_deg(Wcs& wcs);
// True when the pixel axes are mirrored relative to the sky (det CD > 0 in the usual RA-left convention).
bool is_flipped(Wcs& wcs);

}  // namespace zm
