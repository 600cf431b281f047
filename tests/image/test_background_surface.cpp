// The final background extraction's surface model against analytic backgrounds: a plane and a 20 % quadratic bowl
// under stars and a large Gaussian nebula; the model must follow the background and leave the nebula alone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "image/background_surface.hpp"

namespace zm {
namespace {

constexpr int kW = 420, kH = 300;
constexpr double kSky = 300.0;
const double kColour[3] = {1.2, 1.0, 0.7};  // light pollution's colour relative to green

struct Scene {
  ImageF image;       // background + stars + nebula + noise
  ImageF background;  // the analytic background
  ImageF nebula;      // the nebula alone
};

// Background b(x, y) per channel, a few hundred stars (Gaussian, sigma 1.3 px) and a nebula of peak `neb_peak`
// and radius `neb_radius` px centred at (cx, cy), Gaussian noise of 2 ADU (a block-averaged mosaic's). The nebula's
// profile is exp(-(r/R)^4): bright over its disc, soft-edged, and gone by 1.6 R, like a cloud with an edge (a
// Gaussian's wings would cover the whole image, and there would be no sky left to tell them from a gradient).
Scene make_scene(const std::function<double(double, double)>& gradient, double neb_peak, double neb_radius,
                 double cx = 0.5 * kW, double cy = 0.5 * kH, unsigned seed = 5) {
  Scene s{ImageF(3, kW, kH), ImageF(3, kW, kH), ImageF(3, kW, kH)};
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 2.0);
  std::uniform_real_distribution<double> ux(0, kW), uy(0, kH), flux(0.0, 1.0);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        s.background.at(c, y, x) = static_cast<float>(kSky + kColour[c] * gradient(x, y));
        const double q = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (neb_radius * neb_radius);
        s.nebula.at(c, y, x) = static_cast<float>(neb_peak * (c == 1 ? 0.6 : 1.0) * std::exp(-q * q));
      }
  s.image = s.background;
  for (std::size_t i = 0; i < s.image.data.size(); ++i) s.image.data[i] += s.nebula.data[i] + static_cast<float>(noise(rng));
  for (int k = 0; k < 400; ++k) {
    const double sx = ux(rng), sy = uy(rng), f = 3000.0 * std::pow(flux(rng), 4.0);
    for (int y = std::max(0, static_cast<int>(sy) - 6); y < std::min(kH, static_cast<int>(sy) + 7); ++y)
      for (int x = std::max(0, static_cast<int>(sx) - 6); x < std::min(kW, static_cast<int>(sx) + 7); ++x) {
        const double r2 = (x - sx) * (x - sx) + (y - sy) * (y - sy);
        for (int c = 0; c < 3; ++c) s.image.at(c, y, x) += static_cast<float>(f / (2 * M_PI * 1.69) * std::exp(-0.5 * r2 / 1.69));
      }
  }
  return s;
}

struct Errors {
  double rms = 0, max = 0;  // model - background over the valid pixels, per channel worst
  double nebula_kept = 1;   // sum(image - model - true background residual) / sum(nebula), worst channel
};

Errors measure(const Scene& s, const BackgroundSurface& m) {
  Errors e;
  e.nebula_kept = 10;
  for (int c = 0; c < 3; ++c) {
    double s2 = 0, mx = 0, kept = 0, total = 0;
    long long n = 0;
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x) {
        if (!std::isfinite(s.image.at(c, y, x))) continue;
        const double d = m.at(c, x, y) - s.background.at(c, y, x);
        s2 += d * d, mx = std::max(mx, std::fabs(d)), ++n;
        // What the nebula keeps after subtracting the model instead of the true background.
        kept += s.nebula.at(c, y, x) - d;
        total += s.nebula.at(c, y, x);
      }
    e.rms = std::max(e.rms, std::sqrt(s2 / n));
    e.max = std::max(e.max, mx);
    if (total > 0) e.nebula_kept = std::min(e.nebula_kept, kept / total);
  }
  return e;
}

double plane(double x, double y) { return 0.10 * kSky * ((x - 0.5 * kW) / kW + 0.5 * (y - 0.5 * kH) / kH); }
double bowl(double x, double y) {  // 20 % of the sky from the centre to the corners
  const double u = (x - 0.5 * kW) / (0.5 * kW), v = (y - 0.5 * kH) / (0.5 * kH);
  return -0.20 * kSky * (u * u + v * v) / 2.0 + 0.05 * kSky * u;
}

SurfaceOptions normal_preset() {
  SurfaceOptions o;
  o.obj_k = 3.0, o.obj_dilate_px = 3, o.sample_step = 24, o.smoothing = 0.6;
  return o;
}

TEST(BackgroundSurface, PlaneUnderStarsAndANebula) {
  const Scene s = make_scene(plane, 80.0, 60.0);
  const BackgroundSurface m = fit_background_surface(s.image, normal_preset());
  const Errors e = measure(s, m);
  std::printf("plane: rms %.3f max %.3f ADU, nebula kept %.4f, masked %.3f, samples %d\n", e.rms, e.max,
              e.nebula_kept, m.masked_fraction, m.samples);
  EXPECT_LT(e.rms, 0.001 * kSky);  // 0.3 ADU on a 300 ADU sky with a 45 ADU gradient (measured 0.06)
  EXPECT_LT(e.max, 0.003 * kSky);
  EXPECT_NEAR(e.nebula_kept, 1.0, 0.02);
  ASSERT_EQ(m.amplitude.size(), 3u);
  EXPECT_NEAR(m.amplitude[1], 0.10 * kSky * 1.5, 3.0);  // the plane's full range over the image
  EXPECT_NEAR(m.amplitude[0] / m.amplitude[1], kColour[0], 0.05);
}

TEST(BackgroundSurface, QuadraticBowlUnderStarsAndANebula) {
  const Scene s = make_scene(bowl, 80.0, 60.0);
  for (double smoothing : {1.0, 0.6, 0.25}) {
    SurfaceOptions o = normal_preset();
    o.smoothing = smoothing;
    const BackgroundSurface m = fit_background_surface(s.image, o);
    const Errors e = measure(s, m);
    std::printf("bowl, smoothing %.2f: rms %.3f max %.3f ADU, nebula kept %.4f, masked %.3f\n", smoothing, e.rms,
                e.max, e.nebula_kept, m.masked_fraction);
    EXPECT_LT(e.rms, 0.002 * kSky) << smoothing;  // measured 0.13-0.15 ADU
    EXPECT_LT(e.max, 0.004 * kSky) << smoothing;
    EXPECT_NEAR(e.nebula_kept, 1.0, 0.02) << smoothing;
  }
}

TEST(BackgroundSurface, LargeNebulaOffCentreIsKeptOut) {
  // A nebula covering about a third of the image near one side, on a gradient.
  const Scene s = make_scene(plane, 60.0, 115.0, 0.35 * kW, 0.5 * kH, 8);
  const BackgroundSurface m = fit_background_surface(s.image, normal_preset());
  const Errors e = measure(s, m);
  std::printf("large nebula: rms %.3f max %.3f ADU, nebula kept %.4f, masked %.3f\n", e.rms, e.max, e.nebula_kept,
              m.masked_fraction);
  EXPECT_NEAR(e.nebula_kept, 1.0, 0.03);  // measured 0.985
  EXPECT_LT(e.rms, 0.002 * kSky);
  EXPECT_GT(m.masked_fraction, 0.5);  // the mask took the nebula, not just the stars
}

TEST(BackgroundSurface, TheSplineFollowsWhatAQuadraticCannot) {
  // A plane plus a wave of +-6 ADU over the image width (sky levels that differ from tile to tile, a gradient that
  // turned between nights): no quadratic fits it, the spline must.
  const auto wave = [](double x, double y) { return plane(x, y) + 6.0 * std::sin(2.0 * M_PI * x / kW); };
  const Scene s = make_scene(wave, 80.0, 60.0);
  SurfaceOptions o = normal_preset();
  const Errors e = measure(s, fit_background_surface(s.image, o));
  std::printf("wave: rms %.3f max %.3f ADU, nebula kept %.4f\n", e.rms, e.max, e.nebula_kept);
  EXPECT_LT(e.rms, 1.0);
  EXPECT_NEAR(e.nebula_kept, 1.0, 0.03);
  o.iterations = 0;  // the quadratic alone (one spline round is the minimum: this checks the test can fail)
  o.smoothing = 1e6;
  EXPECT_GT(measure(s, fit_background_surface(s.image, o)).rms, 2.0);
}

TEST(BackgroundSurface, EveryPresetMasksObjectsNotTheSky) {
  // ZeMosaic's presets (k, dilation, step, smoothing). Strong's 2.2 sigma passes 1.4 % of pure-noise pixels; grown
  // by 4 px each, they once masked 99 % of the image: noise must not read as objects.
  struct Preset { const char* name; double k; int dilate, step; double smoothing; };
  for (const Preset& p : {Preset{"weak", 4.0, 2, 32, 1.0}, Preset{"normal", 3.0, 3, 24, 0.6}, Preset{"strong", 2.2, 4, 16, 0.25}}) {
    SurfaceOptions o;
    o.obj_k = p.k, o.obj_dilate_px = p.dilate, o.sample_step = p.step, o.smoothing = p.smoothing;
    const Scene s = make_scene(bowl, 80.0, 60.0);
    const BackgroundSurface m = fit_background_surface(s.image, o);
    const Errors e = measure(s, m);
    std::printf("%s: rms %.3f max %.3f ADU, nebula kept %.4f, masked %.3f, samples %d\n", p.name, e.rms, e.max,
                e.nebula_kept, m.masked_fraction, m.samples);
    EXPECT_LT(m.masked_fraction, 0.6) << p.name;  // 400 stars and the nebula: 0.26-0.5
    // Noise alone: (nearly) nothing is an object.
    ImageF sky(3, kW, kH);
    std::mt19937 rng(11);
    std::normal_distribution<float> noise(300.0f, 2.0f);
    for (auto& v : sky.data) v = noise(rng);
    EXPECT_LT(fit_background_surface(sky, o).masked_fraction, 0.1) << p.name;  // measured 0-8 %
    EXPECT_LT(e.rms, 0.002 * kSky) << p.name;
    EXPECT_NEAR(e.nebula_kept, 1.0, 0.02) << p.name;
  }
}

TEST(BackgroundSurface, NoDataAroundTheMosaicAndFlatSky) {
  // A rotated mosaic's canvas: no data in the corners; a flat sky gives a flat model.
  Scene s = make_scene([](double, double) { return 0.0; }, 0.0, 10.0);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kH; ++y)
      for (int x = 0; x < kW; ++x)
        if (x + y < 120 || (kW - x) + (kH - y) < 150) s.image.at(c, y, x) = NAN;
  const BackgroundSurface m = fit_background_surface(s.image, normal_preset());
  const Errors e = measure(s, m);
  EXPECT_LT(e.max, 1.5);  // ADU: the sample noise, no structure
  for (double a : m.amplitude) EXPECT_LT(a, 3.0);
  for (double md : m.median) EXPECT_NEAR(md, kSky, 1.0);
  // The model is defined everywhere, also where the image has no data.
  EXPECT_TRUE(std::isfinite(m.at(1, 0, 0)));
  EXPECT_NEAR(m.at(1, 0, 0), kSky, 3.0);
}

TEST(BackgroundSurface, FewSamplesFallBackToAPlane) {
  const Scene s = make_scene(plane, 0.0, 10.0);
  SurfaceOptions o = normal_preset();
  o.sample_step = 120;  // 4 x 3 windows: fewer than the spline needs
  const BackgroundSurface m = fit_background_surface(s.image, o);
  EXPECT_LT(m.samples, 13);
  EXPECT_LT(measure(s, m).max, 2.0);
}

}  // namespace
}  // namespace zm
