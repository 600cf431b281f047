// compose_wcs is exact: a TAN-SIP WCS carried through an affine pixel map gives the same sky positions as the
// original WCS at the mapped pixels.
#include <gtest/gtest.h>

#include <cmath>

#include "solve/wcs_compose.hpp"
#include "wcs/geometry.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

FitsHeader sip_header() {
  FitsHeader h;
  h.set("CTYPE1", std::string("RA---TAN-SIP"));
  h.set("CTYPE2", std::string("DEC--TAN-SIP"));
  h.set("CRVAL1", 192.73);
  h.set("CRVAL2", 41.14);
  h.set("CRPIX1", 595.5);
  h.set("CRPIX2", 920.7);
  h.set("CD1_1", -0.00066);
  h.set("CD1_2", -1.4e-5);
  h.set("CD2_1", 1.4e-5);
  h.set("CD2_2", -0.00066);
  h.set("A_ORDER", 3LL);
  h.set("B_ORDER", 3LL);
  h.set("A_2_0", 2.4e-7);
  h.set("A_1_1", -6.3e-8);
  h.set("A_0_2", 1.3e-7);
  h.set("A_3_0", 1e-10);
  h.set("B_2_0", -4.6e-7);
  h.set("B_1_1", -1.7e-7);
  h.set("B_0_2", 3.7e-8);
  h.set("B_0_3", -2e-10);
  return h;
}

TEST(WcsCompose, SipThroughAffineIsExact) {
  const int w = 1080, h = 1920;
  Wcs ref = Wcs::from_header(sip_header(), "ref", w, h);
  FitsHeader ref_cards;
  ref.write_to_header(ref_cards);
  for (bool flip : {false, true}) {
    const Affine2D t = Affine2D::similarity(1.004, 2.9, flip, 560.0, 940.0).compose(Affine2D::translation(-530, -975));
    const auto cards = compose_wcs(ref_cards, t, w, h);
    ASSERT_TRUE(cards);
    Wcs got = Wcs::from_header(*cards, "got", w, h);
    EXPECT_TRUE(got.has_distortion());
    double worst = 0.0;
    for (double y = -0.5; y <= h; y += 240.0)
      for (double x = -0.5; x <= w; x += 135.0) {
        const Point2 p = t.apply({x, y});
        const SkyCoord a = got.pixel_to_world(PixelCoord{x, y});
        const SkyCoord b = ref.pixel_to_world(PixelCoord{p.x, p.y});
        worst = std::max(worst, angular_distance_deg(a, b) * 3600.0);
      }
    EXPECT_LT(worst, 1e-6) << "flip " << flip;  // arcsec
    // And back: the inverse SIP carried along keeps world -> pixel consistent.
    const SkyCoord s = got.pixel_to_world(PixelCoord{100.0, 1800.0});
    const auto px = got.world_to_pixel(s);
    ASSERT_TRUE(px);
    EXPECT_NEAR(px->x, 100.0, 1e-6);
    EXPECT_NEAR(px->y, 1800.0, 1e-6);
  }
}

TEST(WcsCompose, RefusesNonTan) {
  FitsHeader h = sip_header();
  h.set("CTYPE1", std::string("RA---SIN"));
  h.set("CTYPE2", std::string("DEC--SIN"));
  std::string why;
  EXPECT_FALSE(compose_wcs(h, Affine2D::identity(), 10, 10, &why));
  EXPECT_NE(why.find("TAN"), std::string::npos);
}

}  // namespace
}  // namespace zm
