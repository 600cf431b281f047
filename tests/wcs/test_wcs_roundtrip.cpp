// pixel -> world -> pixel round trips for every projection we expect, and header write -> read round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "wcs/geometry.hpp"
#include "wcs/wcs.hpp"
#include "wcs_test_util.hpp"

namespace zm {
namespace {

using test::HeaderSpec;
using test::make_header;

struct Case {
  std::string name;
  HeaderSpec spec;
  bool sip = false;
};

// A 3rd-order SIP distortion of a few pixels at the corners, with an approximate inverse (AP/BP) that is
// deliberately crude: wcslib only uses it as the starting point of its iteration.
void add_sip(FitsHeader& h, bool with_inverse) {
  std::string ctype1 = *h.get_string("CTYPE1"), ctype2 = *h.get_string("CTYPE2");
  h.set("CTYPE1", ctype1 + "-SIP");
  h.set("CTYPE2", ctype2 + "-SIP");
  h.set("A_ORDER", 3LL);
  h.set("A_2_0", 1.5e-6);
  h.set("A_1_1", -8.0e-7);
  h.set("A_0_2", 6.0e-7);
  h.set("A_3_0", 2.0e-10);
  h.set("A_1_2", -1.0e-10);
  h.set("B_ORDER", 3LL);
  h.set("B_2_0", -4.0e-7);
  h.set("B_1_1", 1.1e-6);
  h.set("B_0_2", -9.0e-7);
  h.set("B_0_3", 1.5e-10);
  h.set("B_2_1", 0.5e-10);
  if (!with_inverse) return;
  h.set("AP_ORDER", 2LL);
  h.set("AP_2_0", -1.5e-6);
  h.set("AP_1_1", 8.0e-7);
  h.set("AP_0_2", -6.0e-7);
  h.set("BP_ORDER", 2LL);
  h.set("BP_2_0", 4.0e-7);
  h.set("BP_1_1", -1.1e-6);
  h.set("BP_0_2", 9.0e-7);
}

// Readable test names in ctest and failure messages.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

FitsHeader case_header(const Case& c) {
  FitsHeader h = make_header(c.spec);
  if (c.sip) add_sip(h, true);
  return h;
}

HeaderSpec spec(std::string proj, double ra0, double dec0, double arcsec = 2.0, double pa = 20.0) {
  HeaderSpec s;
  s.projection = std::move(proj);
  s.ra0 = ra0;
  s.dec0 = dec0;
  s.cd = test::rotated_cd(arcsec, pa);
  return s;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* proj : {"TAN", "SIN", "ZEA", "STG", "ARC", "CAR"}) {
    cases.push_back({std::string(proj) + "_mid", spec(proj, 150.0, 30.0)});
    // The pole (Dec 90) lies inside this 1.1 x 0.8 deg field.
    cases.push_back({std::string(proj) + "_pole", spec(proj, 45.0, 89.9)});
    // The field straddles RA = 0/360.
    cases.push_back({std::string(proj) + "_ra0", spec(proj, 0.05, -20.0, 2.0, -135.0)});
    cases.push_back({std::string(proj) + "_wide", spec(proj, 300.0, -60.0, 15.0, 90.0)});
  }
  cases.push_back({"TANSIP_mid", spec("TAN", 192.7, 41.1, 2.376, -178.7), true});
  cases.push_back({"TANSIP_pole", spec("TAN", 10.0, 89.9), true});
  cases.push_back({"TANSIP_ra0", spec("TAN", 359.98, 5.0), true});
  return cases;
}

class WcsProjectionRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(WcsProjectionRoundTrip, PixelWorldPixelBelowMicroPixel) {
  const Case& c = GetParam();
  Wcs wcs = Wcs::from_header(case_header(c), c.name);
  ASSERT_EQ(wcs.width(), c.spec.width);
  ASSERT_EQ(wcs.height(), c.spec.height);
  EXPECT_EQ(wcs.projection_code(), c.spec.projection);
  EXPECT_EQ(wcs.has_distortion(), c.sip);
  EXPECT_EQ(wcs.uses_closed_form(), c.spec.projection == "TAN");

  std::vector<double> xs, ys;
  test::pixel_grid(c.spec.width, c.spec.height, 41, 50.0, xs, ys);
  // Both routes: the closed form (TAN only) and wcslib.
  for (bool closed : {true, false}) {
    SCOPED_TRACE(closed ? "closed form" : "wcslib");
    wcs.set_closed_form(closed);
    std::vector<double> ra(xs.size()), dec(xs.size()), x2(xs.size()), y2(xs.size());
    wcs.pixel_to_world(xs, ys, ra, dec);
    wcs.world_to_pixel(ra, dec, x2, y2);
    double worst = 0.0;
    bool crosses_zero = false;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      ASSERT_TRUE(std::isfinite(ra[i]) && std::isfinite(dec[i])) << "pixel " << xs[i] << "," << ys[i];
      ASSERT_GE(ra[i], 0.0);
      ASSERT_LT(ra[i], 360.0);
      ASSERT_LE(std::fabs(dec[i]), 90.0);
      crosses_zero = crosses_zero || ra[i] > 359.0;
      worst = std::max(worst, std::hypot(x2[i] - xs[i], y2[i] - ys[i]));
    }
    EXPECT_LT(worst, 1e-6) << c.name;
    if (c.name.ends_with("_ra0")) {
      EXPECT_TRUE(crosses_zero) << "the field should straddle RA=0";
    }
    // The reference pixel maps to CRVAL (SIP has no zero-order terms here).
    SkyCoord ref = wcs.pixel_to_world(wcs.crpix());
    EXPECT_NEAR(angular_distance_deg(ref, {c.spec.ra0, c.spec.dec0}) * 3600.0, 0.0, 1e-7);
  }
}

INSTANTIATE_TEST_SUITE_P(Wcs, WcsProjectionRoundTrip, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

// Writes the WCS into a header, reads it back through the 80-column card form, and compares transforms.
void expect_same_transforms(Wcs& a, Wcs& b, double tol_deg) {
  std::vector<double> xs, ys;
  test::pixel_grid(a.width(), a.height(), 21, 0.0, xs, ys);
  std::vector<double> ra1(xs.size()), dec1(xs.size()), ra2(xs.size()), dec2(xs.size());
  a.pixel_to_world(xs, ys, ra1, dec1);
  b.pixel_to_world(xs, ys, ra2, dec2);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    ASSERT_LT(angular_distance_deg({ra1[i], dec1[i]}, {ra2[i], dec2[i]}), tol_deg) << "pixel " << xs[i] << "," << ys[i];
  }
}

class WcsHeaderRoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(WcsHeaderRoundTrip, WriteThenReadReproducesTransforms) {
  const Case& c = GetParam();
  Wcs first = Wcs::from_header(case_header(c), c.name);
  FitsHeader out;
  out.set("SIMPLE", true);
  out.set("NAXIS", 2LL);
  out.set("NAXIS1", static_cast<long long>(first.width()));
  out.set("NAXIS2", static_cast<long long>(first.height()));
  first.write_to_header(out);
  EXPECT_EQ(out.get_int("WCSAXES"), 2);
  EXPECT_EQ(out.get_string("CTYPE1"), "RA---" + c.spec.projection + (c.sip ? "-SIP" : ""));
  EXPECT_EQ(out.get_string("CTYPE2"), "DEC--" + c.spec.projection + (c.sip ? "-SIP" : ""));
  EXPECT_EQ(out.get_string("CUNIT1"), "deg");
  // CRPIX goes back 1-based.
  EXPECT_DOUBLE_EQ(*out.get_double("CRPIX1"), c.spec.crpix1);
  EXPECT_DOUBLE_EQ(*out.get_double("CRPIX2"), c.spec.crpix2);
  EXPECT_DOUBLE_EQ(*out.get_double("CD1_2"), c.spec.cd[1]);
  EXPECT_EQ(out.has("A_ORDER"), c.sip);
  EXPECT_EQ(out.has("AP_ORDER"), c.sip);
  EXPECT_TRUE(out.has("RADESYS"));

  FitsHeader reread = FitsHeader::parse_cards(out.to_card_string());
  Wcs second = Wcs::from_header(reread, "reread");
  EXPECT_EQ(second.has_distortion(), c.sip);
  expect_same_transforms(first, second, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(Wcs, WcsHeaderRoundTrip, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(WcsHeaderWrite, PcCdeltInputIsWrittenAsCdAndStaleCardsGo) {
  HeaderSpec s = spec("TAN", 83.8, -5.4);
  FitsHeader h = make_header(s);
  for (const char* k : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) h.remove(k);
  h.set("CDELT1", -1.0 / 3600.0);
  h.set("CDELT2", 1.0 / 3600.0);
  h.set("PC1_1", 0.8);
  h.set("PC1_2", -0.6);
  h.set("PC2_1", 0.6);
  h.set("PC2_2", 0.8);
  h.set("A_ORDER", 2LL);  // stray SIP card without -SIP in CTYPE: must not survive a rewrite
  h.set("OBJECT", std::string("M 42"));
  Wcs wcs = Wcs::from_header(h, "pc");
  auto cd = wcs.cd();
  EXPECT_DOUBLE_EQ(cd[0], -0.8 / 3600.0);
  EXPECT_DOUBLE_EQ(cd[1], 0.6 / 3600.0);
  EXPECT_DOUBLE_EQ(cd[2], 0.6 / 3600.0);
  EXPECT_DOUBLE_EQ(cd[3], 0.8 / 3600.0);

  wcs.write_to_header(h);  // in place: the old PC/CDELT would otherwise override the new CD in wcslib
  for (const char* k : {"PC1_1", "PC2_2", "CDELT1", "CDELT2", "A_ORDER"}) EXPECT_FALSE(h.has(k)) << k;
  EXPECT_EQ(h.get_string("OBJECT"), "M 42");
  Wcs back = Wcs::from_header(FitsHeader::parse_cards(h.to_card_string()), "back");
  expect_same_transforms(wcs, back, 1e-9);
}

TEST(WcsHeaderWrite, SipWithoutInverseAndSinWithParameters) {
  HeaderSpec s = spec("TAN", 210.0, 54.3, 1.2, 45.0);
  FitsHeader h = make_header(s);
  add_sip(h, false);
  Wcs sip = Wcs::from_header(h, "sip");
  FitsHeader out;
  sip.write_to_header(out);
  EXPECT_TRUE(out.has("A_3_0"));
  EXPECT_FALSE(out.has("AP_ORDER"));
  Wcs sip2 = Wcs::from_header(out, "sip2", s.width, s.height);
  expect_same_transforms(sip, sip2, 1e-9);

  // Slant orthographic (SIN with PV2_1/PV2_2, as in interferometric maps): the PV cards must come through.
  FitsHeader hs = make_header(spec("SIN", 30.0, -40.0, 5.0, 0.0));
  hs.set("PV2_1", 0.05);
  hs.set("PV2_2", -0.02);
  Wcs slant = Wcs::from_header(hs, "slant");
  FitsHeader outs;
  slant.write_to_header(outs);
  EXPECT_DOUBLE_EQ(*outs.get_double("PV2_1"), 0.05);
  Wcs slant2 = Wcs::from_header(outs, "slant2", 2000, 1500);
  expect_same_transforms(slant, slant2, 1e-9);
  // And the slant really changes the mapping (so the comparison above is meaningful).
  Wcs plain = Wcs::from_header(make_header(spec("SIN", 30.0, -40.0, 5.0, 0.0)), "plain");
  EXPECT_GT(angular_distance_deg(slant.pixel_to_world(PixelCoord{0, 0}), plain.pixel_to_world(PixelCoord{0, 0})),
            1e-4);
}

TEST(WcsHeaderWrite, TpvDistortionIsWrittenAsPvCards) {
  FitsHeader h = make_header(spec("TPV", 120.0, 10.0, 0.5, 0.0));
  h.set("PV1_0", 0.0);
  h.set("PV1_1", 1.0);
  h.set("PV1_4", 2e-3);
  h.set("PV1_7", 5e-2);
  h.set("PV2_0", 0.0);
  h.set("PV2_1", 1.0);
  h.set("PV2_5", -3e-3);
  Wcs tpv = Wcs::from_header(h, "tpv");
  EXPECT_TRUE(tpv.has_distortion());
  FitsHeader out;
  tpv.write_to_header(out);
  EXPECT_EQ(out.get_string("CTYPE1"), "RA---TPV");
  EXPECT_DOUBLE_EQ(*out.get_double("PV1_7"), 5e-2);
  Wcs tpv2 = Wcs::from_header(out, "tpv2", 2000, 1500);
  expect_same_transforms(tpv, tpv2, 1e-9);
}

TEST(WcsMakeTan, MatchesTheEquivalentHeader) {
  const std::array<double, 4> cd = test::rotated_cd(3.0, -30.0);
  Wcs made = Wcs::make_tan({10.0, -45.0}, {511.5, 383.5}, cd, 1024, 768);
  EXPECT_EQ(made.width(), 1024);
  EXPECT_EQ(made.height(), 768);
  EXPECT_FALSE(made.has_distortion());
  EXPECT_EQ(made.projection_code(), "TAN");
  EXPECT_DOUBLE_EQ(made.crpix().x, 511.5);
  EXPECT_DOUBLE_EQ(made.crval().dec, -45.0);
  EXPECT_EQ(made.cd(), cd);
  HeaderSpec s;
  s.ra0 = 10.0;
  s.dec0 = -45.0;
  s.crpix1 = 512.5;
  s.crpix2 = 384.5;
  s.cd = cd;
  s.width = 1024;
  s.height = 768;
  Wcs parsed = Wcs::from_header(make_header(s), "hdr");
  expect_same_transforms(made, parsed, 1e-12);
  EXPECT_THROW(Wcs::make_tan({10.0, 0.0}, {0, 0}, {0.0, 0.0, 0.0, 0.0}, 10, 10), InputError);
}

TEST(WcsTransforms, InvalidPointsGiveNanWithoutSpoilingTheRow) {
  // SIN covers one hemisphere only: far pixels and the far side of the sky are invalid.
  Wcs sin = Wcs::from_header(make_header(spec("SIN", 0.0, 0.0, 60.0, 0.0)), "sin");
  const double nan = std::nan("");
  std::vector<double> xs = {1000.0, 1e6, nan, 1001.0}, ys = {750.0, 750.0, 3.0, 751.0};
  std::vector<double> ra(4), dec(4);
  sin.pixel_to_world(xs, ys, ra, dec);
  EXPECT_TRUE(std::isfinite(ra[0]) && std::isfinite(ra[3]));
  EXPECT_TRUE(std::isnan(ra[1]) && std::isnan(dec[1]));
  EXPECT_TRUE(std::isnan(ra[2]) && std::isnan(dec[2]));
  std::vector<double> wra = {0.1, 180.0, nan, 359.9}, wdec = {0.1, 0.0, 0.0, -0.1}, px(4), py(4);
  sin.world_to_pixel(wra, wdec, px, py);
  EXPECT_TRUE(std::isfinite(px[0]) && std::isfinite(px[3]));
  EXPECT_TRUE(std::isnan(px[1]) && std::isnan(py[1]));
  EXPECT_TRUE(std::isnan(px[2]));
  EXPECT_FALSE(sin.world_to_pixel(SkyCoord{180.0, 0.0}).has_value());
  // TAN: the opposite hemisphere has no image, by either route.
  Wcs tan = Wcs::from_header(make_header(spec("TAN", 0.0, 0.0)), "tan");
  for (bool closed : {true, false}) {
    tan.set_closed_form(closed);
    EXPECT_FALSE(tan.world_to_pixel(SkyCoord{180.0, 10.0}).has_value());
    EXPECT_FALSE(tan.world_to_pixel(SkyCoord{nan, 10.0}).has_value());
    EXPECT_TRUE(tan.world_to_pixel(SkyCoord{0.1, 0.1}).has_value());
    EXPECT_TRUE(std::isnan(tan.pixel_to_world(PixelCoord{nan, 1.0}).ra));
  }
  std::vector<double> one(1), two(2);
  EXPECT_THROW(tan.pixel_to_world(one, two, one, one), std::invalid_argument);
}

TEST(WcsTransforms, LongRowsSpanSeveralChunks) {
  Wcs wcs = Wcs::from_header(make_header(spec("TAN", 150.0, 30.0)), "long");
  wcs.set_closed_form(false);  // the chunking lives in the wcslib route
  const std::size_t n = 5000;  // more than one internal chunk, not a multiple of it
  std::vector<double> xs(n), ys(n, 700.0), ra(n), dec(n);
  for (std::size_t i = 0; i < n; ++i) xs[i] = -1000.0 + 0.8 * static_cast<double>(i);
  wcs.pixel_to_world(xs, ys, ra, dec);
  for (std::size_t i = 0; i < n; i += 611) {
    SkyCoord s = wcs.pixel_to_world(PixelCoord{xs[i], ys[i]});
    EXPECT_EQ(s.ra, ra[i]);
    EXPECT_EQ(s.dec, dec[i]);
  }
}

}  // namespace
}  // namespace zm
