#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stars/cfa_detect.hpp"
#include "stars_test_util.hpp"

namespace {

using zm::test::TruthStar;

TEST(StarsCfaDetect, Bin2x2IsTheMeanOfEachCellAndDropsOddEdges) {
  const int w = 5, h = 4;
  std::vector<float> cfa(w * h);
  for (int i = 0; i < w * h; ++i) cfa[i] = static_cast<float>(i);
  const zm::ImageF b = zm::bin2x2_luminance(cfa.data(), w, h);
  ASSERT_EQ(b.width, 2);
  ASSERT_EQ(b.height, 2);
  EXPECT_FLOAT_EQ(b.at(0, 0, 0), (0 + 1 + 5 + 6) / 4.0f);
  EXPECT_FLOAT_EQ(b.at(0, 1, 1), (12 + 13 + 17 + 18) / 4.0f);
}

TEST(StarsCfaDetect, BinnedCoordinatesMapToFullResolutionCentres) {
  zm::Star s;
  s.x = 3.0;
  s.y = 7.0;
  s.fwhm = 1.5;
  s.flux = 100.0;
  const zm::Star f = zm::binned_to_full_res(s);
  EXPECT_DOUBLE_EQ(f.x, 6.5);  // bin (3, 7) covers pixels 6..7 x 14..15
  EXPECT_DOUBLE_EQ(f.y, 14.5);
  EXPECT_DOUBLE_EQ(f.fwhm, 3.0);
  EXPECT_DOUBLE_EQ(f.flux, 400.0);
}

TEST(StarsCfaDetect, GreenPlaneKeepsGreenSitesAndFillsTheOthers) {
  const int w = 6, h = 4;
  std::vector<float> cfa(w * h);
  for (int i = 0; i < w * h; ++i) cfa[i] = static_cast<float>(i * i % 17);
  const zm::ImageF g = zm::green_plane(cfa.data(), w, h, zm::BayerPattern::GRBG);  // green at (0,0)
  EXPECT_FLOAT_EQ(g.at(0, 0, 0), cfa[0]);
  EXPECT_FLOAT_EQ(g.at(0, 1, 1), cfa[7]);
  EXPECT_FLOAT_EQ(g.at(0, 1, 2), (cfa[1 * w + 1] + cfa[1 * w + 3] + cfa[0 * w + 2] + cfa[2 * w + 2]) / 4.0f);
  EXPECT_FLOAT_EQ(g.at(0, 0, 1), (cfa[0] + cfa[2] + cfa[w + 1]) / 3.0f);  // top edge: three neighbours
  const zm::ImageF r = zm::green_plane(cfa.data(), w, h, zm::BayerPattern::RGGB);  // green at (1,0)
  EXPECT_FLOAT_EQ(r.at(0, 0, 1), cfa[1]);
}

// A CFA frame of Gaussian stars with per-colour gains (1, 1, 1 = grey sky and stars).
std::vector<float> cfa_field(int w, int h, const std::vector<TruthStar>& truth, double fwhm, const double gain[3],
                             double noise, unsigned seed) {
  std::vector<float> lum = zm::test::sky(w, h, 900.0, 0.05, 0.0, 0.0, seed);
  for (const TruthStar& t : truth) zm::test::add_gaussian(lum, w, h, t, fwhm);
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, noise);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float& v = lum[static_cast<std::size_t>(y) * w + x];
      v = static_cast<float>(v * gain[zm::cfa_channel(zm::BayerPattern::GRBG, x, y)] + (noise > 0 ? n(rng) : 0.0));
    }
  return lum;
}

TEST(StarsCfaDetect, BinnedLuminanceGivesFullResolutionPositions) {
  const int w = 480, h = 360;
  const double fwhm = 5.0;  // full resolution; 2.5 binned px
  auto truth = zm::test::scatter(30, w, h, 20.0, 25.0, 61);
  for (TruthStar& t : truth) t.flux = 4e4;
  const double grey[3] = {1.0, 1.0, 1.0};
  const std::vector<float> cfa = cfa_field(w, h, truth, fwhm, grey, 0.0, 1);
  zm::DetectParams p;
  p.min_threshold = 5.0;
  for (auto mode : {zm::CfaDetectMode::Binned2x2, zm::CfaDetectMode::GreenPlane}) {
    const auto stars = zm::detect_stars_cfa(cfa.data(), w, h, zm::BayerPattern::GRBG, mode, p);
    ASSERT_EQ(stars.size(), truth.size());
    double sum2 = 0.0;
    for (const TruthStar& t : truth) {
      const int i = zm::test::nearest_star(stars, t.x, t.y, 1.0);
      ASSERT_GE(i, 0);
      sum2 += std::pow(stars[i].x - t.x, 2) + std::pow(stars[i].y - t.y, 2);
      EXPECT_NEAR(stars[i].fwhm, fwhm, 0.1 * fwhm);
      EXPECT_NEAR(stars[i].flux, t.flux, 0.03 * t.flux);
    }
    EXPECT_LT(std::sqrt(sum2 / truth.size()), 0.05) << static_cast<int>(mode);
  }
}

TEST(StarsCfaDetect, ColouredNoisyStarsStayClose) {
  // Unequal colour gains shift each 2x2 cell's centre of light by a few hundredths of a pixel (the same for a
  // given star in every frame); noise adds its own error.
  const int w = 480, h = 360;
  auto truth = zm::test::scatter(30, w, h, 20.0, 25.0, 71);
  for (TruthStar& t : truth) t.flux = 1e5;
  const double colour[3] = {0.5, 1.0, 0.7};
  const std::vector<float> cfa = cfa_field(w, h, truth, 4.0, colour, 8.0, 2);
  const auto stars =
      zm::detect_stars_cfa(cfa.data(), w, h, zm::BayerPattern::GRBG, zm::CfaDetectMode::Binned2x2, {});
  double sum2 = 0.0;
  int found = 0;
  for (const TruthStar& t : truth) {
    const int i = zm::test::nearest_star(stars, t.x, t.y, 1.0);
    if (i < 0) continue;
    ++found;
    sum2 += std::pow(stars[i].x - t.x, 2) + std::pow(stars[i].y - t.y, 2);
  }
  EXPECT_EQ(found, 30);
  EXPECT_LT(std::sqrt(sum2 / found), 0.1);
}

TEST(StarsCfaDetect, SaturationIsJudgedOnCfaSitesAndHotSitesAreIgnored) {
  const int w = 400, h = 300;
  const double grey[3] = {1.0, 1.0, 1.0};
  std::vector<TruthStar> truth = {{100.3, 120.6, 4e5}, {300.2, 200.7, 2e4}};
  std::vector<float> cfa = cfa_field(w, h, truth, 4.0, grey, 5.0, 3);
  // Clip only the green sites of the bright star: no 2x2 mean reaches the level, some CFA sites do.
  const float level = 6000.0f;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (zm::cfa_channel(zm::BayerPattern::GRBG, x, y) == 1) {
        float& v = cfa[static_cast<std::size_t>(y) * w + x];
        v = std::min(v, level);
      }
  for (auto [x, y] : {std::pair{50, 50}, std::pair{201, 77}, std::pair{350, 250}})
    cfa[static_cast<std::size_t>(y) * w + x] += 20000.0f;  // hot sites
  zm::DetectParams p;
  p.saturation = level;
  zm::StarDetector det(p);
  const auto stars = det.detect_cfa(cfa.data(), w, h, zm::BayerPattern::GRBG, zm::CfaDetectMode::Binned2x2);
  ASSERT_EQ(stars.size(), 2u);
  EXPECT_TRUE(stars[0].saturated);
  EXPECT_NEAR(stars[0].x, 100.3, 0.2);
  EXPECT_FALSE(stars[1].saturated);
  p.reject_saturated = true;
  const auto kept = zm::detect_stars_cfa(cfa.data(), w, h, zm::BayerPattern::GRBG, zm::CfaDetectMode::Binned2x2, p);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NEAR(kept[0].x, 300.2, 0.1);
}

}  // namespace
