// The Moffat PSF: normalisation, FWHM, pixel integration and stamp sizes, against closed forms.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "sim/psf.hpp"

namespace zm::sim {
namespace {

double stamp_sum(const MoffatPsf& psf, double cx, double cy, int r) {
  double s = 0.0;
  for (int y = -r; y <= r; ++y)
    for (int x = -r; x <= r; ++x) s += psf.pixel_fraction(x - cx, y - cy);
  return s;
}

TEST(SimPsf, HalfMaximumAtHalfFwhm) {
  for (double beta : {2.5, 3.0, 4.7}) {
    const MoffatPsf psf(3.2, beta);
    const double peak = psf.density(0.0);
    EXPECT_NEAR(psf.density(1.6 * 1.6) / peak, 0.5, 1e-6) << beta;
  }
}

TEST(SimPsf, PixelIntegralsSumToTheEnclosedFlux) {
  // Over a (2r+1)^2 box the sum must equal the analytic flux inside it: between the inscribed and the
  // circumscribed circle fractions.
  for (double beta : {3.0, 4.5}) {
    const MoffatPsf psf(3.0, beta);
    const int r = 40;
    const double s = stamp_sum(psf, 0.3, -0.2, r);
    EXPECT_LT(s, 1.0 - psf.flux_outside((r + 0.5) * std::sqrt(2.0)) + 2e-4) << beta;
    EXPECT_GT(s, 1.0 - psf.flux_outside(r + 0.5) - 2e-4) << beta;
  }
}

TEST(SimPsf, PixelIntegrationMattersInTheCoreAndIsAccurate) {
  // A fine 41x41 midpoint integration of the central pixel is the reference.
  const MoffatPsf psf(3.0, 3.0);
  double ref = 0.0;
  const int n = 41;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const double x = (i + 0.5) / n - 0.5, y = (j + 0.5) / n - 0.5;
      ref += psf.density(x * x + y * y);
    }
  ref /= n * n;
  EXPECT_NEAR(psf.pixel_fraction(0.0, 0.0) / ref, 1.0, 2e-3);
  EXPECT_GT(psf.density(0.0) / ref, 1.02);  // a point sample would be > 2 % off
}

TEST(SimPsf, CentroidOfPixelFractionsIsTheStarPosition) {
  const MoffatPsf psf(3.0, 3.0);
  for (double cx : {0.0, 0.25, 0.5, -0.37}) {
    double sw = 0, sx = 0, sy = 0;
    const double cy = 0.5 * cx + 0.1;
    for (int y = -30; y <= 30; ++y)
      for (int x = -30; x <= 30; ++x) {
        const double w = psf.pixel_fraction(x - cx, y - cy);
        sw += w;
        sx += w * x;
        sy += w * y;
      }
    EXPECT_NEAR(sx / sw, cx, 5e-3);
    EXPECT_NEAR(sy / sw, cy, 5e-3);
  }
}

TEST(SimPsf, NonIntegerBetaTableMatchesPow) {
  const MoffatPsf psf(2.7, 3.3);
  const double a2 = psf.alpha() * psf.alpha();
  const double norm = (3.3 - 1.0) / (std::numbers::pi * a2);
  for (double r2 : {0.0, 0.7, 3.0, 12.0, 100.0, 2000.0}) {
    const double exact = norm * std::pow(1.0 + r2 / a2, -3.3);
    EXPECT_NEAR(psf.density(r2) / exact, 1.0, 1e-5) << r2;
  }
}

TEST(SimPsf, StampRadiusLosesAtMostTheStatedFraction) {
  const MoffatPsf psf(3.0, 3.0);
  const int faint = psf.stamp_radius(100.0);
  EXPECT_LE(psf.flux_outside(faint), MoffatPsf::kLostFraction);
  const int bright = psf.stamp_radius(2e6);
  EXPECT_GT(bright, faint);
  EXPECT_LE(2e6 * psf.density(bright * bright), MoffatPsf::kWingFloorAdu * 1.0001);
  EXPECT_LE(psf.stamp_radius(1e12), MoffatPsf::kMaxRadius);
}

}  // namespace
}  // namespace zm::sim
