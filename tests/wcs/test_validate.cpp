// validate_wcs_header: one test per rejection reason, plus the error kinds of Wcs::from_header.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "wcs/validate.hpp"
#include "wcs/wcs.hpp"
#include "wcs_test_util.hpp"

namespace zm {
namespace {

FitsHeader good_header() {
  test::HeaderSpec s;
  s.cd = test::rotated_cd(2.0, 10.0);
  return test::make_header(s);
}

// What a Seestar S50 writes: pointing hints, no WCS.
FitsHeader seestar_like_header() {
  FitsHeader h;
  h.set("SIMPLE", true);
  h.set("BITPIX", 16LL);
  h.set("NAXIS", 2LL);
  h.set("NAXIS1", 1080LL);
  h.set("NAXIS2", 1920LL);
  h.set("BZERO", 32768.0);
  h.set("RA", 193.05);
  h.set("DEC", 41.12);
  h.set("EQUINOX", 2000.0);
  h.set("DATE-OBS", std::string("2025-03-27T01:20:46.000"));
  h.set("BAYERPAT", std::string("GRBG"));
  h.set("FOCALLEN", 250.0);
  return h;
}

std::string reason(const FitsHeader& h, const WcsBounds& b = {}) { return validate_wcs_header(h, b).reason; }

TEST(WcsValidate, GoodHeaderAccepted) {
  WcsValidation v = validate_wcs_header(good_header());
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_TRUE(v.reason.empty());
  EXPECT_NEAR(v.scale_arcsec, 2.0, 1e-9);
}

TEST(WcsValidate, PcCdeltAndCrotaFormsAccepted) {
  FitsHeader h = good_header();
  for (const char* k : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) h.remove(k);
  h.set("CDELT1", -3.0 / 3600);
  h.set("CDELT2", 3.0 / 3600);
  WcsValidation v = validate_wcs_header(h);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_NEAR(v.scale_arcsec, 3.0, 1e-9);
  h.set("CROTA2", 25.0);
  EXPECT_TRUE(validate_wcs_header(h).ok);
  h.set("PC1_1", 0.5);
  h.set("PC2_2", 0.5);
  v = validate_wcs_header(h);
  EXPECT_TRUE(v.ok) << v.reason;
  EXPECT_NEAR(v.scale_arcsec, 1.5, 1e-9);
}

TEST(WcsValidate, MissingCtype) {
  EXPECT_EQ(reason(seestar_like_header()), "no CTYPE1/CTYPE2");
  FitsHeader h = good_header();
  h.remove("CTYPE2");
  EXPECT_EQ(reason(h), "no CTYPE2");
}

TEST(WcsValidate, NonCelestialCtype) {
  FitsHeader h = good_header();
  h.set("CTYPE1", std::string("LINEAR"));
  EXPECT_EQ(reason(h), "CTYPE1='LINEAR' is not celestial");
  h = good_header();
  h.set("CTYPE2", std::string("RA---TAN"));
  EXPECT_EQ(reason(h), "CTYPE1='RA---TAN' and CTYPE2='RA---TAN' are not a longitude/latitude pair");
  // Galactic coordinates are celestial too.
  h = good_header();
  h.set("CTYPE1", std::string("GLON-TAN"));
  h.set("CTYPE2", std::string("GLAT-TAN"));
  EXPECT_TRUE(validate_wcs_header(h).ok);
}

TEST(WcsValidate, NonNumericOrNanReference) {
  FitsHeader h = good_header();
  h.set("CRVAL1", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(reason(h), "CRVAL1 is not finite (nan)");
  h = good_header();
  h.set("CRPIX2", std::string("middle"));
  EXPECT_EQ(reason(h), "CRPIX2 is not numeric");
  h = good_header();
  h.remove("CRVAL2");
  EXPECT_EQ(reason(h), "no CRVAL2");
}

TEST(WcsValidate, MissingOrSingularMatrix) {
  FitsHeader h = good_header();
  for (const char* k : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) h.remove(k);
  EXPECT_EQ(reason(h), "no CD matrix, PC+CDELT or CDELT");
  h = good_header();
  for (const char* k : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) h.set(k, 0.0);
  EXPECT_EQ(reason(h), "CD matrix is singular (det=0)");
  // Rank one: both rows parallel.
  h.set("CD1_1", 1e-4);
  h.set("CD1_2", 2e-4);
  h.set("CD2_1", 2e-4);
  h.set("CD2_2", 4e-4);
  EXPECT_EQ(reason(h), "CD matrix is singular (det=0)");
  h.set("CD2_2", std::numeric_limits<double>::infinity());
  EXPECT_EQ(reason(h), "CD2_2 is not finite (inf)");
}

TEST(WcsValidate, ScaleOutsideBounds) {
  FitsHeader h = good_header();
  const auto small = test::rotated_cd(0.05, 0.0);
  h.set("CD1_1", small[0]);
  h.set("CD2_2", small[3]);
  h.set("CD1_2", 0.0);
  h.set("CD2_1", 0.0);
  WcsValidation v = validate_wcs_header(h);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.reason, "pixel scale 0.05 arcsec/px is outside [0.3, 15]");
  EXPECT_NEAR(v.scale_arcsec, 0.05, 1e-12);
  h.set("CD1_1", -60.0 / 3600);
  h.set("CD2_2", 60.0 / 3600);
  EXPECT_EQ(reason(h), "pixel scale 60 arcsec/px is outside [0.3, 15]");
  WcsBounds wide{0.01, 100.0};
  EXPECT_TRUE(validate_wcs_header(h, wide).ok);
}

TEST(WcsValidate, WcslibRejection) {
  FitsHeader h = good_header();
  h.set("CTYPE1", std::string("RA---XYZ"));
  h.set("CTYPE2", std::string("DEC--XYZ"));
  std::string r = reason(h);
  EXPECT_EQ(r, "wcslib rejected the WCS: Unrecognized projection code (XYZ in CTYPE1)");
}

TEST(WcsValidate, FootprintMustBeFiniteAndSizeKnown) {
  // SIN reaches only 90 deg from its centre: the corners of an 83 x 83 deg field fall off the sphere.
  test::HeaderSpec s;
  s.projection = "SIN";
  s.cd = test::rotated_cd(15.0, 0.0);
  s.width = s.height = 20000;
  s.crpix1 = s.crpix2 = 10000.5;
  EXPECT_EQ(reason(test::make_header(s)), "footprint corner is not finite");
  FitsHeader h = good_header();
  h.remove("NAXIS1");
  h.remove("NAXIS2");
  EXPECT_EQ(reason(h), "image size unknown (no NAXIS1/NAXIS2) for the footprint check");
  EXPECT_TRUE(validate_wcs_header(h, {}, 2000, 1500).ok);
}

TEST(WcsFromHeader, ErrorKinds) {
  try {
    Wcs::from_header(seestar_like_header(), "seestar.fit");
    FAIL() << "expected NoWcs";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::NoWcs);
    EXPECT_EQ(e.path(), "seestar.fit");
  }
  FitsHeader linear = good_header();
  linear.set("CTYPE1", std::string("LINEAR"));
  linear.set("CTYPE2", std::string("LINEAR"));
  try {
    Wcs::from_header(linear, "linear.fit");
    FAIL() << "expected NoWcs";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::NoWcs);
    EXPECT_NE(e.reason().find("LINEAR"), std::string::npos) << e.reason();
  }
  FitsHeader singular = good_header();
  for (const char* k : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) singular.set(k, 0.0);
  try {
    Wcs::from_header(singular, "singular.fit");
    FAIL() << "expected BadWcs";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadWcs);
    EXPECT_NE(e.reason().find("singular"), std::string::npos) << e.reason();
  }
  FitsHeader nan = good_header();
  nan.set("CRVAL1", std::numeric_limits<double>::quiet_NaN());
  try {
    Wcs::from_header(nan, "nan.fit");
    FAIL() << "expected BadWcs";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadWcs);
    EXPECT_EQ(e.reason(), "CRVAL1 is not a finite number");
  }
}

TEST(WcsFromHeader, QuotedNumbersAreRead) {
  FitsHeader plain = good_header();
  FitsHeader quoted = good_header();
  quoted.set("CRVAL1", std::string("150.0"));
  quoted.set("CRPIX2", std::string("750.5"));
  quoted.set("CD1_1", *plain.get_string("CD1_1"));  // shortest round-trip text of the same double
  Wcs a = Wcs::from_header(plain, "plain");
  Wcs b = Wcs::from_header(quoted, "quoted");
  EXPECT_DOUBLE_EQ(b.crval().ra, 150.0);
  SkyCoord pa = a.pixel_to_world(PixelCoord{10, 20}), pb = b.pixel_to_world(PixelCoord{10, 20});
  EXPECT_EQ(pa.ra, pb.ra);
  EXPECT_EQ(pa.dec, pb.dec);
}

TEST(WcsFromHeader, SizeSources) {
  FitsHeader h = good_header();
  EXPECT_EQ(Wcs::from_header(h, "a").width(), 2000);
  EXPECT_EQ(Wcs::from_header(h, "a", 640, 480).height(), 480);
  h.set("NAXIS", 0LL);
  h.remove("NAXIS1");
  h.remove("NAXIS2");
  h.set("IMAGEW", 1080LL);
  h.set("IMAGEH", 1920LL);
  Wcs w = Wcs::from_header(h, "sidecar");
  EXPECT_EQ(w.width(), 1080);
  EXPECT_EQ(w.height(), 1920);
  h.remove("IMAGEW");
  EXPECT_EQ(Wcs::from_header(h, "none").width(), 0);
}

TEST(WcsFromHeader, SwappedAxesKeepImageAxisOrder) {
  // DEC on image axis 1, RA on axis 2: pixel x must still be image axis 1.
  FitsHeader h = good_header();
  h.set("CTYPE1", std::string("DEC--TAN"));
  h.set("CTYPE2", std::string("RA---TAN"));
  h.set("CRVAL1", 30.0);
  h.set("CRVAL2", 150.0);
  Wcs w = Wcs::from_header(h, "swapped");
  EXPECT_DOUBLE_EQ(w.crval().ra, 150.0);
  EXPECT_DOUBLE_EQ(w.crval().dec, 30.0);
  SkyCoord s = w.pixel_to_world(PixelCoord{1099.5, 749.5});  // +100 px along image axis 1
  // World axis 1 is Dec now: CD1_1 = -2"cos(10 deg) per pixel moves Dec by -0.0547 deg over 100 px.
  EXPECT_NEAR(s.dec, 30.0 - 100 * 2.0 / 3600 * std::cos(10.0 * test::kDeg), 1e-5);
  auto back = w.world_to_pixel(s);
  ASSERT_TRUE(back);
  EXPECT_NEAR(back->x, 1099.5, 1e-6);
  EXPECT_NEAR(back->y, 749.5, 1e-6);
}

}  // namespace
}  // namespace zm
