// Pixel maps: affine maps, adaptive grids checked densely against exact evaluation (TAN, TAN-SIP, strong
// distortion, big rotations), undefined regions, band independence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <vector>

#include "reproject/pixel_map.hpp"
#include "reproject_test_util.hpp"

namespace zm {
namespace {

using namespace reproject_test;

const SkyCoord kCentre{150.0, 30.0};

// Largest |map - exact| over every pixel of map.band (the dense check).
double max_error_vs_exact(const Wcs& out, const Wcs& in, const PixelMap& map) {
  const PixelMap exact = compute_pixel_map(out, in, map.band, MapGrid{});
  double m = 0.0;
  for (std::size_t i = 0; i < map.x.size(); ++i) {
    EXPECT_EQ(std::isfinite(map.x[i]), std::isfinite(exact.x[i]));
    if (!std::isfinite(exact.x[i])) continue;
    m = std::max(m, std::hypot(map.x[i] - exact.x[i], map.y[i] - exact.y[i]));
  }
  return m;
}

TEST(Affine, InverseAndMap) {
  const Affine2x3 m{0.9, -0.2, 12.5, 0.3, 1.1, -7.25};
  const Affine2x3 inv = inverse(m);
  const double x = 37.0, y = -4.5;
  const double xm = m.a * x + m.b * y + m.c, ym = m.d * x + m.e * y + m.f;
  EXPECT_NEAR(inv.a * xm + inv.b * ym + inv.c, x, 1e-12);
  EXPECT_NEAR(inv.d * xm + inv.e * ym + inv.f, y, 1e-12);
  EXPECT_THROW(inverse(Affine2x3{1, 2, 0, 2, 4, 0}), std::invalid_argument);

  const PixelMap map = affine_pixel_map(m, PixelRect{10, 20, 7, 5});
  ASSERT_EQ(map.x.size(), 35u);
  EXPECT_TRUE(map.grid.exact());
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 7; ++c) {
      const double px = 10 + c, py = 20 + r;
      EXPECT_EQ(map.x_row(r)[c], m.a * px + m.b * py + m.c);
      EXPECT_EQ(map.y_row(r)[c], m.d * px + m.e * py + m.f);
    }
}

TEST(PixelMap, TanToTanNeedsFewNodesAndMeetsTheTolerance) {
  const Wcs in = tan_wcs(kCentre, 2.5, 0.0, 640, 480);
  const Wcs out = tan_wcs(SkyCoord{150.05, 30.03}, 2.75, 30.0, 600, 500, 11.3, -7.9);
  const PixelRect all{0, 0, 600, 500};
  const MapGrid g = choose_map_grid(out, in, all);
  EXPECT_EQ(g.step, 64);
  EXPECT_LT(g.max_error_px, 0.01);
  EXPECT_GT(g.checked_points, 100);
  const PixelMap map = compute_pixel_map(out, in, all, g);
  EXPECT_LT(max_error_vs_exact(out, in, map), 0.01);
}

TEST(PixelMap, SipToTanMeetsTheTolerance) {
  const Wcs in = mild_sip(kCentre, 2.5, 10.0, 640, 480);
  const Wcs out = tan_wcs(SkyCoord{150.02, 29.98}, 2.4, -20.0, 700, 560);
  const PixelRect all{0, 0, 700, 560};
  const MapGrid g = choose_map_grid(out, in, all);
  EXPECT_GE(g.step, 16);
  EXPECT_LT(g.max_error_px, 0.01);
  const PixelMap map = compute_pixel_map(out, in, all, g);
  EXPECT_LT(max_error_vs_exact(out, in, map), 0.01);
  // The bilinear grid meets the same bound, with more nodes.
  PixelMapOptions bil;
  bil.interp = MapInterp::Bilinear;
  const MapGrid gb = choose_map_grid(out, in, all, bil);
  EXPECT_LE(gb.step, g.step);
  EXPECT_LT(max_error_vs_exact(out, in, compute_pixel_map(out, in, all, gb)), 0.01);
}

TEST(PixelMap, StepShrinksOnAStronglyDistortedSip) {
  // Quartic and quintic terms worth tens of pixels at the corners.
  const Wcs in = sip_wcs(kCentre, 2.5, 0.0, 800, 600, 5,
                         {{2, 0, 5e-5, 2e-5}, {0, 2, -4e-5, 3e-5}, {3, 0, 2e-7, -1e-7}, {0, 3, 1e-7, 2e-7},
                          {4, 0, 5e-10, 3e-10}, {2, 2, -6e-10, 4e-10}, {5, 0, 1e-12, -2e-12}, {0, 5, -1e-12, 1e-12}});
  const Wcs out = tan_wcs(SkyCoord{150.0, 30.0}, 2.5, 15.0, 760, 640);
  const PixelRect all{0, 0, 760, 640};
  const MapGrid g = choose_map_grid(out, in, all);
  EXPECT_LT(g.step, 64);
  EXPECT_GT(g.step, 0);
  EXPECT_GT(g.halvings, 0);
  EXPECT_LT(g.max_error_px, 0.01);
  const PixelMap map = compute_pixel_map(out, in, all, g);
  EXPECT_LT(max_error_vs_exact(out, in, map), 0.01);
  // A tolerance no grid can meet ends in exact evaluation.
  PixelMapOptions tight;
  tight.tolerance_px = 1e-9;
  tight.min_step = 16;
  const MapGrid ge = choose_map_grid(out, in, all, tight);
  EXPECT_TRUE(ge.exact());
}

TEST(PixelMap, BigRotationAndFlip) {
  const Wcs in = tan_wcs(kCentre, 2.5, 0.0, 500, 400);
  // Rotated by 149 degrees and mirrored (det CD > 0).
  const double s = 2.6 / 3600, th = 2.6;
  const Wcs out = Wcs::make_tan(SkyCoord{150.01, 30.0}, PixelCoord{250, 210},
                                {s * std::cos(th), s * std::sin(th), -s * std::sin(th), s * std::cos(th)}, 520, 430);
  const PixelRect all{0, 0, 520, 430};
  const MapGrid g = choose_map_grid(out, in, all);
  EXPECT_GE(g.step, 32);
  const PixelMap map = compute_pixel_map(out, in, all, g);
  EXPECT_LT(max_error_vs_exact(out, in, map), 0.01);
}

TEST(PixelMap, UndefinedPointsStayNaNAndDefinedOnesAreAccurate) {
  // A 150-degree-wide TAN canvas and an input whose tangent point is 60 degrees away: part of the canvas lies
  // beyond the input's horizon, where its projection is undefined.
  const Wcs out = Wcs::make_tan(SkyCoord{0.0, 0.0}, PixelCoord{150, 150}, {-1.0, 0.0, 0.0, 1.0}, 301, 301);
  const Wcs in = tan_wcs(SkyCoord{60.0, 0.0}, 360.0, 0.0, 400, 400);
  const PixelRect all{0, 0, 301, 301};
  const MapGrid g = choose_map_grid(out, in, all);
  const PixelMap map = compute_pixel_map(out, in, all, g);
  const PixelMap exact = compute_pixel_map(out, in, all, MapGrid{});
  long long undefined = 0, checked = 0;
  for (std::size_t i = 0; i < map.x.size(); ++i) {
    if (!std::isfinite(exact.x[i])) {
      ++undefined;
      EXPECT_FALSE(std::isfinite(map.x[i]));
      continue;
    }
    // Only what lands on (or near) the input matters to a warp.
    if (exact.x[i] < -10 || exact.x[i] > 410 || exact.y[i] < -10 || exact.y[i] > 410) continue;
    ++checked;
    EXPECT_LT(std::hypot(map.x[i] - exact.x[i], map.y[i] - exact.y[i]), 0.01);
  }
  EXPECT_GT(undefined, 1000);
  EXPECT_GT(checked, 1000);
}

// An affine map that is undefined (NaN) left of x = 100.
class HalfDefined final : public PixelTransform {
 public:
  void map(const double* x, const double* y, int n, double* xo, double* yo) override {
    for (int i = 0; i < n; ++i) {
      const bool ok = x[i] >= 100.0;
      xo[i] = ok ? 0.9 * x[i] + 0.1 * y[i] + 3.0 : std::nan("");
      yo[i] = ok ? -0.2 * x[i] + 1.1 * y[i] - 5.0 : std::nan("");
    }
  }
  std::unique_ptr<PixelTransform> clone() const override { return std::make_unique<HalfDefined>(); }
};

TEST(PixelMap, PixelsNextToUndefinedNodesAreEvaluatedExactly) {
  HalfDefined t;
  const PixelRect all{0, 0, 300, 200};
  const MapGrid g = choose_map_grid(t, all);
  EXPECT_EQ(g.step, 64);  // an affine map interpolates exactly; NaN supports are not counted as errors
  for (int step : {64, 16}) {
    MapGrid fixed = g;
    fixed.step = step;
    const PixelMap map = compute_pixel_map(t, all, fixed);
    for (int r = 0; r < 200; ++r)
      for (int c = 0; c < 300; ++c) {
        const double xo = map.x_row(r)[c], yo = map.y_row(r)[c];
        if (c < 100) {
          ASSERT_TRUE(std::isnan(xo) && std::isnan(yo)) << c << "," << r;
        } else {
          ASSERT_NEAR(xo, 0.9 * c + 0.1 * r + 3.0, 1e-9) << step << " " << c << "," << r;
          ASSERT_NEAR(yo, -0.2 * c + 1.1 * r - 5.0, 1e-9) << step << " " << c << "," << r;
        }
      }
  }
}

TEST(PixelMap, BandsGiveTheSameBitsAsTheWhole) {
  const Wcs in = mild_sip(kCentre, 2.5, 10.0, 400, 300);
  const Wcs out = tan_wcs(SkyCoord{150.01, 30.01}, 2.7, 33.0, 380, 260);
  const PixelRect all{0, 0, 380, 260};
  for (MapInterp interp : {MapInterp::Bicubic, MapInterp::Bilinear}) {
    PixelMapOptions opt;
    opt.interp = interp;
    const MapGrid g = choose_map_grid(out, in, all, opt);
    ASSERT_GT(g.step, 0);
    const PixelMap whole = compute_pixel_map(out, in, all, g);
    for (int band_rows : {1, 7, 64}) {
      for (int y0 = 0; y0 < 260; y0 += band_rows) {
        const int rows = std::min(band_rows, 260 - y0);
        // Odd column windows too: the pipeline may map only part of a row.
        const PixelRect band{13, y0, 300, rows};
        const PixelMap part = compute_pixel_map(out, in, band, g);
        for (int r = 0; r < rows; ++r)
          for (int c = 0; c < band.cols; ++c) {
            const std::size_t wi = static_cast<std::size_t>(y0 + r) * 380 + 13 + c;
            ASSERT_EQ(part.x_row(r)[c], whole.x[wi]) << band_rows << " " << y0 << " " << r << " " << c;
            ASSERT_EQ(part.y_row(r)[c], whole.y[wi]);
          }
      }
    }
  }
}

TEST(PixelMap, ExactModeMatchesPointwiseTransforms) {
  Wcs in = mild_sip(kCentre, 2.5, 0.0, 300, 200);
  Wcs out = tan_wcs(kCentre, 3.0, 45.0, 200, 150);
  PixelMapOptions opt;
  opt.mode = MapMode::Exact;
  const PixelMap map = compute_pixel_map(out, in, PixelRect{5, 6, 50, 40}, opt);
  EXPECT_TRUE(map.grid.exact());
  for (int r = 0; r < 40; r += 13)
    for (int c = 0; c < 50; c += 7) {
      const SkyCoord s = out.pixel_to_world(PixelCoord{5.0 + c, 6.0 + r});
      const auto p = in.world_to_pixel(s);
      ASSERT_TRUE(p.has_value());
      EXPECT_EQ(map.x_row(r)[c], p->x);
      EXPECT_EQ(map.y_row(r)[c], p->y);
    }
}

}  // namespace
}  // namespace zm
