// read_tile_preview: block means, ALPHA / NaN masking, the scaled WCS (plain and SIP), the weight card.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "photometry/tile_preview.hpp"
#include "photometry_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

TEST(TilePreview, BlockMeansMaskAndWcs) {
  test::TempDir dir("preview");
  const int W = 103, H = 61, C = 2;
  ImageF img(C, W, H);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) img.at(c, y, x) = static_cast<float>(1000 * c + 3 * x + 7 * y);
  std::vector<std::uint8_t> alpha(static_cast<std::size_t>(W) * H, 255);
  alpha[static_cast<std::size_t>(10) * W + 20] = 0;                       // block (X=5, Y=2) at f = 4
  img.at(1, 30, 50) = std::numeric_limits<float>::quiet_NaN();            // block (12, 7)
  Wcs wcs = Wcs::make_tan({30, -10}, {51.0, 30.0}, test::cd_for(1.5, 20.0), W, H);
  test::write_tile(dir / "t.fits", img, wcs, alpha, 12);

  const TilePreview p = read_tile_preview(dir / "t.fits", 9, 30);  // f = ceil(103 / 30) = 4
  EXPECT_EQ(p.id, 9);
  EXPECT_EQ(p.factor, 4);
  EXPECT_EQ(p.image.width, 25);
  EXPECT_EQ(p.image.height, 15);
  EXPECT_EQ(p.image.channels, C);
  EXPECT_DOUBLE_EQ(p.weight, 12.0);
  // Mean of a linear ramp over a 4x4 block = value at the block centre (x = 4X + 1.5).
  for (int Y : {0, 6, 14})
    for (int X : {0, 11, 24}) {
      EXPECT_NEAR(p.image.at(0, Y, X), 3 * (4 * X + 1.5) + 7 * (4 * Y + 1.5), 1e-3);
      EXPECT_NEAR(p.image.at(1, Y, X), 1000 + 3 * (4 * X + 1.5) + 7 * (4 * Y + 1.5), 1e-3);
    }
  EXPECT_TRUE(std::isnan(p.image.at(0, 2, 5)));   // ALPHA 0 in the block
  EXPECT_TRUE(std::isnan(p.image.at(1, 7, 12)));  // NaN in one channel masks every channel
  EXPECT_TRUE(std::isnan(p.image.at(0, 7, 12)));
  EXPECT_FALSE(std::isnan(p.image.at(0, 7, 13)));

  Wcs pw = p.wcs;
  EXPECT_EQ(pw.width(), 25);
  for (auto [X, Y] : {std::pair{0.0, 0.0}, std::pair{24.0, 14.0}, std::pair{7.3, 3.1}}) {
    const SkyCoord a = pw.pixel_to_world({X, Y});
    const SkyCoord b = wcs.pixel_to_world({4 * X + 1.5, 4 * Y + 1.5});
    EXPECT_NEAR(a.ra, b.ra, 1e-9);
    EXPECT_NEAR(a.dec, b.dec, 1e-9);
  }
}

TEST(TilePreview, ScaledSipWcsMatchesTheTile) {
  FitsHeader h;
  h.set("NAXIS", 2LL);
  h.set("NAXIS1", 600LL);
  h.set("NAXIS2", 400LL);
  h.set("CTYPE1", std::string("RA---TAN-SIP"));
  h.set("CTYPE2", std::string("DEC--TAN-SIP"));
  h.set("CRVAL1", 200.0);
  h.set("CRVAL2", 40.0);
  h.set("CRPIX1", 300.5);
  h.set("CRPIX2", 200.5);
  const auto cd = test::cd_for(3.0, -12.0);
  h.set("CD1_1", cd[0]);
  h.set("CD1_2", cd[1]);
  h.set("CD2_1", cd[2]);
  h.set("CD2_2", cd[3]);
  h.set("A_ORDER", 2LL);
  h.set("B_ORDER", 2LL);
  h.set("A_2_0", 2e-5);
  h.set("A_1_1", -1e-5);
  h.set("B_0_2", 3e-5);
  h.set("B_2_0", 1e-5);
  Wcs tile = Wcs::from_header(h, "sip", 600, 400);
  ASSERT_TRUE(tile.has_distortion());
  Wcs scaled = scale_wcs(tile, 3, 200, 133);
  EXPECT_TRUE(scaled.has_distortion());
  for (auto [X, Y] : {std::pair{0.0, 0.0}, std::pair{199.0, 132.0}, std::pair{10.0, 120.0}}) {
    const SkyCoord a = scaled.pixel_to_world({X, Y});
    const SkyCoord b = tile.pixel_to_world({3 * X + 1.0, 3 * Y + 1.0});
    EXPECT_NEAR(a.ra, b.ra, 1e-9) << X << "," << Y;
    EXPECT_NEAR(a.dec, b.dec, 1e-9) << X << "," << Y;
  }
}

TEST(TilePreview, WithoutAlphaOnlyFinitenessCounts) {
  test::TempDir dir("preview_noalpha");
  ImageF img(1, 40, 40, 5.0f);
  img.at(0, 0, 0) = std::numeric_limits<float>::quiet_NaN();
  test::write_tile(dir / "t.fits", img, Wcs::make_tan({0, 0}, {20, 20}, test::cd_for(1, 0), 40, 40), {});
  const TilePreview p = read_tile_preview(dir / "t.fits", 1, 20);
  EXPECT_EQ(p.factor, 2);
  EXPECT_TRUE(std::isnan(p.image.at(0, 0, 0)));
  EXPECT_FLOAT_EQ(p.image.at(0, 0, 1), 5.0f);
  EXPECT_DOUBLE_EQ(p.weight, 1.0);
  EXPECT_THROW(read_tile_preview(dir / "t.fits", 1, 0), std::invalid_argument);
}

TEST(TilePreview, AlphaOfTheWrongSizeIsBadDimensions) {
  test::TempDir dir("preview_badalpha");
  ImageF img(1, 40, 40, 5.0f);
  FitsHeader h;
  Wcs::make_tan({0, 0}, {20, 20}, test::cd_for(1, 0), 40, 40).write_to_header(h);
  std::vector<FitsExtension> ext{FitsExtension{"ALPHA", 20, 40, std::vector<std::uint8_t>(800, 255), {}, {}}};
  write_fits_float(dir / "t.fits", img, h, ext);
  try {
    read_tile_preview(dir / "t.fits", 1, 20);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadDimensions);
  }
}

}  // namespace
}  // namespace zm
