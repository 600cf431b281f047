#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "stars/background.hpp"
#include "stars/detect.hpp"
#include "stars_test_util.hpp"

namespace {

using zm::test::TruthStar;

struct Scores {
  int found = 0;
  double rms = 0.0;        // centroid error of the found ones (px)
  double worst_fwhm = 0.0; // largest relative FWHM error
};

Scores score(const std::vector<TruthStar>& truth, const std::vector<zm::Star>& got, double fwhm) {
  Scores s;
  double sum2 = 0.0;
  for (const TruthStar& t : truth) {
    const int i = zm::test::nearest_star(got, t.x, t.y, 1.0);
    if (i < 0) continue;
    ++s.found;
    sum2 += std::pow(got[i].x - t.x, 2) + std::pow(got[i].y - t.y, 2);
    s.worst_fwhm = std::max(s.worst_fwhm, std::abs(got[i].fwhm / fwhm - 1.0));
  }
  s.rms = s.found > 0 ? std::sqrt(sum2 / s.found) : 0.0;
  return s;
}

std::vector<TruthStar> with_fluxes(std::vector<TruthStar> stars, double lo, double hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  for (TruthStar& s : stars) s.flux = std::exp(u(rng));
  return stars;
}

zm::DetectParams noise_free_params() {
  zm::DetectParams p;
  p.min_threshold = 5.0;  // the noise estimate is ~0 here
  return p;
}

TEST(StarsBackground, MeshFollowsLinearGradientAndNoise) {
  const int w = 400, h = 300;
  const std::vector<float> img = zm::test::sky(w, h, 1000.0, 0.5, -0.25, 7.0, 3);
  const zm::BackgroundMesh mesh(img.data(), w, h, 64, 3.0);
  std::vector<float> level(w), noise(w);
  for (int y : {40, 150, 260}) {
    mesh.row(y, level.data(), noise.data());
    for (int x : {40, 200, 360}) {
      EXPECT_NEAR(level[x], 1000.0 + 0.5 * x - 0.25 * y, 2.5) << x << "," << y;
      EXPECT_NEAR(noise[x], 7.0, 0.7);
      float l, n;
      mesh.sample(x, y, l, n);
      EXPECT_FLOAT_EQ(l, level[x]);
      EXPECT_FLOAT_EQ(n, noise[x]);
    }
  }
}

TEST(StarsDetect, NoiseFreeGaussianCentroidsAndFwhm) {
  const int w = 400, h = 300;
  const double fwhm = 3.0;
  std::vector<float> img = zm::test::sky(w, h, 1000.0, 0.2, -0.1, 0.0, 1);
  const auto truth = with_fluxes(zm::test::scatter(40, w, h, 12.0, 15.0, 11), 2e3, 5e4, 12);
  for (const TruthStar& t : truth) zm::test::add_gaussian(img, w, h, t, fwhm);
  const auto stars = zm::detect_stars(img.data(), w, h, noise_free_params());
  const Scores s = score(truth, stars, fwhm);
  EXPECT_EQ(s.found, 40);
  EXPECT_EQ(stars.size(), 40u);
  EXPECT_LT(s.rms, 0.05);
  EXPECT_LT(s.worst_fwhm, 0.10);
  // Flux in a 2-FWHM aperture holds > 99 % of a Gaussian.
  for (const TruthStar& t : truth) {
    const int i = zm::test::nearest_star(stars, t.x, t.y, 1.0);
    ASSERT_GE(i, 0);
    EXPECT_NEAR(stars[i].flux / t.flux, 1.0, 0.02);
  }
}

TEST(StarsDetect, NoiseFreeMoffatCentroidsAndFwhm) {
  const int w = 300, h = 300;
  std::vector<float> img = zm::test::sky(w, h, 500.0, 0.0, 0.0, 0.0, 1);
  const auto truth = with_fluxes(zm::test::scatter(20, w, h, 20.0, 30.0, 21), 5e3, 5e4, 22);
  for (double beta : {2.5, 4.0}) {
    std::vector<float> im = img;
    for (const TruthStar& t : truth) zm::test::add_moffat(im, w, h, t, 4.0, beta);
    const auto stars = zm::detect_stars(im.data(), w, h, noise_free_params());
    const Scores s = score(truth, stars, 4.0);
    EXPECT_EQ(s.found, 20) << beta;
    EXPECT_LT(s.rms, 0.05) << beta;
    EXPECT_LT(s.worst_fwhm, 0.10) << beta;
  }
}

TEST(StarsDetect, NoisyFieldCompletenessAndAccuracy) {
  const int w = 640, h = 480;
  const double sigma = 10.0, fwhm = 3.0;
  std::vector<float> img = zm::test::sky(w, h, 800.0, 0.1, 0.05, sigma, 5);
  auto truth = zm::test::scatter(150, w, h, 10.0, 14.0, 31);
  // Fluxes from a target SNR in a 2-FWHM aperture: flux = snr * sigma * sqrt(pi r^2).
  std::mt19937 rng(32);
  std::uniform_real_distribution<double> u(std::log(5.0), std::log(1000.0));
  const double ap = std::sqrt(std::numbers::pi * 36.0) * sigma;
  std::vector<double> snr;
  for (TruthStar& t : truth) {
    snr.push_back(std::exp(u(rng)));
    t.flux = snr.back() * ap;
    zm::test::add_gaussian(img, w, h, t, fwhm);
  }
  zm::DetectInfo info;
  const auto stars = zm::detect_stars(img.data(), w, h, {}, &info);
  EXPECT_NEAR(info.noise, sigma, 0.5);
  EXPECT_NEAR(info.background, 800.0 + 0.1 * w / 2 + 0.05 * h / 2, 10.0);
  int bright = 0, bright_found = 0, precise = 0;
  double sum2 = 0.0;
  std::vector<double> fw;
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const int i = zm::test::nearest_star(stars, truth[k].x, truth[k].y, 1.5);
    if (snr[k] > 20.0) {
      ++bright;
      bright_found += i >= 0;
    }
    if (snr[k] > 100.0 && i >= 0) {
      ++precise;
      sum2 += std::pow(stars[i].x - truth[k].x, 2) + std::pow(stars[i].y - truth[k].y, 2);
      fw.push_back(stars[i].fwhm);
      EXPECT_NEAR(stars[i].snr / snr[k], 1.0, 0.25);
    }
  }
  EXPECT_EQ(bright_found, bright);
  ASSERT_GT(precise, 20);
  EXPECT_LT(std::sqrt(sum2 / precise), 0.1);
  std::sort(fw.begin(), fw.end());
  EXPECT_NEAR(fw[fw.size() / 2], fwhm, 0.1 * fwhm);
  EXPECT_NEAR(zm::median_fwhm(stars, 100.0), fwhm, 0.1 * fwhm);
  int spurious = 0;
  for (const zm::Star& s : stars) spurious += zm::test::nearest_star(truth, s.x, s.y, 2.0) < 0;
  EXPECT_LE(spurious, 2);
  for (std::size_t i = 1; i < stars.size(); ++i) EXPECT_GE(stars[i - 1].flux, stars[i].flux);
}

TEST(StarsDetect, HotPixelsAreNotStars) {
  const int w = 400, h = 400;
  std::vector<float> img = zm::test::sky(w, h, 900.0, 0.0, 0.0, 10.0, 7);
  auto truth = zm::test::scatter(30, w, h, 12.0, 20.0, 41);
  for (TruthStar& t : truth) {
    t.flux = 8000.0;
    zm::test::add_gaussian(img, w, h, t, 3.0);
  }
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> px(5, w - 6);
  std::vector<TruthStar> hot;
  while (hot.size() < 60) {
    const int x = px(rng), y = px(rng);
    if (zm::test::nearest_star(truth, x, y, 10.0) >= 0) continue;
    img[static_cast<std::size_t>(y) * w + x] += static_cast<float>(hot.size() % 2 ? 5000.0 : 300.0);
    hot.push_back({double(x), double(y), 0.0});
  }
  zm::DetectInfo info;
  const auto stars = zm::detect_stars(img.data(), w, h, {}, &info);
  for (const zm::Star& s : stars) EXPECT_LT(zm::test::nearest_star(hot, s.x, s.y, 1.5), 0) << s.x << "," << s.y;
  EXPECT_EQ(score(truth, stars, 3.0).found, 30);
  EXPECT_GE(info.rejected_defects, 60);
}

TEST(StarsDetect, SaturatedStarsAreFlaggedOrRejected) {
  const int w = 200, h = 200;
  std::vector<float> img = zm::test::sky(w, h, 1000.0, 0.0, 0.0, 5.0, 9);
  zm::test::add_gaussian(img, w, h, {60.3, 70.6, 2e6}, 3.0);
  zm::test::add_gaussian(img, w, h, {140.2, 130.1, 2e4}, 3.0);
  for (float& v : img) v = std::min(v, 20000.0f);
  zm::DetectParams p;
  p.saturation = 20000.0f;
  const auto stars = zm::detect_stars(img.data(), w, h, p);
  ASSERT_EQ(stars.size(), 2u);
  EXPECT_TRUE(stars[0].saturated);
  EXPECT_NEAR(stars[0].x, 60.3, 0.1);
  EXPECT_NEAR(stars[0].y, 70.6, 0.1);
  EXPECT_FALSE(stars[1].saturated);
  p.reject_saturated = true;
  const auto kept = zm::detect_stars(img.data(), w, h, p);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_NEAR(kept[0].x, 140.2, 0.1);
}

TEST(StarsDetect, MaxStarsKeepsTheBrightestAndIsDeterministic) {
  const int w = 500, h = 400;
  std::vector<float> img = zm::test::sky(w, h, 600.0, 0.0, 0.0, 8.0, 13);
  const auto truth = with_fluxes(zm::test::scatter(80, w, h, 10.0, 12.0, 51), 2e3, 1e5, 52);
  for (const TruthStar& t : truth) zm::test::add_gaussian(img, w, h, t, 3.0);
  const auto all = zm::detect_stars(img.data(), w, h);
  zm::DetectParams p;
  p.max_stars = 25;
  const auto top = zm::detect_stars(img.data(), w, h, p);
  ASSERT_EQ(top.size(), 25u);
  for (std::size_t i = 0; i < top.size(); ++i) {
    EXPECT_DOUBLE_EQ(top[i].x, all[i].x);
    EXPECT_DOUBLE_EQ(top[i].flux, all[i].flux);
  }
  const auto again = zm::detect_stars(img.data(), w, h);
  ASSERT_EQ(again.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(again[i].x, all[i].x);
    EXPECT_EQ(again[i].y, all[i].y);
  }
}

TEST(StarsDetect, NanPixelsAndTinyImages) {
  const int w = 200, h = 150;
  std::vector<float> img = zm::test::sky(w, h, 700.0, 0.0, 0.0, 6.0, 17);
  zm::test::add_gaussian(img, w, h, {50.4, 60.7, 1e4}, 3.0);
  zm::test::add_gaussian(img, w, h, {150.1, 100.2, 1e4}, 3.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < 30; ++x) img[static_cast<std::size_t>(y) * w + x] = NAN;  // blank left band
  const auto stars = zm::detect_stars(img.data(), w, h);
  ASSERT_EQ(stars.size(), 2u);
  EXPECT_GE(zm::test::nearest_star(stars, 50.4, 60.7, 0.2), 0);
  EXPECT_TRUE(zm::detect_stars(img.data(), 2, 2).empty());
  const std::vector<float> flat(64 * 64, 100.0f);
  EXPECT_TRUE(zm::detect_stars(flat.data(), 64, 64).empty());
}

}  // namespace
