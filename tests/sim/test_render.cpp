// Frame rendering: stars land where the catalogue says, flux is conserved, the CFA layout is GRBG, the noise
// model has the stated statistics, and results do not depend on the thread count.
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <numeric>

#include "sim/dataset.hpp"
#include "sim_test_util.hpp"

namespace zm::sim {
namespace {

using testutil::centroid;
using testutil::isolated_stars;

// RMS distance between centroids measured on `plane` and the positions predicted through `wcs`.
double centroid_rms(const std::vector<Star>& stars, Wcs& wcs, const float* plane, int* count) {
  const int w = wcs.width(), h = wcs.height();
  const auto targets = isolated_stars(stars, wcs, 2e3, 1e7);
  double s2 = 0.0;
  int n = 0;
  for (const auto& t : targets) {
    const auto c = centroid([&](int x, int y) { return std::optional<double>(plane[static_cast<std::size_t>(y) * w + x]); },
                            w, h, std::round(t.x), std::round(t.y));
    if (!c) continue;
    s2 += std::pow((*c)[0] - t.x, 2) + std::pow((*c)[1] - t.y, 2);
    ++n;
  }
  *count = n;
  return n > 0 ? std::sqrt(s2 / n) : 1e9;
}

TEST(SimRender, NoiseFreeStarsLandWhereTheCatalogueSays) {
  SimConfig c = testutil::small_config();
  c.sky.nebula = false;
  const DatasetPlan plan = plan_dataset(c);
  // An arbitrary WCS, unrelated to the dataset's frames: rotated 23 deg, other size, centred on a frame.
  TanGrid g{plan.frames[1].geometry.crval, {150.0, 100.0}, cd_for_position_angle(2.39, 23.0), 300, 200};
  Wcs wcs = g.to_wcs();
  const ImageF img = render_sky_rgb(plan.sky, wcs);
  ASSERT_EQ(img.channels, 3);
  ASSERT_EQ(img.width, 300);
  int n = 0;
  const double rms = centroid_rms(plan.sky.stars, wcs, img.plane(1), &n);
  EXPECT_GE(n, 5);
  EXPECT_LT(rms, 0.1);
  EXPECT_LT(rms, 0.02);  // noise-free: only window truncation remains
}

TEST(SimRender, TruthPlacesStarsAtTheirCatalogueTruthPixels) {
  SimConfig c = testutil::small_config();
  c.sky.nebula = false;
  c.layout.grid_cols = 1;
  c.layout.nights = 1;
  const DatasetPlan plan = plan_dataset(c);
  Wcs truth_wcs = plan.sky.truth.to_wcs();
  for (const Star& s : plan.sky.stars) {
    const auto p = truth_wcs.world_to_pixel(s.pos);
    ASSERT_TRUE(p);
    EXPECT_NEAR(p->x, s.x_truth, 1e-6);
    EXPECT_NEAR(p->y, s.y_truth, 1e-6);
  }
  const ImageF truth = render_truth(plan);
  EXPECT_EQ(truth.width, plan.sky.truth.width);
  int n = 0;
  EXPECT_LT(centroid_rms(plan.sky.stars, truth_wcs, truth.plane(1), &n), 0.02);
  EXPECT_GE(n, 5);
}

TEST(SimRender, StarFluxIsConserved) {
  SimConfig c = testutil::small_config();
  c.sky.nebula = false;
  const DatasetPlan plan = plan_dataset(c);
  // Each star alone on the sky, at its own sub-pixel phase, on a rotated grid.
  int checked = 0;
  for (std::size_t k = 0; k < plan.sky.stars.size(); k += plan.sky.stars.size() / 7) {
    SkyModel one = plan.sky;
    one.stars = {plan.sky.stars[k]};
    TanGrid g{one.stars[0].pos, {40.3, 39.8}, cd_for_position_angle(2.39, 17.0 * k), 81, 81};
    const ImageF img = render_sky_rgb(one, g.to_wcs());
    for (int ch = 0; ch < 3; ++ch) {
      const double sum = std::accumulate(img.plane(ch), img.plane(ch) + img.plane_size(), 0.0);
      EXPECT_NEAR(sum / one.stars[0].flux[ch], 1.0, 0.02) << "star " << k << " channel " << ch;
      // Tighter than the requirement: only the wing beyond the stamp (< 0.1 %) and the square's corners are lost.
      EXPECT_NEAR(sum / one.stars[0].flux[ch], 1.0, 2e-3) << "star " << k << " channel " << ch;
    }
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

TEST(SimRender, NebulaInFramesMatchesTheTruthSurface) {
  SimConfig c = testutil::small_config();
  c.sky.star_density_per_deg2 = 0.0;
  c.sky.nebula_peak_adu = 400.0;
  const DatasetPlan plan = plan_dataset(c);
  const ImageF truth = render_truth(plan);
  const auto& f = plan.frames[3];
  Wcs wcs = f.geometry.to_wcs();
  const ImageF img = render_sky_rgb(plan.sky, wcs);
  double max_val = 0.0, max_err = 0.0;
  for (int y = 3; y < img.height; y += 17) {
    for (int x = 5; x < img.width; x += 23) {
      const auto p = plan.sky.truth.to_pixel(wcs.pixel_to_world({static_cast<double>(x), static_cast<double>(y)}));
      ASSERT_TRUE(p);
      // Bilinear read of the truth image at the mapped position (the surface is smooth on 4 px scales).
      const int ix = static_cast<int>(std::floor(p->x)), iy = static_cast<int>(std::floor(p->y));
      const double tx = p->x - ix, ty = p->y - iy;
      for (int ch = 0; ch < 3; ++ch) {
        const double v = (1 - ty) * ((1 - tx) * truth.at(ch, iy, ix) + tx * truth.at(ch, iy, ix + 1)) +
                         ty * ((1 - tx) * truth.at(ch, iy + 1, ix) + tx * truth.at(ch, iy + 1, ix + 1));
        max_val = std::max(max_val, v);
        max_err = std::max(max_err, std::fabs(v - img.at(ch, y, x)));
      }
    }
  }
  EXPECT_GT(max_val, 20.0);  // there is nebulosity to compare
  EXPECT_LT(max_err, 0.01 * max_val);
}

TEST(SimRender, ExpectedCfaIsTheRgbSkyOnGrbgSitesPlusBackground) {
  SimConfig c = testutil::small_config();
  c.observing.vignetting = 0.05;
  c.defects.trail_fraction = 0.0;
  const DatasetPlan plan = plan_dataset(c);
  const FramePlan& f = plan.frames[2];
  const auto expected = render_expected_cfa(plan.inputs(2));
  const ImageF rgb = render_sky_rgb(plan.sky, f.geometry.to_wcs(), f.fwhm_px);
  const int w = f.geometry.width, h = f.geometry.height;
  const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
  const int grbg[2][2] = {{1, 0}, {2, 1}};  // [y&1][x&1]: row 0 = G R, row 1 = B G
  std::size_t checked = 0;
  for (int y = 0; y < h; y += 7) {
    for (int x = 0; x < w; x += 5) {
      bool hot = false;
      for (const auto& p : plan.hot_pixels) hot |= p.x == x && p.y == y;
      if (hot) continue;
      const int ch = grbg[y & 1][x & 1];
      const double level = f.sky_level_adu + f.gradient_x * (x - cx) + f.gradient_y * (y - cy);
      const double v = 1.0 - 0.05 * ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (cx * cx + cy * cy);
      const double want = v * f.transparency * (rgb.at(ch, y, x) + f.sky_colour[ch] * level);
      EXPECT_NEAR(expected[static_cast<std::size_t>(y) * w + x], want, 1e-3 * want + 1e-3) << x << "," << y;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000u);
}

TEST(SimRender, NoiseHasPoissonPlusReadNoiseStatistics) {
  SimConfig c = testutil::small_config();
  c.sky.star_density_per_deg2 = 0.0;
  c.sky.nebula = false;
  const DatasetPlan plan = plan_dataset(c);
  const auto expected = render_expected_cfa(plan.inputs(0));
  const auto raw = render_raw_frame(plan.inputs(0));
  const double gain = c.observing.gain_e_per_adu, rn = c.observing.read_noise_e;
  double sz = 0, sz2 = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (expected[i] > 2000) continue;  // hot pixels
    const double var = (expected[i] * gain + rn * rn) / (gain * gain);  // ADU^2
    const double z = (raw[i] - expected[i]) / std::sqrt(var + 1.0 / 12.0);
    sz += z;
    sz2 += z * z;
    ++n;
  }
  EXPECT_NEAR(sz / n, 0.0, 0.02);
  EXPECT_NEAR(sz2 / n, 1.0, 0.03);
}

TEST(SimRender, RawFrameIsIndependentOfThreadCount) {
  SimConfig c = testutil::small_config();
  const DatasetPlan plan = plan_dataset(c);
  const auto parallel = render_raw_frame(plan.inputs(1));
  std::vector<std::uint16_t> serial;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    serial = render_raw_frame(plan.inputs(1));
  }
  EXPECT_EQ(parallel, serial);
  EXPECT_NE(parallel, render_raw_frame(plan.inputs(0)));
}

TEST(SimRender, NoNoiseFrameIsTheRoundedExpectationWithSaturation) {
  SimConfig c = testutil::small_config();
  c.observing.noise = false;
  c.observing.hot_pixel_min_adu = 66000.0;  // stuck pixels: every hot pixel saturates
  c.observing.hot_pixel_max_adu = 70000.0;
  const DatasetPlan plan = plan_dataset(c);
  const auto expected = render_expected_cfa(plan.inputs(0));
  const auto raw = render_raw_frame(plan.inputs(0));
  std::size_t saturated = 0;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const double e = expected[i];
    if (e >= 65535.0) {
      EXPECT_EQ(raw[i], 65535);
      ++saturated;
    } else {
      EXPECT_EQ(raw[i], static_cast<std::uint16_t>(std::lround(e)));
    }
  }
  EXPECT_GT(saturated, 0u);
}

TEST(SimRender, TrailIsDrawnAlongItsManifestLine) {
  SimConfig c = testutil::small_config();
  c.defects.trail_fraction = 1.0;
  c.observing.noise = false;
  c.sky.star_density_per_deg2 = 0.0;
  c.sky.nebula = false;
  c.observing.hot_pixel_fraction = 0.0;
  c.observing.vignetting = 0.0;
  c.observing.gradient_fraction = 0.0;
  const DatasetPlan plan = plan_dataset(c);
  for (int i = 0; i < 3; ++i) {
    const FramePlan& f = plan.frames[i];
    ASSERT_EQ(f.trails.size(), 1u);
    const Trail& t = f.trails[0];
    const auto e = render_expected_cfa(plan.inputs(i));
    const int w = f.geometry.width;
    double on_line = 0.0;
    int samples = 0;
    for (int k = 1; k < 20; ++k) {
      const double x = t.x0 + (t.x1 - t.x0) * k / 20.0, y = t.y0 + (t.y1 - t.y0) * k / 20.0;
      const int ix = static_cast<int>(std::lround(x)), iy = static_cast<int>(std::lround(y));
      const int ch_site = (iy & 1) * 2 + (ix & 1);
      const double bg = f.transparency * f.sky_colour[grbg_site_channels()[ch_site]] * f.sky_level_adu;
      on_line = std::max(on_line, e[static_cast<std::size_t>(iy) * w + ix] - bg);
      ++samples;
    }
    EXPECT_GT(on_line, 0.5 * t.peak_adu * f.transparency);
    // Far from the line: background only.
    const double nx = -(t.y1 - t.y0), ny = t.x1 - t.x0, nl = std::hypot(nx, ny);
    const double mx = 0.5 * (t.x0 + t.x1) + 12 * nx / nl, my = 0.5 * (t.y0 + t.y1) + 12 * ny / nl;
    const int ix = static_cast<int>(std::lround(mx)), iy = static_cast<int>(std::lround(my));
    if (ix >= 0 && iy >= 0 && ix < w && iy < f.geometry.height) {
      const double bg = f.transparency * f.sky_colour[grbg_site_channels()[(iy & 1) * 2 + (ix & 1)]] * f.sky_level_adu;
      EXPECT_NEAR(e[static_cast<std::size_t>(iy) * w + ix], bg, 1e-3 * bg);
    }
  }
}

}  // namespace
}  // namespace zm::sim
