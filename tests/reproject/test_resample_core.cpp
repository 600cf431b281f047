// The host-and-device resampling arithmetic (reproject/resample_core.hpp) tested directly on the CPU: these are the
// functions the GPU coadd runs, so CPU-only CI checks the device code's arithmetic too (known values, symmetry,
// weights summing to 1, clamping and snapping, node interpolation, per-pixel co-addition).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "reproject/kernels.hpp"
#include "reproject/resample_core.hpp"

namespace zm {
namespace {

namespace rs = resample;

double sum_of(const double* w, int n) {
  double s = 0.0;
  for (int k = 0; k < n; ++k) s += w[k];
  return s;
}

double lanczos3(double t) {
  if (t == 0.0) return 1.0;
  if (std::fabs(t) >= 3.0) return 0.0;
  const double pt = std::numbers::pi * t;
  return 3.0 * std::sin(pt) * std::sin(pt / 3.0) / (pt * pt);
}

TEST(ResampleCore, TapsPerKernel) {
  EXPECT_EQ(rs::taps_of(Kernel::Nearest), 1);
  EXPECT_EQ(rs::taps_of(Kernel::Bilinear), 2);
  EXPECT_EQ(rs::taps_of(Kernel::Bicubic), 4);
  EXPECT_EQ(rs::taps_of(Kernel::Lanczos3), 6);
  EXPECT_EQ(kLanczosTableSize, (kLanczosPhases + 1) * 6);
}

TEST(ResampleCore, IntegerHelpers) {
  EXPECT_EQ(rs::clamp_index(-3, 0, 9), 0);
  EXPECT_EQ(rs::clamp_index(12, 0, 9), 9);
  EXPECT_EQ(rs::clamp_index(4, 0, 9), 4);
  EXPECT_EQ(rs::floor_div(7, 4), 1);
  EXPECT_EQ(rs::floor_div(-1, 4), -1);
  EXPECT_EQ(rs::floor_div(-4, 4), -1);
  EXPECT_EQ(rs::floor_div(-5, 4), -2);
  EXPECT_EQ(rs::floor_div(0, 4), 0);
  EXPECT_TRUE(rs::is_finite(1.0));
  EXPECT_FALSE(rs::is_finite(std::nan("")));
  EXPECT_FALSE(rs::is_finite(INFINITY));
}

TEST(ResampleCore, KeysWeightsKnownValuesSymmetryAndSum) {
  double w[4];
  rs::keys_weights(0.0, w);
  EXPECT_EQ(w[0], 0.0);
  EXPECT_EQ(w[1], 1.0);
  EXPECT_EQ(w[2], 0.0);
  EXPECT_EQ(w[3], 0.0);
  rs::keys_weights(0.5, w);
  EXPECT_DOUBLE_EQ(w[0], -0.0625);
  EXPECT_DOUBLE_EQ(w[1], 0.5625);
  EXPECT_DOUBLE_EQ(w[2], 0.5625);
  EXPECT_DOUBLE_EQ(w[3], -0.0625);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 1000; ++i) {
    const double t = u(rng);
    double a[4];
    double b[4];
    rs::keys_weights(t, a);
    rs::keys_weights(1.0 - t, b);
    EXPECT_NEAR(sum_of(a, 4), 1.0, 1e-15);
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(a[k], b[3 - k], 1e-15) << t;
    // Keys a = -0.5 at the four distances t+1, t, 1-t, 2-t.
    auto keys = [](double d) {
      d = std::fabs(d);
      return d <= 1.0 ? (1.5 * d - 2.5) * d * d + 1.0 : ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0;
    };
    EXPECT_NEAR(a[0], keys(t + 1.0), 1e-14);
    EXPECT_NEAR(a[1], keys(t), 1e-14);
    EXPECT_NEAR(a[2], keys(1.0 - t), 1e-14);
    EXPECT_NEAR(a[3], keys(2.0 - t), 1e-14);
  }
  double l[2];
  rs::linear_weights(0.25, l);
  EXPECT_EQ(l[0], 0.75);
  EXPECT_EQ(l[1], 0.25);
}

TEST(ResampleCore, LanczosWeightsFromTheTable) {
  const double* table = lanczos3_weight_table();
  double w[6];
  rs::lanczos3_weights(table, 0.0, w);
  EXPECT_NEAR(w[2], 1.0, 1e-15);  // row 0 is the unit impulse at tap i0 (the others are sin(k pi) ~ 1e-17)
  for (int k : {0, 1, 3, 4, 5}) EXPECT_NEAR(w[k], 0.0, 1e-15);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int i = 0; i < 2000; ++i) {
    const double f = i == 0 ? 0.5 : u(rng);
    double a[6];
    double b[6];
    rs::lanczos3_weights(table, f, a);
    rs::lanczos3_weights(table, 1.0 - f, b);
    EXPECT_NEAR(sum_of(a, 6), 1.0, 1e-14) << f;
    double exact[6];
    for (int k = 0; k < 6; ++k) exact[k] = lanczos3(f + 2.0 - k);
    const double s = sum_of(exact, 6);
    for (int k = 0; k < 6; ++k) {
      EXPECT_NEAR(a[k], b[5 - k], 1e-12) << f;           // mirror symmetry
      EXPECT_NEAR(a[k], exact[k] / s, 2e-7) << f << " " << k;  // the table's interpolation error bound
    }
  }
}

TEST(ResampleCore, AxisTapsSnapClampAndSplit) {
  const double* table = lanczos3_weight_table();
  int idx[6];
  double w[6];
  // Nearest rounds half up and clamps.
  EXPECT_TRUE(rs::axis_taps<Kernel::Nearest>(2.5, 10, idx, w, table));
  EXPECT_EQ(idx[0], 3);
  EXPECT_EQ(w[0], 1.0);
  EXPECT_TRUE(rs::axis_taps<Kernel::Nearest>(9.4, 10, idx, w, table));
  EXPECT_EQ(idx[0], 9);
  // Within the snap tolerance of a centre: one pixel, weight exactly 1.
  for (double v : {4.0 + 0.5 * kSnapTolerancePx, 4.0 - 0.5 * kSnapTolerancePx}) {
    EXPECT_TRUE(rs::axis_taps<Kernel::Lanczos3>(v, 10, idx, w, table));
    for (int k = 0; k < 6; ++k) EXPECT_EQ(idx[k], 4);
    EXPECT_EQ(w[0], 1.0);
    for (int k = 1; k < 6; ++k) EXPECT_EQ(w[k], 0.0);
  }
  // Just beyond it: a real sub-pixel sample.
  EXPECT_FALSE(rs::axis_taps<Kernel::Bilinear>(4.0 + 3 * kSnapTolerancePx, 10, idx, w, table));
  // Bilinear halfway.
  EXPECT_FALSE(rs::axis_taps<Kernel::Bilinear>(3.5, 10, idx, w, table));
  EXPECT_EQ(idx[0], 3);
  EXPECT_EQ(idx[1], 4);
  EXPECT_EQ(w[0], 0.5);
  EXPECT_EQ(w[1], 0.5);
  // Bicubic at the left border: taps i0-1 .. i0+2 clamped to the edge pixel.
  EXPECT_FALSE(rs::axis_taps<Kernel::Bicubic>(-0.4, 10, idx, w, table));
  EXPECT_EQ(idx[0], 0);
  EXPECT_EQ(idx[1], 0);
  EXPECT_EQ(idx[2], 0);
  EXPECT_EQ(idx[3], 1);
  EXPECT_NEAR(sum_of(w, 4), 1.0, 1e-15);
  // Lanczos at the right border.
  EXPECT_FALSE(rs::axis_taps<Kernel::Lanczos3>(8.3, 10, idx, w, table));
  const int expect[6] = {6, 7, 8, 9, 9, 9};
  for (int k = 0; k < 6; ++k) EXPECT_EQ(idx[k], expect[k]);
}

TEST(ResampleCore, PointTapsClassifyAndRespectTheBand) {
  const double* table = lanczos3_weight_table();
  rs::PointTaps<4> t{};
  using rs::TapKind;
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(-0.6, 3.0, 20, 10, 0, 10, t, table), TapKind::Invalid);
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(3.0, 9.6, 20, 10, 0, 10, t, table), TapKind::Invalid);
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(std::nan(""), 3.0, 20, 10, 0, 10, t, table), TapKind::Invalid);
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(3.0, 4.0, 20, 10, 0, 10, t, table), TapKind::Direct);
  EXPECT_EQ(t.yo[0], 4 * 20);
  EXPECT_EQ(t.xi[0], 3);
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(3.25, 4.5, 20, 10, 0, 10, t, table), TapKind::Weighted);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(t.xi[k], 2 + k);
    EXPECT_EQ(t.yo[k], static_cast<long long>(3 + k) * 20);
  }
  // Rows 3..6 needed; a band holding rows 4..9 lacks row 3, one holding 3..7 has them (offsets relative to it).
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(3.25, 4.5, 20, 10, 4, 6, t, table), TapKind::Invalid);
  EXPECT_EQ(rs::point_taps<Kernel::Bicubic>(3.25, 4.5, 20, 10, 3, 5, t, table), TapKind::Weighted);
  EXPECT_EQ(t.yo[0], 0);
  EXPECT_EQ(t.yo[3], 3 * 20);
}

TEST(ResampleCore, CombineTapsIsTheWeightedSumAndKeepsAFlatFieldExact) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_real_distribution<float> v(-100.0f, 4000.0f);
  const double* table = lanczos3_weight_table();
  for (int i = 0; i < 500; ++i) {
    double wx[6];
    double wy[6];
    rs::lanczos3_weights(table, u(rng), wx);
    rs::lanczos3_weights(table, u(rng), wy);
    float px[6][6];
    for (auto& row : px)
      for (float& p : row) p = v(rng);
    double naive = 0.0;
    for (int j = 0; j < 6; ++j)
      for (int k = 0; k < 6; ++k) naive += wx[k] * wy[j] * px[j][k];
    const float got = rs::combine_taps<6>(wx, wy, [&](int j, int k) { return px[j][k]; });
    EXPECT_NEAR(got, naive, 1e-3 + 1e-6 * std::fabs(naive));
    const float flat = rs::combine_taps<6>(wx, wy, [](int, int) { return 1234.5f; });
    EXPECT_NEAR(flat, 1234.5f, 1e-3f);
    double bx[4];
    double by[4];
    rs::keys_weights(u(rng), bx);
    rs::keys_weights(u(rng), by);
    // Keys weights reproduce a linear ramp exactly (up to rounding): value = 3 * col + 5 * row.
    const double fx = bx[2] + 2 * bx[3] - bx[0], fy = by[2] + 2 * by[3] - by[0];
    const float ramp = rs::combine_taps<4>(bx, by, [](int j, int k) { return static_cast<float>(3 * (k - 1) + 5 * (j - 1)); });
    EXPECT_NEAR(ramp, 3 * fx + 5 * fy, 1e-5);
  }
}

TEST(ResampleCore, SamplesAreCombinedTaps) {
  // kernels.cpp's batched paths (SSE2, gather, direct) give the shared functions' values.
  const int W = 23, H = 17;
  std::vector<float> img(static_cast<std::size_t>(W) * H);
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> v(0.0f, 100.0f);
  for (float& p : img) p = v(rng);
  std::uniform_real_distribution<double> ux(-0.5, W - 0.5), uy(-0.5, H - 0.5);
  const double* table = lanczos3_weight_table();
  for (int i = 0; i < 2000; ++i) {
    const double x = ux(rng), y = uy(rng);
    rs::PointTaps<6> t{};
    const rs::TapKind kind = rs::point_taps<Kernel::Lanczos3>(x, y, W, H, 0, H, t, table);
    ASSERT_NE(kind, rs::TapKind::Invalid);
    const float expect = kind == rs::TapKind::Direct
                             ? img[t.yo[0] + t.xi[0]]
                             : rs::combine_taps<6>(t.wx, t.wy, [&](int j, int k) { return img[t.yo[j] + t.xi[k]]; });
    const float got = sample(img.data(), W, H, x, y, Kernel::Lanczos3);
    EXPECT_EQ(std::memcmp(&got, &expect, sizeof(float)), 0) << x << " " << y;
  }
}

TEST(ResampleCore, NodeInterpolationReproducesAnAffineMap) {
  // Nodes of x' = 0.9 x + 0.2 y + 3, y' = -0.1 x + 1.1 y - 2 every 8 pixels from node (-2, -2).
  const int step = 8, nx = 13, ny = 13;
  const long long kx0 = -2, ky0 = -2;
  std::vector<double> X(nx * ny), Y(nx * ny);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double px = static_cast<double>((kx0 + i) * step), py = static_cast<double>((ky0 + j) * step);
      X[j * nx + i] = 0.9 * px + 0.2 * py + 3.0;
      Y[j * nx + i] = -0.1 * px + 1.1 * py - 2.0;
    }
  for (bool bicubic : {true, false}) {
    const rs::NodeGridView g{step, bicubic, kx0, ky0, nx, ny, X.data(), Y.data()};
    EXPECT_EQ(g.taps(), bicubic ? 4 : 2);
    for (long long py = -3; py < 50; py += 3)
      for (long long px = -7; px < 60; px += 5) {
        double xo = 0.0, yo = 0.0;
        rs::interp_nodes(g, px, py, xo, yo);
        EXPECT_NEAR(xo, 0.9 * px + 0.2 * py + 3.0, 1e-9) << px << "," << py;
        EXPECT_NEAR(yo, -0.1 * px + 1.1 * py - 2.0, 1e-9) << px << "," << py;
      }
  }
  // On a node the interpolation returns the node (weights 0, 1, 0, 0).
  double w[4];
  EXPECT_EQ(rs::node_axis(16, step, true, kx0, w), 16 / step - 1 - kx0);
  EXPECT_EQ(w[1], 1.0);
  EXPECT_EQ(rs::node_axis(-3, step, false, kx0, w), -1 - kx0);  // floor(-3 / 8) = -1
  EXPECT_EQ(w[0], 3.0 / 8.0);
  EXPECT_EQ(w[1], 5.0 / 8.0);
}

TEST(ResampleCore, AddContributionAndNormalise) {
  const long long plane = 5;
  std::vector<double> acc(plane * 5, 0.0);  // 3 channels, weight, coverage
  const float v[3] = {10.0f, 20.0f, 30.0f};
  const double gain[3] = {1.0, 2.0, 0.5};
  const double offset[3] = {0.0, -1.0, 4.0};
  rs::add_contribution(acc.data() + 2, plane, 3, v, 0.5f, 4.0, gain, offset, 3.0);
  EXPECT_EQ(acc[2], 2.0 * 10.0);
  EXPECT_EQ(acc[plane + 2], 2.0 * 39.0);
  EXPECT_EQ(acc[2 * plane + 2], 2.0 * 19.0);
  EXPECT_EQ(acc[3 * plane + 2], 2.0);
  EXPECT_EQ(acc[4 * plane + 2], 3.0);
  rs::add_contribution(acc.data() + 2, plane, 3, v, 1.0f, 1.0, gain, offset, std::nan(""));
  EXPECT_EQ(acc[3 * plane + 2], 3.0);
  EXPECT_EQ(acc[4 * plane + 2], 3.0);  // a non-finite coverage value adds nothing
  for (long long i : {0LL, 1LL, 3LL, 4LL}) EXPECT_EQ(acc[3 * plane + i], 0.0);
  EXPECT_EQ(rs::normalised(acc[2], acc[3 * plane + 2]), static_cast<float>(30.0 / 3.0));
  const float nan = rs::normalised(5.0, 0.0);
  const float host_nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(std::memcmp(&nan, &host_nan, sizeof(float)), 0);
}

}  // namespace
}  // namespace zm
