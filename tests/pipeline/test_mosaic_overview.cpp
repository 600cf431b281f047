// The low-resolution overview of the mosaic (preview PNG and aesthetic hole-fill source) against analytic answers.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>
#include <limits>

#include "pipeline/model/frame_cache.hpp"
#include "pipeline/output/mosaic_overview.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(MosaicOverview, BlockMeansOfValidPixelsOnly) {
  test::TempDir dir("ov");
  ImageF im(2, 10, 7);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 10; ++x) im.at(c, y, x) = static_cast<float>(100 * c + 10 * y + x);
  im.at(0, 0, 0) = kNaN;  // excluded from its block's mean
  for (int c = 0; c < 2; ++c) im.at(c, 6, 9) = kNaN;
  MosaicArtifacts m;
  m.image = dir.path() / "m.f32";
  m.width = 10;
  m.height = 7;
  m.channels = 2;
  write_cached_frame(m.image, im);
  const MosaicOverview ov = build_overview(m, 4, 3);  // factor ceil(10 / 4) = 3 -> 4 x 3 blocks
  ASSERT_EQ(ov.factor, 3);
  ASSERT_EQ(ov.image.width, 4);
  ASSERT_EQ(ov.image.height, 3);
  // Block (0,0) of channel 0 without the NaN: rows 0-2, cols 0-2, minus (0,0).
  double s = 0;
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x) s += (x || y) ? 10 * y + x : 0;
  EXPECT_FLOAT_EQ(ov.image.at(0, 0, 0), static_cast<float>(s / 8));
  // The last block (rows 6, col 9) holds only the NaN pixel.
  EXPECT_TRUE(std::isnan(ov.image.at(1, 2, 3)));
  EXPECT_FLOAT_EQ(ov.image.at(1, 1, 1), 100 + 10 * 4 + 4);  // centre of rows 3-5, cols 3-5
}

TEST(MosaicOverview, SmoothFillKeepsConstantsAndReachesIntoHoles) {
  ImageF im(1, 40, 30, 5.0f);
  for (int y = 10; y < 20; ++y)
    for (int x = 15; x < 25; ++x) im.at(0, y, x) = kNaN;
  const ImageF s = smooth_fill(im, 2.0);
  for (float v : s.data) EXPECT_NEAR(v, 5.0f, 1e-5);  // a constant with holes is still that constant everywhere
  ImageF lone(1, 50, 50, kNaN);
  lone.at(0, 25, 25) = 1.0f;
  const ImageF t = smooth_fill(lone, 1.0);
  EXPECT_NEAR(t.at(0, 25, 27), 1.0f, 1e-6);
  EXPECT_TRUE(std::isnan(t.at(0, 25, 40)));  // beyond 3 sigma of any data
}

TEST(MosaicOverview, DistanceToValidIsNearEuclidean) {
  ImageF im(1, 60, 60, kNaN);
  im.at(0, 30, 30) = 1.0f;
  const auto d = distance_to_valid(im);
  EXPECT_EQ(d[30 * 60 + 30], 0.0f);
  for (int y = 0; y < 60; y += 7)
    for (int x = 0; x < 60; x += 5) {
      const double e = std::hypot(x - 30.0, y - 30.0);
      EXPECT_NEAR(d[y * 60 + x], e, 0.08 * e + 1e-6) << x << "," << y;
    }
}

TEST(MosaicOverview, StretchNeutralisesTheSky) {
  // A sky that is redder than it is blue, with noise: after the stretch its median is the same grey in R, G, B.
  ImageF im(3, 200, 100);
  std::uint32_t seed = 1;
  for (std::size_t i = 0; i < im.plane_size(); ++i)
    for (int c = 0; c < 3; ++c) {
      seed = seed * 1664525u + 1013904223u;
      im.data[c * im.plane_size() + i] = static_cast<float>((c == 0 ? 900 : c == 1 ? 700 : 500) + (seed >> 24) / 8.0);
    }
  im.at(0, 50, 50) = im.at(1, 50, 50) = im.at(2, 50, 50) = 5000.0f;  // a white star
  const auto rgba = stretch_rgba(im, 1.0, 99.9, 12.0);
  std::array<std::vector<int>, 3> ch;
  for (std::size_t i = 0; i < im.plane_size(); ++i)
    for (int c = 0; c < 3; ++c) ch[c].push_back(rgba[i * 4 + c]);
  for (auto& v : ch) std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  EXPECT_NEAR(ch[0][ch[0].size() / 2], ch[2][ch[2].size() / 2], 6);
  EXPECT_LT(ch[1][ch[1].size() / 2], 200);  // the sky is not pushed to white
}

TEST(MosaicOverview, StretchMapsPercentilesAndAlpha) {
  // A flat black sky (x < 60) and a ramp of sources 1..40 ADU times (c + 1): black points 0, one white point 120.
  ImageF im(3, 100, 1);
  for (int x = 0; x < 100; ++x)
    for (int c = 0; c < 3; ++c) im.at(c, 0, x) = x < 60 ? 0.0f : static_cast<float>((x - 59) * (c + 1));
  im.at(1, 0, 50) = kNaN;
  const auto rgba = stretch_rgba(im, 0.0, 100.0, 0.0);  // linear
  EXPECT_EQ(rgba[0], 0);
  EXPECT_EQ(rgba[99 * 4 + 2], 255);
  EXPECT_EQ(rgba[50 * 4 + 3], 0);  // a channel is missing: transparent
  EXPECT_EQ(rgba[50 * 4 + 0], 0);
  EXPECT_EQ(rgba[49 * 4 + 3], 255);
  // One white point for all channels: the largest channel (blue, 3x) at its maximum.
  EXPECT_NEAR(rgba[80 * 4 + 0], std::lround(255 * 21.0 / 120.0), 1);
  EXPECT_NEAR(rgba[80 * 4 + 2], std::lround(255 * 63.0 / 120.0), 1);
  const auto curved = stretch_rgba(im, 0.0, 100.0, 12.0);
  EXPECT_GT(curved[70 * 4 + 0], rgba[70 * 4 + 0]);  // asinh lifts the faint end
  EXPECT_EQ(curved[99 * 4 + 2], 255);
}

}  // namespace
}  // namespace zm
