// Background model of a tile: vignetting and a sky plane recovered from sparse samples with stars among them, and
// left alone where there is nothing to remove.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "stack/background_model.hpp"

namespace zm {
namespace {

struct Samples {
  std::vector<float> x, y, v;
};

// Sky level L with vignetting v (loss at the corners), a plane (gx, gy ADU per half-diagonal), Gaussian noise and a
// fraction of samples hit by stars (positive outliers).
Samples make(int w, int h, double level, double vig, double gx, double gy, double noise, double star_fraction) {
  std::mt19937 rng(7);
  std::normal_distribution<double> n(0.0, noise);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), r = 0.5 * std::hypot(w, h);
  Samples s;
  for (int y = 8; y < h; y += 16)
    for (int x = 8; x < w; x += 16) {
      const double uu = (x - cx) / r, vv = (y - cy) / r;
      double value = level * (1.0 - vig * (uu * uu + vv * vv)) + gx * uu + gy * vv + n(rng);
      if (u(rng) < star_fraction) value += 50.0 * noise * u(rng) + 5.0 * noise;
      s.x.push_back(static_cast<float>(x));
      s.y.push_back(static_cast<float>(y));
      s.v.push_back(static_cast<float>(value));
    }
  return s;
}

TEST(BackgroundModel, RecoversVignettingAndPlaneDespiteStars) {
  const Samples s = make(1080, 1920, 900.0, 0.04, 20.0, -12.0, 5.0, 0.1);
  const BackgroundModel m = fit_background_model(s.x, s.y, s.v, 1080, 1920);
  ASSERT_TRUE(m.radial);
  ASSERT_TRUE(m.plane);
  EXPECT_NEAR(-m.q, 0.04, 0.002);
  EXPECT_NEAR(m.gx, 20.0, 1.0);
  EXPECT_NEAR(m.gy, -12.0, 1.0);
  // Flattened, the noise-free sky is the centre level everywhere, corners included.
  const double cx = 539.5, cy = 959.5, r = 0.5 * std::hypot(1080.0, 1920.0);
  for (auto [x, y] : {std::pair{0.0, 0.0}, {1079.0, 1919.0}, {539.5, 959.5}, {1079.0, 0.0}}) {
    const double uu = (x - cx) / r, vv = (y - cy) / r;
    const double sky = 900.0 * (1.0 - 0.04 * (uu * uu + vv * vv)) + 20.0 * uu - 12.0 * vv;
    EXPECT_NEAR(m.apply(static_cast<float>(sky), x, y), 900.0, 1.5) << x << "," << y;
  }
}

TEST(BackgroundModel, FlatSkyIsLeftAlone) {
  const Samples s = make(640, 480, 500.0, 0.0, 0.0, 0.0, 5.0, 0.1);
  const BackgroundModel m = fit_background_model(s.x, s.y, s.v, 640, 480);
  EXPECT_TRUE(m.identity());
  std::vector<float> row(640, 123.0f);
  apply_background_model(m, row.data(), 640, 10, 1);
  for (float v : row) EXPECT_EQ(v, 123.0f);
}

TEST(BackgroundModel, TooFewSamplesGiveTheIdentity) {
  const std::vector<float> x{1, 2, 3}, y{1, 2, 3}, v{10, 11, 12};
  EXPECT_TRUE(fit_background_model(x, y, v, 100, 100).identity());
}

TEST(BackgroundModel, ApplyKeepsNaN) {
  BackgroundModel m;
  m.plane = true;
  m.gx = 10.0;
  m.cx = 1.5;
  m.radius = 2.0;
  std::vector<float> row{1.0f, NAN, 1.0f, 1.0f};
  apply_background_model(m, row.data(), 4, 0, 1);
  EXPECT_TRUE(std::isnan(row[1]));
  EXPECT_FLOAT_EQ(row[0], 1.0f + 10.0f * 0.75f);
  EXPECT_FLOAT_EQ(row[3], 1.0f - 10.0f * 0.75f);
}

}  // namespace
}  // namespace zm
