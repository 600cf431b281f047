#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "fits_test_util.hpp"
#include "io/fits_reader.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> real_file(const std::string& rel) {
  auto data = test::shared_data_dir();
  if (!data) return std::nullopt;
  fs::path p = *data / "real" / rel;
  if (!fs::exists(p)) return std::nullopt;
  return p;
}

TEST(RealData, SeestarFrameReadsAsUint16AndIsNotModified) {
  auto path = real_file("seestar_m94/Light_M 94_10.0s_IRCUT_20250326-212046.fit");
  if (!path) GTEST_SKIP() << "real Seestar frame absent";
  std::string bytes_before = test::read_bytes(*path);
  auto mtime_before = fs::last_write_time(*path);

  auto t0 = std::chrono::steady_clock::now();
  FitsImageReader r(path->string());
  ImageF img = r.read_all();
  auto t1 = std::chrono::steady_clock::now();
  std::printf("[ timing ] Seestar 1080x1920 uint16: open + read_all %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count());

  const FitsImageInfo& info = r.info();
  EXPECT_EQ(info.width, 1080);
  EXPECT_EQ(info.height, 1920);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.naxis, 2);
  EXPECT_EQ(info.bitpix, 16);
  EXPECT_EQ(info.bzero, 32768.0);
  EXPECT_EQ(info.bscale, 1.0);
  EXPECT_EQ(info.hdu, 1);
  EXPECT_EQ(info.header.get_string("BAYERPAT"), "GRBG");
  EXPECT_EQ(info.header.get_string("INSTRUME"), "Seestar S50");
  EXPECT_DOUBLE_EQ(*info.header.get_double("EXPTIME"), 10.0);
  EXPECT_NEAR(test::finite_median(img.data), 903.0, 1.0);
  for (float v : img.data) ASSERT_TRUE(v >= 0.0f && v <= 65535.0f && v == std::floor(v));

  // A band from the middle equals the same rows of the whole image.
  std::vector<float> band(static_cast<std::size_t>(info.width) * 100);
  r.read_rows(900, 100, band);
  for (std::size_t i = 0; i < band.size(); ++i) ASSERT_EQ(band[i], img.data[900u * 1080u + i]);

  EXPECT_EQ(fs::last_write_time(*path), mtime_before);
  EXPECT_TRUE(test::read_bytes(*path) == bytes_before) << "reading must not modify the input";
}

TEST(RealData, TwoMassFloatTileWithNanBorders) {
  auto path = real_file("twomass_m17_k/aK_asky_990502s1350080.fits");
  if (!path) GTEST_SKIP() << "real 2MASS tile absent";
  FitsImageReader r(path->string());
  EXPECT_EQ(r.info().width, 512);
  EXPECT_EQ(r.info().height, 1024);
  EXPECT_EQ(r.info().bitpix, -32);
  EXPECT_EQ(r.info().header.get_string("CTYPE1"), "RA---SIN");
  ImageF img = r.read_all();
  EXPECT_NEAR(test::finite_median(img.data), 641.83, 0.5);
}

}  // namespace
}  // namespace zm
