// Exact gnomonic (TAN) geometry used to lay out the simulated sky: tangent planes via unit vectors and
// TAN pixel grids (CRVAL, 0-based CRPIX, CD) that convert to a zm::Wcs for writing and for wcslib checks.
//
// The standard coordinates (xi, eta) are the FITS intermediate world coordinates of a TAN projection with
// LONPOLE = 180: xi grows towards East (increasing RA), eta towards North, both in degrees.
#pragma once

#include <array>
#include <optional>

#include "wcs/wcs.hpp"

namespace zm::sim {

struct Vec3 {
  double x = 0.0;
  double y = 0.0;
  double z = 0.0;
};

inline double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
Vec3 unit_vector(SkyCoord s);
SkyCoord to_sky(const Vec3& v);  // need not be normalised; RA in [0, 360)

class TangentPlane {
 public:
  explicit TangentPlane(SkyCoord tangent_point);
  SkyCoord tangent_point() const { return centre_; }
  // Standard coordinates (degrees) of a direction; nullopt on or behind the plane's horizon.
  std::optional<std::array<double, 2>> project(const Vec3& p) const;
  std::optional<std::array<double, 2>> project(SkyCoord s) const { return project(unit_vector(s)); }
  SkyCoord deproject(double xi_deg, double eta_deg) const;

 private:
  SkyCoord centre_;
  Vec3 n_;      // towards the tangent point
  Vec3 east_;   // +xi
  Vec3 north_;  // +eta
};

// CD matrix (deg/px, row-major) of a non-flipped grid whose +Y axis points at `position_angle_deg`
// East of North (0 = north up, east left as on the sky).
std::array<double, 4> cd_for_position_angle(double scale_arcsec, double position_angle_deg);

// A TAN pixel grid. crpix is 0-based like every pixel coordinate here.
struct TanGrid {
  SkyCoord crval;
  PixelCoord crpix;
  std::array<double, 4> cd{};  // {CD1_1, CD1_2, CD2_1, CD2_2}
  int width = 0;
  int height = 0;

  TangentPlane plane() const { return TangentPlane(crval); }
  std::optional<PixelCoord> to_pixel(SkyCoord s) const;
  std::optional<PixelCoord> standard_to_pixel(double xi, double eta) const;
  SkyCoord to_sky(PixelCoord p) const;
  std::array<double, 2> pixel_to_standard(PixelCoord p) const;
  Wcs to_wcs() const { return Wcs::make_tan(crval, crpix, cd, width, height); }
};

}  // namespace zm::sim
