// feather_weights against brute-force Euclidean distances (to no-data pixels and to the outside of the image).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "reproject/feather.hpp"

namespace {

using zm::feather_weights;

// Distance from (x, y) to the nearest no-data pixel or the nearest pixel just outside the image.
double brute_distance(const std::vector<std::uint8_t>& a, int w, int h, int x, int y) {
  double best = std::min<double>(std::min(x + 1, w - x), std::min(y + 1, h - y));
  for (int j = 0; j < h; ++j)
    for (int i = 0; i < w; ++i)
      if (a[j * w + i] == 0) best = std::min(best, std::hypot(double(i - x), double(j - y)));
  return best;
}

std::vector<std::uint8_t> random_mask(int w, int h, unsigned seed, double hole_fraction) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::uint8_t> a(static_cast<std::size_t>(w) * h, 255);
  for (auto& v : a)
    if (u(rng) < hole_fraction) v = 0;
  // A ragged no-data wedge like a rotated frame's corner.
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x + 2 * y < w / 3) a[y * w + x] = 0;
  return a;
}

TEST(FeatherWeights, SquaredDistanceIsExact) {
  const int w = 41, h = 29;
  const auto a = random_mask(w, h, 7, 0.01);
  const auto d2 = zm::squared_distance_to_nodata(a, w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double best = 1e300;
      for (int j = 0; j < h; ++j)
        for (int i = 0; i < w; ++i)
          if (a[j * w + i] == 0) best = std::min(best, double((i - x) * (i - x) + (j - y) * (j - y)));
      ASSERT_EQ(d2[y * w + x], best) << x << "," << y;
    }
}

TEST(FeatherWeights, MatchesBruteForceForSeveralRampsAndFloors) {
  const int w = 53, h = 37;
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto a = random_mask(w, h, seed, seed == 3 ? 0.0 : 0.004);
    for (double feather : {3.0, 10.0, 128.0}) {
      for (double floor : {0.0, 0.02, 0.5}) {
        const auto wt = feather_weights(a, w, h, feather, floor);
        ASSERT_EQ(wt.size(), a.size());
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * w + x;
            if (a[i] == 0) {
              ASSERT_EQ(wt[i], 0.0f);
              continue;
            }
            const double want = std::clamp(brute_distance(a, w, h, x, y) / feather, floor, 1.0);
            ASSERT_NEAR(wt[i], want, 1e-6) << "seed " << seed << " feather " << feather << " at " << x << "," << y;
            ASSERT_GT(wt[i], 0.0f);
          }
      }
    }
  }
}

TEST(FeatherWeights, FullMaskRampsFromTheBorder) {
  const int w = 20, h = 9;
  std::vector<std::uint8_t> a(w * h, 1);
  const auto wt = feather_weights(a, w, h, 4.0, 0.0);
  EXPECT_FLOAT_EQ(wt[0], 0.25f);             // corner: one pixel from the outside
  EXPECT_FLOAT_EQ(wt[4 * w + 10], 1.0f);     // centre row: 5 px from the top and bottom
  EXPECT_FLOAT_EQ(wt[4 * w + 1], 0.5f);      // two columns in
}

TEST(FeatherWeights, NonPositiveFeatherGivesBinaryWeights) {
  const int w = 15, h = 11;
  const auto a = random_mask(w, h, 9, 0.1);
  for (double feather : {0.0, -5.0}) {
    const auto wt = feather_weights(a, w, h, feather, 0.02);
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(wt[i], a[i] ? 1.0f : 0.0f);
  }
}

TEST(FeatherWeights, EmptyAndMismatchedInputs) {
  EXPECT_TRUE(feather_weights({}, 0, 0, 10.0, 0.02).empty());
  const std::vector<std::uint8_t> all_zero(12, 0);
  for (float v : feather_weights(all_zero, 4, 3, 10.0, 0.02)) EXPECT_EQ(v, 0.0f);
  EXPECT_THROW(feather_weights(std::vector<std::uint8_t>(5, 1), 2, 3, 10.0, 0.02), std::invalid_argument);
}

}  // namespace
