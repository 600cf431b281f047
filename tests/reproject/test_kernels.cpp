// Resampling kernels: exactness at pixel centres, flat fields, known weights, borders, NaN handling, bands.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "reproject/kernels.hpp"
#include "reproject_test_util.hpp"

namespace zm {
namespace {

using reproject_test::random_image;

constexpr Kernel kAll[] = {Kernel::Nearest, Kernel::Bilinear, Kernel::Bicubic, Kernel::Lanczos3};
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

TEST(Kernels, ParseAndName) {
  for (Kernel k : kAll) {
    auto p = parse_kernel(to_string(k));
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(*p, k);
  }
  EXPECT_EQ(parse_kernel("  Lanczos3 "), Kernel::Lanczos3);
  EXPECT_EQ(parse_kernel("BICUBIC"), Kernel::Bicubic);
  EXPECT_FALSE(parse_kernel("lanczos4").has_value());
  EXPECT_FALSE(parse_kernel("").has_value());
}

TEST(Kernels, PixelCentresReturnTheInputBits) {
  const ImageF img = random_image(1, 23, 17, 1);
  for (Kernel k : kAll) {
    for (int y = 0; y < img.height; ++y) {
      for (int x = 0; x < img.width; ++x) {
        // Tiny offsets like those of a WCS round trip are snapped to the centre.
        const double dx = (x % 3 == 0) ? 3e-10 : ((x % 3 == 1) ? -4e-8 : 0.0);
        EXPECT_EQ(sample(img.plane(0), img.width, img.height, x + dx, y - dx, k), img.at(0, y, x))
            << to_string(k) << " at " << x << "," << y;
      }
    }
  }
}

TEST(Kernels, FlatFieldStaysFlatUpToTheBorder) {
  ImageF img(1, 12, 9, 37.25f);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> ux(-0.5, 11.5), uy(-0.5, 8.5);
  for (Kernel k : kAll) {
    for (int i = 0; i < 500; ++i) {
      const double x = ux(rng), y = uy(rng);
      EXPECT_FLOAT_EQ(sample(img.plane(0), 12, 9, x, y, k), 37.25f) << to_string(k) << " " << x << " " << y;
    }
  }
}

TEST(Kernels, OutsideTheImageIsNaN) {
  const ImageF img = random_image(1, 10, 8, 2);
  const float* p = img.plane(0);
  for (Kernel k : kAll) {
    EXPECT_FALSE(std::isnan(sample(p, 10, 8, -0.5, 0.0, k))) << to_string(k);
    EXPECT_FALSE(std::isnan(sample(p, 10, 8, 9.5, 7.5, k))) << to_string(k);
    EXPECT_TRUE(std::isnan(sample(p, 10, 8, -0.5000001, 3.0, k))) << to_string(k);
    EXPECT_TRUE(std::isnan(sample(p, 10, 8, 9.5000001, 3.0, k))) << to_string(k);
    EXPECT_TRUE(std::isnan(sample(p, 10, 8, 4.0, 7.6, k))) << to_string(k);
    EXPECT_TRUE(std::isnan(sample(p, 10, 8, std::nan(""), 3.0, k))) << to_string(k);
    EXPECT_TRUE(std::isnan(sample(p, 10, 8, 3.0, std::nan(""), k))) << to_string(k);
  }
  // Inside but past the outermost centre: every tap of these kernels is replicated from the border pixel.
  EXPECT_EQ(sample(p, 10, 8, -0.4, 5.0, Kernel::Nearest), img.at(0, 5, 0));
  EXPECT_EQ(sample(p, 10, 8, -0.4, 5.0, Kernel::Bilinear), img.at(0, 5, 0));
  EXPECT_EQ(sample(p, 10, 8, 9.3, 7.2, Kernel::Bilinear), img.at(0, 7, 9));
}

// A delta image reveals the weights: sampling at x0 + f reads w(tap) at each tap.
std::vector<double> weights_seen(Kernel k, double f) {
  const int w = 16;
  std::vector<double> out;
  for (int tap = 0; tap < w; ++tap) {
    ImageF img(1, w, 1, 0.0f);
    img.at(0, 0, tap) = 1.0f;
    out.push_back(sample(img.plane(0), w, 1, 7.0 + f, 0.0, k));
  }
  return out;
}

double lanczos3(double t) {
  if (t == 0.0) return 1.0;
  const double pt = std::numbers::pi * t;
  return std::fabs(t) >= 3.0 ? 0.0 : 3.0 * std::sin(pt) * std::sin(pt / 3.0) / (pt * pt);
}

TEST(Kernels, WeightsMatchTheAnalyticKernels) {
  const std::vector<double> bil = weights_seen(Kernel::Bilinear, 0.25);
  EXPECT_NEAR(bil[7], 0.75, 1e-7);
  EXPECT_NEAR(bil[8], 0.25, 1e-7);
  EXPECT_EQ(bil[6], 0.0);
  EXPECT_EQ(bil[9], 0.0);

  const std::vector<double> cub = weights_seen(Kernel::Bicubic, 0.5);
  EXPECT_NEAR(cub[6], -1.0 / 16, 1e-7);
  EXPECT_NEAR(cub[7], 9.0 / 16, 1e-7);
  EXPECT_NEAR(cub[8], 9.0 / 16, 1e-7);
  EXPECT_NEAR(cub[9], -1.0 / 16, 1e-7);
  EXPECT_EQ(cub[5], 0.0);
  EXPECT_EQ(cub[10], 0.0);

  for (double f : {0.1, 0.37, 0.5, 0.83}) {
    const std::vector<double> lz = weights_seen(Kernel::Lanczos3, f);
    double norm = 0.0;
    for (int k = -2; k <= 3; ++k) norm += lanczos3(f - k);
    for (int k = -2; k <= 3; ++k) EXPECT_NEAR(lz[7 + k], lanczos3(f - k) / norm, 2e-7) << f << " tap " << k;
    EXPECT_EQ(lz[4], 0.0);
    EXPECT_EQ(lz[11], 0.0);
  }

  const std::vector<double> nn = weights_seen(Kernel::Nearest, 0.49);
  EXPECT_EQ(nn[7], 1.0);
  EXPECT_EQ(weights_seen(Kernel::Nearest, 0.51)[8], 1.0);
}

TEST(Kernels, LinearRampsAreReproduced) {
  // Bilinear and Keys bicubic reproduce linear functions. Normalised Lanczos-3 does not: its weights' first
  // moment misses the sub-pixel offset by up to 0.0198 px (at offsets 0.25 / 0.75), so a ramp of slope
  // (3, -2) per px may be off by up to 0.0198 * 5 = 0.099.
  ImageF img(1, 20, 20);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) img.at(0, y, x) = static_cast<float>(3.0 * x - 2.0 * y + 50.0);
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> u(3.0, 16.0);
  for (int i = 0; i < 200; ++i) {
    const double x = u(rng), y = u(rng);
    const double truth = 3.0 * x - 2.0 * y + 50.0;
    EXPECT_NEAR(sample(img.plane(0), 20, 20, x, y, Kernel::Bilinear), truth, 1e-4);
    EXPECT_NEAR(sample(img.plane(0), 20, 20, x, y, Kernel::Bicubic), truth, 1e-4);
    EXPECT_NEAR(sample(img.plane(0), 20, 20, x, y, Kernel::Lanczos3), truth, 0.1);
  }
}

TEST(Kernels, NaNInTheSupportGivesNaN) {
  ImageF img(1, 30, 30, 5.0f);
  img.at(0, 10, 10) = kNaNf;
  const float* p = img.plane(0);
  // Lanczos-3 at x = 12.5 reads columns 10..15; at 13.5 it reads 11..16.
  EXPECT_TRUE(std::isnan(sample(p, 30, 30, 12.5, 10.0, Kernel::Lanczos3)));
  EXPECT_FLOAT_EQ(sample(p, 30, 30, 13.5, 10.0, Kernel::Lanczos3), 5.0f);
  EXPECT_TRUE(std::isnan(sample(p, 30, 30, 11.9, 11.5, Kernel::Bicubic)));   // rows 10..13, cols 10..13
  EXPECT_FLOAT_EQ(sample(p, 30, 30, 12.1, 12.1, Kernel::Bicubic), 5.0f);      // cols 11..14
  EXPECT_TRUE(std::isnan(sample(p, 30, 30, 10.5, 10.0, Kernel::Bilinear)));
  EXPECT_FLOAT_EQ(sample(p, 30, 30, 11.0, 10.5, Kernel::Bilinear), 5.0f);
  EXPECT_TRUE(std::isnan(sample(p, 30, 30, 10.4, 9.6, Kernel::Nearest)));
  EXPECT_FLOAT_EQ(sample(p, 30, 30, 10.6, 10.0, Kernel::Nearest), 5.0f);
  // On the NaN pixel's row but snapped to another column: only that column is read.
  EXPECT_FLOAT_EQ(sample(p, 30, 30, 11.0, 10.0, Kernel::Lanczos3), 5.0f);
}

TEST(Kernels, RowBandGivesTheSameSamplesAsTheWholeImage) {
  const ImageF img = random_image(2, 40, 30, 5);
  std::mt19937 rng(6);
  std::uniform_real_distribution<double> ux(-0.5, 39.5), uy(9.0, 20.0);
  const int n = 300;
  std::vector<double> xs(n), ys(n);
  for (int i = 0; i < n; ++i) {
    xs[i] = ux(rng);
    ys[i] = uy(rng);
  }
  for (Kernel k : kAll) {
    // Rows 9 - 2 .. 20 + 3 cover every tap; keep the band at rows [6, 24).
    const int row0 = 6, rows = 18;
    std::vector<float> band(static_cast<std::size_t>(2) * rows * 40);
    for (int c = 0; c < 2; ++c)
      for (int r = 0; r < rows; ++r)
        for (int x = 0; x < 40; ++x) band[(static_cast<std::size_t>(c) * rows + r) * 40 + x] = img.at(c, row0 + r, x);
    std::vector<float> whole0(n), whole1(n), b0(n), b1(n);
    float* wo[2] = {whole0.data(), whole1.data()};
    float* bo[2] = {b0.data(), b1.data()};
    resample_row(PlaneBand{img.data.data(), 2, 40, 30, 0, 30}, xs.data(), ys.data(), n, k, wo);
    resample_row(PlaneBand{band.data(), 2, 40, 30, row0, rows}, xs.data(), ys.data(), n, k, bo);
    EXPECT_TRUE(reproject_test::same_bits(whole0, b0)) << to_string(k);
    EXPECT_TRUE(reproject_test::same_bits(whole1, b1)) << to_string(k);
    // Single-channel entry point agrees with channel 0.
    std::vector<float> single(n);
    resample_row(img.plane(0), 40, 30, xs.data(), ys.data(), n, k, single.data());
    EXPECT_TRUE(reproject_test::same_bits(whole0, single)) << to_string(k);
    // A sample needing a row the band lacks is invalid rather than wrong.
    const double x = 10.3, y = 4.2;
    float v = 0.0f;
    float* vo[2] = {&v, &v};
    resample_row(PlaneBand{band.data(), 2, 40, 30, row0, rows}, &x, &y, 1, k, vo);
    EXPECT_TRUE(std::isnan(v)) << to_string(k);
  }
}

}  // namespace
}  // namespace zm
