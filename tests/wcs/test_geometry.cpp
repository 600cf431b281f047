// Sky geometry helpers against hand-derived values.
#include <gtest/gtest.h>

#include <cmath>

#include "wcs/geometry.hpp"
#include "wcs/wcs.hpp"
#include "wcs_test_util.hpp"

namespace zm {
namespace {

TEST(WcsAngularDistance, KnownValues) {
  EXPECT_NEAR(angular_distance_deg({0, 0}, {90, 0}), 90.0, 1e-12);
  EXPECT_NEAR(angular_distance_deg({10, 20}, {10, 21.5}), 1.5, 1e-12);
  EXPECT_NEAR(angular_distance_deg({123, 0}, {5, 90}), 90.0, 1e-12);
  // Opposite meridians at Dec 60: the great circle runs over the pole, 30 + 30 degrees.
  EXPECT_NEAR(angular_distance_deg({0, 60}, {180, 60}), 60.0, 1e-12);
  // Across RA = 0.
  EXPECT_NEAR(angular_distance_deg({359.5, 0}, {0.5, 0}), 1.0, 1e-12);
  // Symmetric.
  EXPECT_DOUBLE_EQ(angular_distance_deg({12, 34}, {56, -7}), angular_distance_deg({56, -7}, {12, 34}));
}

TEST(WcsAngularDistance, TinyAndAntipodalSeparationsKeepPrecision) {
  // acos(dot) would return 0 here; Vincenty keeps the full relative precision.
  const double dec2 = 40.0 + 1e-10;  // the separation is exactly dec2 - 40 (Sterbenz), about 1e-10
  EXPECT_NEAR(angular_distance_deg({100, 40}, {100, dec2}), dec2 - 40.0, 1e-23);
  const double tiny_ra = 1e-9;
  EXPECT_NEAR(angular_distance_deg({0, 60}, {tiny_ra, 60}), tiny_ra * 0.5, 1e-19);
  EXPECT_NEAR(angular_distance_deg({0, 0}, {180, 0}), 180.0, 1e-12);
  EXPECT_NEAR(angular_distance_deg({30, 25}, {210, -25}), 180.0, 1e-12);
  // Near-antipodal: 1e-7 deg short of 180 (acos would lose this entirely).
  EXPECT_NEAR(angular_distance_deg({0, 0}, {180, 1e-7}), 180.0 - 1e-7, 1e-12);
  EXPECT_EQ(angular_distance_deg({47, -13}, {47, -13}), 0.0);
}

TEST(WcsBearing, CardinalDirections) {
  EXPECT_NEAR(bearing_deg({10, 0}, {10, 1}), 0.0, 1e-12);
  EXPECT_NEAR(bearing_deg({10, 0}, {11, 0}), 90.0, 1e-12);
  EXPECT_NEAR(bearing_deg({10, 0}, {10, -1}), 180.0, 1e-12);
  EXPECT_NEAR(bearing_deg({0.5, 0}, {359.5, 0}), 270.0, 1e-12);
  // Towards the pole is always north.
  EXPECT_NEAR(bearing_deg({200, 45}, {0, 90}), 0.0, 1e-12);
  const double b = bearing_deg({10, 10}, {10.01, 10.01});
  EXPECT_GT(b, 0.0);
  EXPECT_LT(b, 90.0);
}

Wcs centred_tan(double ra0, double dec0, const std::array<double, 4>& cd, int w = 1000, int h = 800) {
  return Wcs::make_tan({ra0, dec0}, {0.5 * (w - 1), 0.5 * (h - 1)}, cd, w, h);
}

TEST(WcsPositionAngle, OfRotatedCdMatrix) {
  for (double pa : {0.0, 30.0, 89.0, 135.0, 180.0, -45.0, -178.76}) {
    Wcs wcs = centred_tan(120.0, -35.0, test::rotated_cd(1.5, pa));
    const double got = position_angle_deg(wcs);
    EXPECT_GT(got, -180.0);
    EXPECT_LE(got, 180.0);
    // Compared modulo 360: at exactly 180 the sign of a rounding-level East component decides +-180.
    EXPECT_NEAR(std::remainder(got - pa, 360.0), 0.0, 1e-7) << pa;
    EXPECT_FALSE(is_flipped(wcs));
    EXPECT_NEAR(pixel_scale_arcsec(wcs), 1.5, 1e-8);
  }
}

TEST(WcsPositionAngle, MirroredImagesAreFlipped) {
  // RA growing to the right (CD1_1 > 0) mirrors the sky.
  Wcs flipped = centred_tan(50.0, 20.0, {1.0 / 3600, 0.0, 0.0, 1.0 / 3600});
  EXPECT_TRUE(is_flipped(flipped));
  EXPECT_NEAR(position_angle_deg(flipped), 0.0, 1e-7);
  Wcs upside_down = centred_tan(50.0, 20.0, {1.0 / 3600, 0.0, 0.0, -1.0 / 3600});
  EXPECT_FALSE(is_flipped(upside_down));
  EXPECT_NEAR(std::fabs(position_angle_deg(upside_down)), 180.0, 1e-7);
}

TEST(WcsPixelScale, NonSquarePixelsGiveGeometricMean) {
  Wcs wcs = centred_tan(10.0, 80.0, {-1.0 / 3600, 0.0, 0.0, 4.0 / 3600});
  EXPECT_NEAR(pixel_scale_arcsec(wcs), 2.0, 1e-8);
}

TEST(WcsFootprint, KnownTanCorners) {
  // 100 x 60 px, 1"/px, north up, east left, centred on (ra0, dec0): corner offsets are +-50" in x and +-30" in y
  // from the reference pixel; the expected sky positions come from the independent gnomonic formula.
  const double ra0 = 359.99, dec0 = 45.0, s = 1.0 / 3600.0;
  Wcs wcs = centred_tan(ra0, dec0, {-s, 0.0, 0.0, s}, 100, 60);
  auto corners = footprint_corners(wcs);
  const double offs[4][2] = {{-50, -30}, {50, -30}, {50, 30}, {-50, 30}};
  for (int k = 0; k < 4; ++k) {
    auto [ra, dec] = test::gnomonic_inverse(ra0, dec0, -s * offs[k][0], s * offs[k][1]);
    EXPECT_LT(test::separation_arcsec(corners[k].ra, corners[k].dec, ra, dec), 1e-7) << k;
  }
  // First corner (x = -0.5) is east of the second, across RA = 0.
  EXPECT_GT(corners[0].ra, 0.0);
  EXPECT_LT(corners[0].ra, 1.0);
  EXPECT_GT(corners[1].ra, 359.0);
  EXPECT_GT(corners[2].dec, corners[1].dec);
  // Width of the bottom edge: 100" along a small circle close to a great circle.
  EXPECT_NEAR(angular_distance_deg(corners[0], corners[1]) * 3600.0, 100.0, 1e-3);

  SkyCoord c = image_centre(wcs);
  EXPECT_NEAR(test::separation_arcsec(c.ra, c.dec, ra0, dec0), 0.0, 1e-9);
}

}  // namespace
}  // namespace zm
