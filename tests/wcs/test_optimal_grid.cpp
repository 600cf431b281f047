// find_optimal_grid: containment, minimum area against a brute-force rotation search, RA wrap, pole, scales.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "wcs/geometry.hpp"
#include "wcs/optimal_grid.hpp"
#include "wcs_test_util.hpp"

namespace zm {
namespace {

using test::kDeg;
using test::kRad;
using test::rotated_cd;

// Sky position at standard coordinates (xi, eta) degrees about c (inverse gnomonic).
SkyCoord deproject(SkyCoord c, double xi, double eta) {
  const double x = xi * kDeg, y = eta * kDeg, d0 = c.dec * kDeg;
  const double ra = c.ra * kDeg + std::atan2(x, std::cos(d0) - y * std::sin(d0));
  const double dec = std::atan2(y * std::cos(d0) + std::sin(d0), std::hypot(x, std::cos(d0) - y * std::sin(d0)));
  double r = std::fmod(ra * kRad + 360.0, 360.0);
  return {r, dec * kRad};
}

ImageFootprint frame(SkyCoord centre, double pa_deg, double arcsec, int w, int h, bool mirrored = false) {
  std::array<double, 4> cd = rotated_cd(arcsec, pa_deg);
  if (mirrored) cd[0] = -cd[0], cd[2] = -cd[2];
  return {Wcs::make_tan(centre, {0.5 * (w - 1), 0.5 * (h - 1)}, cd, w, h), w, h};
}

std::vector<SkyCoord> corners(const ImageFootprint& f) {
  Wcs w = f.wcs;
  w.set_size(f.width, f.height);
  const auto c = footprint_corners(w);
  return {c.begin(), c.end()};
}

void expect_contains(OutputGrid& g, const std::vector<ImageFootprint>& inputs) {
  for (const ImageFootprint& f : inputs)
    for (const SkyCoord& s : corners(f)) {
      const auto p = g.wcs.world_to_pixel(s);
      ASSERT_TRUE(p.has_value());
      EXPECT_GE(p->x, -0.5 - 1e-6);
      EXPECT_LE(p->x, g.width - 0.5 + 1e-6);
      EXPECT_GE(p->y, -0.5 - 1e-6);
      EXPECT_LE(p->y, g.height - 0.5 + 1e-6);
    }
}

// Smallest box area (pixels^2) over rotations in 0.01 degree steps, from the corners projected about `c`
// (independent of the implementation's hull and calipers).
double brute_force_min_area(SkyCoord c, const std::vector<ImageFootprint>& inputs, double arcsec) {
  std::vector<std::pair<double, double>> pts;
  for (const ImageFootprint& f : inputs)
    for (const SkyCoord& s : corners(f)) {
      const double da = (s.ra - c.ra) * kDeg, d0 = c.dec * kDeg, d = s.dec * kDeg;
      const double cosc = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(da);
      pts.emplace_back(std::cos(d) * std::sin(da) / cosc * kRad,
                       (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(da)) / cosc * kRad);
    }
  double best = INFINITY;
  for (int k = 0; k < 9000; ++k) {
    const double t = k * 0.01 * kDeg;
    double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
    for (auto [x, y] : pts) {
      const double u = std::cos(t) * x - std::sin(t) * y, v = std::sin(t) * x + std::cos(t) * y;
      umin = std::min(umin, u), umax = std::max(umax, u), vmin = std::min(vmin, v), vmax = std::max(vmax, v);
    }
    best = std::min(best, (umax - umin) * (vmax - vmin));
  }
  const double s = arcsec / 3600.0;
  return best / (s * s);
}

double det_cd(const Wcs& w) {
  const auto cd = w.cd();
  return cd[0] * cd[3] - cd[1] * cd[2];
}

TEST(OptimalGrid, SingleNorthUpImage) {
  std::vector<ImageFootprint> in{frame({150, 30}, 0.0, 2.0, 400, 300)};
  OutputGrid g = find_optimal_grid(in);
  EXPECT_NEAR(g.pixel_scale_arcsec, 2.0, 1e-9);
  EXPECT_NEAR(g.rotation_deg, 0.0, 0.1);
  EXPECT_EQ(g.width, 404);  // 400 + 2 * pad
  EXPECT_EQ(g.height, 304);
  EXPECT_NEAR(angular_distance_deg(g.centre, {150, 30}), 0.0, 1e-6);
  expect_contains(g, in);
}

TEST(OptimalGrid, SingleRotatedImageKeepsItsRotation) {
  for (double pa : {-37.0, -12.5, 8.0, 30.0, 44.0}) {
    std::vector<ImageFootprint> in{frame({80, -20}, pa, 3.0, 600, 250)};
    OutputGrid g = find_optimal_grid(in);
    EXPECT_NEAR(g.rotation_deg, pa, 0.1) << "pa " << pa;
    EXPECT_NEAR(position_angle_deg(g.wcs), pa, 0.1) << "pa " << pa;
    EXPECT_LT(det_cd(g.wcs), 0.0);
    // Aligned with the frame: the canvas is the frame plus the pad (within a pixel of rounding).
    EXPECT_LE(std::abs(g.width - 604), 1) << "pa " << pa;
    EXPECT_LE(std::abs(g.height - 254), 1) << "pa " << pa;
    expect_contains(g, in);
  }
}

TEST(OptimalGrid, RotatedTwoByTwoMosaicIsContainedAndNearMinimal) {
  const SkyCoord c{210.0, 45.0};
  const double pa = 25.0, arcsec = 2.5;
  const int w = 800, h = 500;
  std::vector<ImageFootprint> in;
  // Frames offset by ~90 % of their size along their own rotated axes, each with a slightly different PA.
  const double step_u = 0.9 * w * arcsec / 3600.0, step_v = 0.9 * h * arcsec / 3600.0;
  const double t = pa * kDeg;
  int k = 0;
  for (int iy : {-1, 1})
    for (int ix : {-1, 1}) {
      const double u = 0.5 * ix * step_u, v = 0.5 * iy * step_v;
      // u runs west (east left), v runs along the +Y axis at PA pa.
      const double xi = -std::cos(t) * u + std::sin(t) * v, eta = std::sin(t) * u + std::cos(t) * v;
      in.push_back(frame(deproject(c, xi, eta), pa + 0.3 * (k++ - 1.5), arcsec, w, h));
    }
  OutputGrid g = find_optimal_grid(in);
  expect_contains(g, in);
  EXPECT_NEAR(g.rotation_deg, pa, 1.0);
  const double min_area = brute_force_min_area(g.centre, in, arcsec);
  const double area = static_cast<double>(g.width) * g.height;
  EXPECT_LE(area, 1.03 * min_area) << g.width << "x" << g.height;
  OptimalGridOptions north;
  north.north_up = true;
  OutputGrid n = find_optimal_grid(in, north);
  expect_contains(n, in);
  EXPECT_GT(static_cast<double>(n.width) * n.height, 1.2 * area);  // rotation really saved area
}

TEST(OptimalGrid, RaWrapAtZero) {
  std::vector<ImageFootprint> in{frame({359.9, 10.0}, 0.0, 2.0, 300, 300), frame({0.1, 10.0}, 0.0, 2.0, 300, 300)};
  OutputGrid g = find_optimal_grid(in);
  EXPECT_LT(angular_distance_deg(g.centre, {0.0, 10.0}), 1e-3);
  expect_contains(g, in);
  // 0.2 deg apart in RA at dec 10: ~354 px between centres, plus one frame: a compact canvas, not a 360 deg one.
  EXPECT_LT(g.width, 700);
  EXPECT_LT(g.height, 700);
}

TEST(OptimalGrid, NearThePole) {
  std::vector<ImageFootprint> in;
  for (double ra : {0.0, 90.0, 180.0, 270.0}) in.push_back(frame({ra, 89.8}, 0.0, 3.0, 400, 300));
  OutputGrid g = find_optimal_grid(in);
  expect_contains(g, in);
  EXPECT_GT(g.centre.dec, 89.99);
  // Frames 0.4 deg apart across the pole at 3"/px: ~480 px between opposite centres, plus a frame.
  EXPECT_LT(g.width, 1100);
  EXPECT_LT(g.height, 1100);
  const double min_area = brute_force_min_area(g.centre, in, 3.0);
  EXPECT_LE(static_cast<double>(g.width) * g.height, 1.03 * min_area);
}

TEST(OptimalGrid, MedianAndExplicitScale) {
  std::vector<ImageFootprint> in{frame({20, 5}, 0, 1.0, 200, 200), frame({20.01, 5}, 0, 2.0, 200, 200),
                                 frame({20.02, 5}, 0, 10.0, 200, 200)};
  OutputGrid g = find_optimal_grid(in);
  EXPECT_NEAR(g.pixel_scale_arcsec, 2.0, 1e-6);
  EXPECT_NEAR(pixel_scale_arcsec(g.wcs), 2.0, 1e-3);
  expect_contains(g, in);
  OptimalGridOptions o;
  o.pixel_scale_arcsec = 4.0;
  OutputGrid e = find_optimal_grid(in, o);
  EXPECT_NEAR(e.pixel_scale_arcsec, 4.0, 1e-12);
  EXPECT_NEAR(pixel_scale_arcsec(e.wcs), 4.0, 1e-3);
  expect_contains(e, in);
  EXPECT_NEAR(e.width, 0.5 * g.width, 3.0);
}

TEST(OptimalGrid, NorthUpGivesZeroPositionAngle) {
  std::vector<ImageFootprint> in{frame({120, -60}, 33.0, 2.0, 500, 300)};
  OptimalGridOptions o;
  o.north_up = true;
  OutputGrid g = find_optimal_grid(in, o);
  EXPECT_EQ(g.rotation_deg, 0.0);
  EXPECT_NEAR(position_angle_deg(g.wcs), 0.0, 1e-6);
  expect_contains(g, in);
}

TEST(OptimalGrid, MirroredInputGivesStandardParity) {
  std::vector<ImageFootprint> in{frame({300, 40}, 15.0, 2.0, 400, 300, /*mirrored=*/true)};
  Wcs probe = in[0].wcs;
  ASSERT_TRUE(is_flipped(probe));
  OutputGrid g = find_optimal_grid(in);
  EXPECT_LT(det_cd(g.wcs), 0.0);
  EXPECT_FALSE(is_flipped(g.wcs));
  expect_contains(g, in);
}

TEST(OptimalGrid, RejectsBadInput) {
  EXPECT_THROW(find_optimal_grid({}), std::invalid_argument);
  std::vector<ImageFootprint> in{frame({10, 10}, 0, 2.0, 100, 100)};
  in[0].width = 0;
  EXPECT_THROW(find_optimal_grid(in), std::invalid_argument);
}

}  // namespace
}  // namespace zm
