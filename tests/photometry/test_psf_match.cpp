// PSF matching (psf_match.hpp) against analytic Gaussian stars, and the flux ratio of a crowded faint field whose
// two images have different PSFs (the case where an unmatched or mis-matched PSF reads as a flux-dependent gain).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "photometry/flux_ratio.hpp"
#include "photometry/psf_match.hpp"

namespace zm {
namespace {

struct Star {
  double x, y, flux;
};

// Stars on a w x h grid: Gaussian PSF of `sigma`, sampled at pixel centres, over a flat sky.
std::vector<float> render(const std::vector<Star>& stars, int w, int h, double sigma, double sky) {
  std::vector<float> img(static_cast<std::size_t>(w) * h, static_cast<float>(sky));
  const int r = static_cast<int>(std::ceil(6 * sigma));
  for (const Star& s : stars)
    for (int y = std::max(0, static_cast<int>(s.y) - r); y <= std::min(h - 1, static_cast<int>(s.y) + r); ++y)
      for (int x = std::max(0, static_cast<int>(s.x) - r); x <= std::min(w - 1, static_cast<int>(s.x) + r); ++x) {
        const double r2 = (x - s.x) * (x - s.x) + (y - s.y) * (y - s.y);
        img[static_cast<std::size_t>(y) * w + x] +=
            static_cast<float>(s.flux / (2 * std::numbers::pi * sigma * sigma) * std::exp(-0.5 * r2 / (sigma * sigma)));
      }
  return img;
}

void add_noise(std::vector<float>& img, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, sigma);
  for (float& v : img) v += static_cast<float>(n(rng));
}

// Isolated bright stars on a grid, and stamps (disc of 6 px, ring 7-10 px) around them.
struct Field {
  int w = 240, h = 200;
  std::vector<Star> stars;
  std::vector<MatchStamp> stamps;
};

Field bright_field() {
  Field f;
  for (int gy = 0; gy < 7; ++gy)
    for (int gx = 0; gx < 8; ++gx) f.stars.push_back({20.0 + 28 * gx + 0.3 * gy, 20.0 + 27 * gy + 0.2 * gx, 2e4 + 3e3 * gx});
  for (const Star& s : f.stars) {
    MatchStamp m;
    for (int dy = -10; dy <= 10; ++dy)
      for (int dx = -10; dx <= 10; ++dx) {
        const int x = static_cast<int>(std::lround(s.x)) + dx, y = static_cast<int>(std::lround(s.y)) + dy;
        const double d = std::hypot(dx, dy);
        const std::size_t k = static_cast<std::size_t>(y) * f.w + x;
        if (d <= 6) m.aperture.push_back(k);
        else if (d >= 7 && d <= 10) m.ring.push_back(k);
      }
    f.stamps.push_back(std::move(m));
  }
  return f;
}

TEST(PsfMatch, RecoversTheBlurBetweenTwoGaussianPsfsEitherWay) {
  const Field f = bright_field();
  std::vector<float> sharp = render(f.stars, f.w, f.h, 1.2, 100.0), wide = render(f.stars, f.w, f.h, 1.7, 100.0);
  for (float& v : wide) v = 1.3f * v + 25.0f;  // a gain and an offset must not matter
  add_noise(sharp, 3.0, 1), add_noise(wide, 3.0, 2);
  const std::vector<std::uint8_t> valid(sharp.size(), 1);
  const double expected = std::sqrt(1.7 * 1.7 - 1.2 * 1.2);
  const PsfMatch fwd = psf_matching_sigma(sharp.data(), wide.data(), valid, f.w, f.h, 3.0, 3.0, f.stamps);
  ASSERT_TRUE(fwd.ok);
  EXPECT_EQ(fwd.stamps, static_cast<int>(f.stars.size()));
  EXPECT_NEAR(fwd.sigma, expected, 0.03);  // > 0: blur x, the sharp one
  const PsfMatch back = psf_matching_sigma(wide.data(), sharp.data(), valid, f.w, f.h, 3.0, 3.0, f.stamps);
  ASSERT_TRUE(back.ok);
  EXPECT_NEAR(back.sigma, -expected, 0.03);
}

TEST(PsfMatch, EqualPsfsWithUnequalNoiseNeedNoBlur) {
  // Blurring the noisier image lowers the raw residual; the objective's noise term must cancel that pull. Near
  // zero the objective is flat (the width mismatch enters as s^2, the residual as s^4), so the bound is on the
  // effect: a blur of 0.3 px widens a sigma-1.4 PSF by 2 %.
  const Field f = bright_field();
  std::vector<float> x = render(f.stars, f.w, f.h, 1.4, 100.0), y = x;
  add_noise(x, 12.0, 3), add_noise(y, 2.0, 4);
  const std::vector<std::uint8_t> valid(x.size(), 1);
  const PsfMatch m = psf_matching_sigma(x.data(), y.data(), valid, f.w, f.h, 12.0, 2.0, f.stamps);
  ASSERT_TRUE(m.ok);
  EXPECT_LT(std::fabs(m.sigma), 0.3);

}

TEST(PsfMatch, TooFewStampsIsNotOk) {
  Field f = bright_field();
  f.stamps.resize(2);
  const std::vector<float> x = render(f.stars, f.w, f.h, 1.4, 100.0);
  const std::vector<std::uint8_t> valid(x.size(), 1);
  EXPECT_FALSE(psf_matching_sigma(x.data(), x.data(), valid, f.w, f.h, 1.0, 1.0, f.stamps).ok);
}

TEST(GaussianBlurValid, KeepsConstantsAndFluxAndShrinksNoiseAsPredicted) {
  const int w = 120, h = 100;
  std::vector<float> flat(static_cast<std::size_t>(w) * h, 7.0f);
  std::vector<std::uint8_t> valid(flat.size(), 1);
  for (int x = 0; x < 30; ++x) valid[static_cast<std::size_t>(50) * w + x] = 0;  // invalid pixels must not leak in
  const std::vector<float> b = gaussian_blur_valid(flat.data(), valid, w, h, 1.5);
  for (std::size_t k = 0; k < b.size(); ++k) EXPECT_NEAR(b[k], 7.0f, 1e-4f);
  const std::vector<Star> one{{60.3, 49.6, 1000.0}};
  const std::vector<float> star = render(one, w, h, 1.0, 0.0);
  std::vector<std::uint8_t> all(star.size(), 1);
  const std::vector<float> bs = gaussian_blur_valid(star.data(), all, w, h, 1.2);
  double s0 = 0, s1 = 0;
  for (std::size_t k = 0; k < star.size(); ++k) s0 += star[k], s1 += bs[k];
  EXPECT_NEAR(s1, s0, 1e-3 * s0);
  std::vector<float> noise(static_cast<std::size_t>(400) * 400, 0.0f);
  add_noise(noise, 1.0, 9);
  std::vector<std::uint8_t> v4(noise.size(), 1);
  const std::vector<float> bn = gaussian_blur_valid(noise.data(), v4, 400, 400, 1.2);
  double var = 0;
  int n = 0;
  for (int y = 10; y < 390; ++y)
    for (int x = 10; x < 390; ++x, ++n) var += bn[static_cast<std::size_t>(y) * 400 + x] * bn[static_cast<std::size_t>(y) * 400 + x];
  EXPECT_NEAR(std::sqrt(var / n), blur_noise_factor(1.2), 0.03 * blur_noise_factor(1.2));
  EXPECT_DOUBLE_EQ(blur_noise_factor(0.0), 1.0);
}

TEST(FluxRatio, CrowdedFaintFieldWithDifferentPsfsGivesTheGain) {
  // ~0.012 stars per pixel with power-law fluxes (most near the detection limit), x at PSF sigma 1.25, y at 1.6
  // with gain 1.1 and offset 30. A PSF mismatch makes faint stars' neighbours cross each aperture differently.
  const int w = 400, h = 260;
  std::mt19937 rng(21);
  std::uniform_real_distribution<double> ux(0, w), uy(0, h), u(0, 1);
  std::vector<Star> stars;
  for (int i = 0; i < 1250; ++i) stars.push_back({ux(rng), uy(rng), 600.0 * std::pow(u(rng) + 1e-3, -1.2)});
  std::vector<float> x = render(stars, w, h, 1.25, 100.0), y = render(stars, w, h, 1.6, 100.0);
  for (float& v : y) v = 1.1f * v + 30.0f;
  add_noise(x, 6.0, 11), add_noise(y, 6.0, 12);
  const std::vector<std::uint8_t> valid(x.size(), 1);
  const PlaneSet px{{x.data()}, {6.0}}, py{{y.data()}, {6.0}};
  const auto r = flux_ratio(px, py, valid, w, h);
  ASSERT_TRUE(r[0].ok);
  std::printf("a %.5f +- %.5f from %d sources\n", r[0].a, r[0].a_rel_sigma, r[0].sources);
  EXPECT_GE(r[0].sources, 40);
  EXPECT_NEAR(r[0].a / 1.1, 1.0, std::max(0.004, 3 * r[0].a_rel_sigma));
}

}  // namespace
}  // namespace zm
