// Simulator geometry: TAN math against wcslib, position angles, layout, truth grid, timestamps.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "sim/dataset.hpp"
#include "sim/sim_time.hpp"
#include "sim/tan_plane.hpp"
#include "sim_test_util.hpp"
#include "wcs/geometry.hpp"

namespace zm::sim {
namespace {

TEST(SimTangentPlane, ProjectDeprojectRoundTrip) {
  const TangentPlane tp({150.0, 30.0});
  for (double xi : {-1.5, -0.2, 0.0, 0.7}) {
    for (double eta : {-1.1, 0.0, 0.3, 2.0}) {
      const SkyCoord s = tp.deproject(xi, eta);
      const auto st = tp.project(s);
      ASSERT_TRUE(st);
      EXPECT_NEAR((*st)[0], xi, 1e-12);
      EXPECT_NEAR((*st)[1], eta, 1e-12);
    }
  }
  // Small offsets: +xi is East (RA grows), +eta is North.
  const SkyCoord e = tp.deproject(0.01, 0.0);
  EXPECT_GT(e.ra, 150.0);
  EXPECT_NEAR(e.dec, 30.0, 1e-5);
  const SkyCoord n = tp.deproject(0.0, 0.01);
  EXPECT_NEAR(n.ra, 150.0, 1e-12);
  EXPECT_NEAR(n.dec, 30.01, 1e-9);
}

TEST(SimTanGrid, AgreesWithWcslibToMicroPixels) {
  TanGrid g;
  g.crval = {210.3, 54.2};
  g.crpix = {539.5, 959.5};
  g.cd = cd_for_position_angle(2.39, 37.0);
  g.width = 1080;
  g.height = 1920;
  Wcs wcs = g.to_wcs();
  for (double x : {-300.0, 0.0, 539.5, 1079.0, 1400.0}) {
    for (double y : {-200.0, 0.0, 959.5, 1919.0, 2300.0}) {
      const SkyCoord mine = g.to_sky({x, y});
      const SkyCoord lib = wcs.pixel_to_world({x, y});
      EXPECT_NEAR(std::cos(mine.dec * std::numbers::pi / 180) * std::remainder(mine.ra - lib.ra, 360.0) * 3600, 0.0, 1e-6);
      EXPECT_NEAR((mine.dec - lib.dec) * 3600, 0.0, 1e-6);
      const auto p = wcs.world_to_pixel(mine);
      ASSERT_TRUE(p);
      EXPECT_NEAR(p->x, x, 1e-6);
      EXPECT_NEAR(p->y, y, 1e-6);
    }
  }
}

TEST(SimTanGrid, PositionAngleAndScaleAsRequested) {
  for (double pa : {0.0, 30.0, 90.0, -178.7, 179.0}) {
    TanGrid g{{150.0, 30.0}, {99.5, 149.5}, cd_for_position_angle(2.39, pa), 200, 300};
    Wcs wcs = g.to_wcs();
    EXPECT_NEAR(std::remainder(position_angle_deg(wcs) - pa, 360.0), 0.0, 1e-3) << pa;
    EXPECT_NEAR(pixel_scale_arcsec(wcs), 2.39, 1e-4);
    EXPECT_FALSE(is_flipped(wcs));
  }
  // PA 0: north up (+Y), east left (-X).
  TanGrid g{{150.0, 30.0}, {99.5, 149.5}, cd_for_position_angle(2.39, 0.0), 200, 300};
  const SkyCoord up = g.to_sky({99.5, 249.5});
  const SkyCoord left = g.to_sky({0.0, 149.5});
  EXPECT_GT(up.dec, 30.0);
  EXPECT_GT(left.ra, 150.0);
}

TEST(SimTime, ParseAndFormat) {
  const MicrosUtc t = parse_utc("2025-03-27T01:20:00");
  EXPECT_EQ(format_date_obs(t), "2025-03-27T01:20:00.000000");
  EXPECT_EQ(format_date_obs(t + 32955368), "2025-03-27T01:20:32.955368");
  EXPECT_EQ(format_file_stamp(t + 86400LL * 1000000 * 5 + 23 * 3600LL * 1000000), "20250402-002000");
  EXPECT_EQ(format_date_obs(parse_utc("2024-02-29T23:59:59")), "2024-02-29T23:59:59.000000");
  EXPECT_EQ(format_date_obs(parse_utc("1970-01-01T00:00:00")), "1970-01-01T00:00:00.000000");
  EXPECT_THROW(parse_utc("2025-13-01T00:00:00"), InputError);
  EXPECT_THROW(parse_utc("yesterday"), InputError);
  EXPECT_EQ(light_file_name("M 94", 10.0, t + 46000000), "Light_M 94_10.0s_IRCUT_20250327-012046.fit");
}

TEST(SimLayout, PointingsOverlapAsConfigured) {
  SimConfig c = testutil::small_config();
  c.layout.grid_cols = 3;
  c.layout.grid_rows = 2;
  c.layout.nights = 1;
  c.layout.dither_sigma_px = 0.0;
  c.layout.roll_deg = 0.0;
  const auto frames = plan_frames(c);
  ASSERT_EQ(frames.size(), 12u);
  // Neighbour along X: its centre sits (1 - overlap) * width px away in the first frame's pixel grid.
  const auto& a = frames[0];  // pointing (0, 0)
  const auto& b = frames[2];  // pointing (1, 0)
  const auto& d = frames[6];  // pointing (0, 1)
  ASSERT_EQ(b.pointing_col, 1);
  ASSERT_EQ(d.pointing_row, 1);
  const auto pb = a.geometry.to_pixel(b.geometry.crval);
  const auto pd = a.geometry.to_pixel(d.geometry.crval);
  EXPECT_NEAR(pb->x - a.geometry.crpix.x, 0.8 * c.layout.width, 1.0);
  EXPECT_NEAR(pb->y - a.geometry.crpix.y, 0.0, 1.0);  // meridian convergence between tangent planes
  EXPECT_NEAR(pd->y - a.geometry.crpix.y, 0.8 * c.layout.height, 1.0);
  EXPECT_NEAR(pd->x - a.geometry.crpix.x, 0.0, 1.0);
}

TEST(SimLayout, FrameSequenceTimesAndConditions) {
  SimConfig c = testutil::small_config();
  c.layout.altaz = true;
  c.layout.frames_per_pointing = 3;
  const auto frames = plan_frames(c);
  ASSERT_EQ(frames.size(), 12u);
  for (std::size_t i = 1; i < frames.size(); ++i) {
    EXPECT_GT(frames[i].time, frames[i - 1].time);
    EXPECT_NE(frames[i].file_name, frames[i - 1].file_name);
  }
  EXPECT_EQ(frames[0].date_obs.substr(0, 10), "2025-03-27");
  EXPECT_EQ(frames[6].date_obs.substr(0, 10), "2025-03-28");
  EXPECT_EQ(frames[0].sky_level_adu, 900.0);
  EXPECT_EQ(frames[6].sky_level_adu, 650.0);
  // Alt-az field rotation runs from -8 to +8 deg over each night.
  EXPECT_DOUBLE_EQ(frames[0].field_rotation_deg, -8.0);
  EXPECT_DOUBLE_EQ(frames[5].field_rotation_deg, 8.0);
  for (const auto& f : frames) {
    EXPECT_GE(f.transparency, 0.85);
    EXPECT_LE(f.transparency, 1.0);
    EXPECT_LE(std::fabs(f.roll_deg), 0.3);
    EXPECT_NEAR(f.position_angle_deg, f.roll_deg + f.field_rotation_deg, 1e-12);
    // The header hint is the target: hint_offset_deg away from the pointing centre.
    const double sep = std::acos(std::clamp(dot(unit_vector(f.hint), unit_vector(f.pointing_centre)), -1.0, 1.0));
    EXPECT_NEAR(sep * 180.0 / std::numbers::pi, 0.25, 1e-5);
  }
}

TEST(SimLayout, TruthGridCoversEveryFrameWithMargin) {
  SimConfig c = testutil::small_config();
  c.layout.altaz = true;
  c.layout.position_angle_deg = 33.0;
  const auto frames = plan_frames(c);
  const TanGrid t = plan_truth_grid(c, frames);
  EXPECT_NEAR(t.cd[0], -2.39 / 3600, 1e-15);
  EXPECT_EQ(t.cd[1], 0.0);
  double min_edge = 1e9;
  for (const auto& f : frames) {
    for (const PixelCoord p : {PixelCoord{-0.5, -0.5}, PixelCoord{c.layout.width - 0.5, -0.5},
                               PixelCoord{-0.5, c.layout.height - 0.5},
                               PixelCoord{c.layout.width - 0.5, c.layout.height - 0.5}}) {
      const auto q = t.to_pixel(f.geometry.to_sky(p));
      ASSERT_TRUE(q);
      min_edge = std::min({min_edge, q->x + 0.5, q->y + 0.5, t.width - 0.5 - q->x, t.height - 0.5 - q->y});
    }
  }
  EXPECT_GE(min_edge, kTruthMargin - 1e-6);
  EXPECT_LE(min_edge, kTruthMargin + 1.0);
}

TEST(SimLayout, HotPixelsAreFixedUniqueAndSorted) {
  SimConfig c = testutil::small_config();
  c.observing.hot_pixel_fraction = 1e-3;
  const auto a = plan_hot_pixels(c);
  c.seed = 99;  // the sensor is the seed's: another seed, another sensor
  const auto b = plan_hot_pixels(c);
  ASSERT_EQ(a.size(), static_cast<std::size_t>(std::llround(1e-3 * 384 * 256)));
  for (std::size_t i = 1; i < a.size(); ++i)
    EXPECT_TRUE(a[i - 1].y < a[i].y || (a[i - 1].y == a[i].y && a[i - 1].x < a[i].x));
  int same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i].x == b[i].x && a[i].y == b[i].y;
  EXPECT_LT(same, 3);
}

TEST(SimConfig, RejectsNonsense) {
  SimConfig c;
  c.layout.grid_cols = 0;
  EXPECT_THROW(validate(c), InputError);
  c = SimConfig{};
  c.sky.mag_limit = 5.0;
  EXPECT_THROW(validate(c), InputError);
  c = SimConfig{};
  c.defects.drop_wcs = 1000;
  EXPECT_THROW(validate(c), InputError);
  EXPECT_NO_THROW(validate(SimConfig{}));
}

}  // namespace
}  // namespace zm::sim
