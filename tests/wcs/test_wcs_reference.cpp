// Agreement with independent implementations (closed-form TAN, the SIP convention) and with real plate solutions.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fits_reader.hpp"
#include "wcs/geometry.hpp"
#include "wcs/validate.hpp"
#include "wcs/wcs.hpp"
#include "wcs_test_util.hpp"

namespace zm {
namespace {

using test::kDeg;
using test::kRad;

// TAN (gnomonic) pixel -> sky written out from Calabretta & Greisen 2002, A&A 395, 1077:
//   intermediate world coordinates (x, y) = CD . (p - CRPIX)                 (Paper I, eq. 1-3)
//   phi = arg(-y, x), R_theta = sqrt(x^2 + y^2), theta = atan(180 / (pi R_theta))   (eq. 14, 54)
//   native pole of a zenithal projection: (alpha_p, delta_p) = CRVAL, phi_p = LONPOLE = 180 deg (Sect. 2.4)
//   alpha = alpha_p + arg(sin(theta) cos(delta_p) - cos(theta) sin(delta_p) cos(phi - phi_p),
//                         -cos(theta) sin(phi - phi_p))                        (eq. 2)
//   delta = asin(sin(theta) sin(delta_p) + cos(theta) cos(delta_p) cos(phi - phi_p))
// where arg(a, b) = atan2(b, a).
SkyCoord tan_closed_form(double x, double y, double ra0, double dec0, double crpix1, double crpix2,
                         const std::array<double, 4>& cd) {
  const double u = (x + 1.0) - crpix1, v = (y + 1.0) - crpix2;
  const double xi = cd[0] * u + cd[1] * v, eta = cd[2] * u + cd[3] * v;
  const double phi = std::atan2(xi, -eta);
  const double r = std::hypot(xi, eta);
  const double theta = std::atan2(180.0 / std::numbers::pi, r);
  const double phip = std::numbers::pi, dp = dec0 * kDeg;
  const double a = std::sin(theta) * std::cos(dp) - std::cos(theta) * std::sin(dp) * std::cos(phi - phip);
  const double b = -std::cos(theta) * std::sin(phi - phip);
  double ra = ra0 + std::atan2(b, a) * kRad;
  ra = std::fmod(ra + 360.0, 360.0);
  const double dec =
      std::asin(std::sin(theta) * std::sin(dp) + std::cos(theta) * std::cos(dp) * std::cos(phi - phip)) * kRad;
  return {ra, dec};
}

TEST(WcsReference, TanMatchesCalabrettaGreisenClosedForm) {
  struct Field {
    double ra0, dec0, arcsec, pa;
  };
  for (const Field f : {Field{150.0, 30.0, 2.0, 20.0}, Field{0.2, -60.0, 10.0, 170.0}, Field{300.0, 89.95, 1.0, -45.0},
                        Field{45.0, -89.5, 15.0, 90.0}}) {
    test::HeaderSpec s;
    s.ra0 = f.ra0;
    s.dec0 = f.dec0;
    s.cd = test::rotated_cd(f.arcsec, f.pa);
    Wcs wcs = Wcs::from_header(test::make_header(s), "tan");
    std::vector<double> xs, ys;
    test::pixel_grid(s.width, s.height, 17, 100.0, xs, ys);
    std::vector<double> ra(xs.size()), dec(xs.size());
    wcs.pixel_to_world(xs, ys, ra, dec);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      SkyCoord ref = tan_closed_form(xs[i], ys[i], s.ra0, s.dec0, s.crpix1, s.crpix2, s.cd);
      ASSERT_LT(test::separation_arcsec(ra[i], dec[i], ref.ra, ref.dec), 1e-6)
          << "dec0 " << f.dec0 << " pixel " << xs[i] << "," << ys[i];
      auto back = wcs.world_to_pixel(ref);
      ASSERT_TRUE(back.has_value());
      ASSERT_LT(std::hypot(back->x - xs[i], back->y - ys[i]), 1e-6);
    }
  }
}

TEST(WcsReference, SipMatchesIndependentShupeModel) {
  test::HeaderSpec s;
  s.ra0 = 83.63;
  s.dec0 = 22.01;
  s.cd = test::rotated_cd(2.5, 33.0);
  FitsHeader h = test::make_header(s);
  h.set("CTYPE1", std::string("RA---TAN-SIP"));
  h.set("CTYPE2", std::string("DEC--TAN-SIP"));
  const test::SipTerms a = {{{2, 0}, 2.0e-6}, {{1, 1}, -1.2e-6}, {{0, 2}, 7.0e-7}, {{3, 0}, 3.0e-10}, {{0, 3}, -2.0e-10}};
  const test::SipTerms b = {{{2, 0}, -6.0e-7}, {{1, 1}, 1.5e-6}, {{0, 2}, -1.0e-6}, {{2, 1}, 4.0e-10}, {{1, 2}, 1.0e-10}};
  h.set("A_ORDER", 3LL);
  h.set("B_ORDER", 3LL);
  for (const auto& [pq, c] : a) h.set("A_" + std::to_string(pq.first) + "_" + std::to_string(pq.second), c);
  for (const auto& [pq, c] : b) h.set("B_" + std::to_string(pq.first) + "_" + std::to_string(pq.second), c);
  Wcs wcs = Wcs::from_header(h, "sip");
  ASSERT_TRUE(wcs.has_distortion());

  std::vector<double> xs, ys;
  test::pixel_grid(s.width, s.height, 21, 0.0, xs, ys);
  std::vector<double> ra(xs.size()), dec(xs.size()), x2(xs.size()), y2(xs.size());
  wcs.pixel_to_world(xs, ys, ra, dec);
  double max_distortion_px = 0.0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    auto [rra, rdec] = test::sip_reference(xs[i], ys[i], s.ra0, s.dec0, s.crpix1, s.crpix2, s.cd, a, b);
    ASSERT_LT(test::separation_arcsec(ra[i], dec[i], rra, rdec), 1e-6) << xs[i] << "," << ys[i];
    auto [tra, tdec] = test::sip_reference(xs[i], ys[i], s.ra0, s.dec0, s.crpix1, s.crpix2, s.cd, {}, {});
    max_distortion_px = std::max(max_distortion_px, test::separation_arcsec(ra[i], dec[i], tra, tdec) / 2.5);
  }
  EXPECT_GT(max_distortion_px, 1.0) << "the test distortion should be large enough to matter";
  // Inverse without AP/BP: wcslib iterates the forward polynomial.
  wcs.world_to_pixel(ra, dec, x2, y2);
  for (std::size_t i = 0; i < xs.size(); ++i) ASSERT_LT(std::hypot(x2[i] - xs[i], y2[i] - ys[i]), 1e-6);
}

// The closed-form TAN/TAN-SIP path against wcslib on the same WCS, over the image and well beyond it.
void expect_closed_form_matches_wcslib(Wcs& wcs, double margin) {
  ASSERT_TRUE(wcs.uses_closed_form());
  std::vector<double> xs, ys;
  test::pixel_grid(wcs.width(), wcs.height(), 31, margin, xs, ys);
  const std::size_t n = xs.size();
  std::vector<double> ra1(n), dec1(n), ra2(n), dec2(n), x1(n), y1(n), x2(n), y2(n);
  wcs.pixel_to_world(xs, ys, ra1, dec1);
  wcs.world_to_pixel(ra1, dec1, x1, y1);
  wcs.set_closed_form(false);
  wcs.pixel_to_world(xs, ys, ra2, dec2);
  wcs.world_to_pixel(ra1, dec1, x2, y2);
  wcs.set_closed_form(true);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_LT(test::separation_arcsec(ra1[i], dec1[i], ra2[i], dec2[i]), 1e-7) << xs[i] << "," << ys[i];
    ASSERT_LT(std::hypot(x1[i] - x2[i], y1[i] - y2[i]), 1e-8) << xs[i] << "," << ys[i];
  }
}

TEST(WcsClosedForm, AgreesWithWcslibAndDeclinesWhatItCannotModel) {
  for (double dec0 : {-89.99, -45.0, 0.0, 41.1, 89.9, 89.9999}) {
    SCOPED_TRACE(dec0);
    test::HeaderSpec s;
    s.ra0 = 359.9;
    s.dec0 = dec0;
    s.cd = test::rotated_cd(3.0, 123.0);
    FitsHeader h = test::make_header(s);
    Wcs tan = Wcs::from_header(h, "tan");
    expect_closed_form_matches_wcslib(tan, 500.0);
    h.set("CTYPE1", std::string("RA---TAN-SIP"));
    h.set("CTYPE2", std::string("DEC--TAN-SIP"));
    h.set("A_ORDER", 2LL);
    h.set("A_2_0", 1e-6);
    h.set("A_1_1", -2e-6);
    h.set("B_ORDER", 2LL);
    h.set("B_0_2", 1.5e-6);
    h.set("B_1_0", 1e-4);
    Wcs sip = Wcs::from_header(h, "sip");
    expect_closed_form_matches_wcslib(sip, 100.0);
  }
  // What it leaves to wcslib: a non-default LONPOLE (also the default 0 when CRVAL2 is exactly 90), a
  // (phi0, theta0) offset, TPV, other projections.
  test::HeaderSpec pole;
  pole.dec0 = 90.0;
  EXPECT_FALSE(Wcs::from_header(test::make_header(pole), "pole").uses_closed_form());
  FitsHeader h = test::make_header({});
  h.set("LONPOLE", 170.0);
  EXPECT_FALSE(Wcs::from_header(h, "lonpole").uses_closed_form());
  h = test::make_header({});
  h.set("PV1_1", 0.0);
  h.set("PV1_2", 80.0);
  EXPECT_FALSE(Wcs::from_header(h, "offset").uses_closed_form());
  test::HeaderSpec tpv;
  tpv.projection = "TPV";
  EXPECT_FALSE(Wcs::from_header(test::make_header(tpv), "tpv").uses_closed_form());
  test::HeaderSpec sin;
  sin.projection = "SIN";
  EXPECT_FALSE(Wcs::from_header(test::make_header(sin), "sin").uses_closed_form());
}

struct SolveRow {
  std::string wcs_file;
  double ra = 0.0, dec = 0.0, rotation = 0.0;
};

std::vector<SolveRow> read_solve_summary(const std::filesystem::path& dir) {
  std::vector<SolveRow> rows;
  std::ifstream f(dir / "solve_summary.tsv");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, '\t');) cols.push_back(c);
    if (cols.size() < 6 || cols[1] != "yes") continue;
    SolveRow r;
    r.wcs_file = cols[0].substr(0, cols[0].rfind('.')) + ".wcs";
    r.ra = std::stod(cols[2]);
    r.dec = std::stod(cols[3]);
    r.rotation = std::stod(cols[5]);
    rows.push_back(r);
  }
  return rows;
}

test::SipTerms sip_terms(const FitsHeader& h, const std::string& prefix) {
  test::SipTerms t;
  for (const FitsCard& c : h.cards()) {
    int p = 0, q = 0;
    char tail = 0;
    if (c.key.rfind(prefix, 0) != 0) continue;
    if (std::sscanf(c.key.c_str() + prefix.size(), "%d_%d%c", &p, &q, &tail) == 2) t[{p, q}] = *h.get_double(c.key);
  }
  return t;
}

TEST(WcsRealSidecars, AstrometryNetSolutionsMatchSummaryAndSipModel) {
  auto dir = test::seestar_wcs_dir();
  if (!dir) GTEST_SKIP() << "shared data folder absent (../shared/data/real/seestar_m94/wcs)";
  std::vector<SolveRow> rows = read_solve_summary(*dir);
  ASSERT_EQ(rows.size(), 8u);
  for (const SolveRow& row : rows) {
    SCOPED_TRACE(row.wcs_file);
    const auto path = *dir / row.wcs_file;
    FitsHeader h = FitsHeader::parse_cards(test::read_text(path));
    Wcs wcs = Wcs::from_header(h, path.string());
    EXPECT_EQ(wcs.width(), 1080);  // IMAGEW / IMAGEH: the sidecar has NAXIS = 0
    EXPECT_EQ(wcs.height(), 1920);
    EXPECT_TRUE(wcs.has_distortion());
    EXPECT_EQ(wcs.projection_code(), "TAN");

    SkyCoord c = image_centre(wcs);
    EXPECT_LT(test::separation_arcsec(c.ra, c.dec, row.ra, row.dec), 1.0);
    EXPECT_NEAR(pixel_scale_arcsec(wcs), 2.376, 0.0015);
    expect_closed_form_matches_wcslib(wcs, 50.0);
    // astrometry.net quotes the orientation of the CD matrix, i.e. at CRVAL; at the image centre, 0.047 deg of RA
    // away at Dec 41, the meridians have converged by about dRA sin(Dec) = 0.03 deg.
    EXPECT_NEAR(position_angle_deg(wcs), row.rotation, 0.05);
    const SkyCoord up = wcs.pixel_to_world(PixelCoord{539.5, 959.5 + 10.0});
    EXPECT_NEAR(std::remainder(position_angle_deg(wcs) - bearing_deg(c, up), 360.0), 0.0, 1e-3);
    // det CD > 0 in these sidecars: in FITS row order the frames are mirrored relative to the sky.
    const double det = *h.get_double("CD1_1") * *h.get_double("CD2_2") - *h.get_double("CD1_2") * *h.get_double("CD2_1");
    EXPECT_GT(det, 0.0);
    EXPECT_TRUE(is_flipped(wcs));

    // Independent SIP model with the header's own coefficients.
    const double ra0 = *h.get_double("CRVAL1"), dec0 = *h.get_double("CRVAL2");
    const double crpix1 = *h.get_double("CRPIX1"), crpix2 = *h.get_double("CRPIX2");
    const std::array<double, 4> cd = {*h.get_double("CD1_1"), *h.get_double("CD1_2"), *h.get_double("CD2_1"),
                                      *h.get_double("CD2_2")};
    const test::SipTerms a = sip_terms(h, "A_"), b = sip_terms(h, "B_");
    ASSERT_EQ(a.size(), 6u);
    std::vector<double> xs, ys;
    test::pixel_grid(1080, 1920, 9, 0.0, xs, ys);
    std::vector<double> ra(xs.size()), dec(xs.size()), x2(xs.size()), y2(xs.size());
    wcs.pixel_to_world(xs, ys, ra, dec);
    wcs.world_to_pixel(ra, dec, x2, y2);
    for (std::size_t i = 0; i < xs.size(); ++i) {
      auto [rra, rdec] = test::sip_reference(xs[i], ys[i], ra0, dec0, crpix1, crpix2, cd, a, b);
      ASSERT_LT(test::separation_arcsec(ra[i], dec[i], rra, rdec), 1e-6);
      ASSERT_LT(std::hypot(x2[i] - xs[i], y2[i] - ys[i]), 1e-6);
    }

    WcsValidation v = validate_wcs_header(h);
    EXPECT_TRUE(v.ok) << v.reason;
    EXPECT_NEAR(v.scale_arcsec, 2.376, 0.0015);

    // Written back (SIP cards rebuilt from wcslib's records) and read again: same transforms.
    FitsHeader out;
    wcs.write_to_header(out);
    EXPECT_EQ(out.get_string("CTYPE1"), "RA---TAN-SIP");
    EXPECT_DOUBLE_EQ(*out.get_double("AP_1_1"), *h.get_double("AP_1_1"));
    Wcs back = Wcs::from_header(FitsHeader::parse_cards(out.to_card_string()), "back", 1080, 1920);
    std::vector<double> ra3(xs.size()), dec3(xs.size());
    back.pixel_to_world(xs, ys, ra3, dec3);
    for (std::size_t i = 0; i < xs.size(); ++i) ASSERT_LT(angular_distance_deg({ra[i], dec[i]}, {ra3[i], dec3[i]}), 1e-9);
  }
}

TEST(WcsRealFrames, SeestarRawHeaderHasNoWcs) {
  auto data = test::shared_data_dir();
  const auto path = data ? *data / "real/seestar_m94/Light_M 94_10.0s_IRCUT_20250326-212046.fit" : std::filesystem::path();
  if (!data || !std::filesystem::exists(path)) GTEST_SKIP() << "real Seestar frame absent";
  FitsImageInfo info = read_fits_info(path.string());
  ASSERT_TRUE(info.header.has("RA"));
  try {
    Wcs::from_header(info.header, path.string());
    FAIL() << "expected NoWcs";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::NoWcs);
    EXPECT_EQ(e.path(), path.string());
  }
  EXPECT_EQ(validate_wcs_header(info.header).reason, "no CTYPE1/CTYPE2");
}

TEST(WcsRealFrames, TwoMassSinTilesMatchPublishedCentres) {
  auto data = test::shared_data_dir();
  const auto dir = data ? *data / "real/twomass_m17_k" : std::filesystem::path();
  if (!data || !std::filesystem::is_directory(dir)) GTEST_SKIP() << "2MASS tiles absent";
  // Centres from /work/shared/data/real/README.md (astropy 5.2.1), 4 decimals.
  struct Tile {
    const char* name;
    double ra, dec;
  };
  for (const Tile t : {Tile{"aK_asky_990502s1350080.fits", 274.9988, -16.2470},
                       Tile{"aK_asky_990502s1420186.fits", 275.1229, -16.0350},
                       Tile{"aK_asky_990502s1440198.fits", 275.3706, -16.3042}}) {
    SCOPED_TRACE(t.name);
    FitsImageInfo info = read_fits_info((dir / t.name).string());
    Wcs wcs = Wcs::from_header(info.header, t.name);
    EXPECT_EQ(wcs.projection_code(), "SIN");
    EXPECT_EQ(wcs.width(), 512);
    EXPECT_EQ(wcs.height(), 1024);
    SkyCoord c = image_centre(wcs);
    EXPECT_LT(test::separation_arcsec(c.ra, c.dec, t.ra, t.dec), 0.5);
    EXPECT_NEAR(pixel_scale_arcsec(wcs), 1.0, 1e-3);
    EXPECT_TRUE(validate_wcs_header(info.header).ok);
  }
}

}  // namespace
}  // namespace zm
