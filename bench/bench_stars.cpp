// Star detection and matching on Seestar-sized frames (1080 x 1920 CFA): the per-frame costs of registration
// and relative plate solving. Everything here is single-threaded by design (callers parallelise over frames).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "image/debayer.hpp"
#include "stars/cfa_detect.hpp"
#include "stars/match.hpp"

namespace {

constexpr int kWidth = 1080;
constexpr int kHeight = 1920;

double gauss_pixel(int i, double c, double s) {
  const double k = 1.0 / (std::sqrt(2.0) * s);
  return 0.5 * (std::erf((i + 0.5 - c) * k) - std::erf((i - 0.5 - c) * k));
}

// A Seestar-like raw frame: GRBG sky levels with a gentle gradient, read + shot noise of ~80 ADU per pixel,
// 1500 stars (FWHM 3.5 px, fluxes log-uniform over 3 decades, a few saturating) and 300 hot pixels.
const std::vector<float>& frame() {
  static const std::vector<float> img = [] {
    std::vector<float> f(static_cast<std::size_t>(kWidth) * kHeight);
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 80.0f);
    const float level[3] = {800.0f, 950.0f, 700.0f};
    for (int y = 0; y < kHeight; ++y)
      for (int x = 0; x < kWidth; ++x)
        f[static_cast<std::size_t>(y) * kWidth + x] =
            level[zm::cfa_channel(zm::BayerPattern::GRBG, x, y)] + 0.02f * y + noise(rng);
    std::uniform_real_distribution<double> ux(5.0, kWidth - 6.0), uy(5.0, kHeight - 6.0);
    std::uniform_real_distribution<double> lf(std::log(2e3), std::log(2e6));
    const double sig = 3.5 / 2.3548;
    for (int i = 0; i < 1500; ++i) {
      const double sx = ux(rng), sy = uy(rng), flux = std::exp(lf(rng));
      const int cx = static_cast<int>(sx), cy = static_cast<int>(sy);
      for (int y = std::max(0, cy - 8); y <= std::min(kHeight - 1, cy + 8); ++y)
        for (int x = std::max(0, cx - 8); x <= std::min(kWidth - 1, cx + 8); ++x) {
          float& v = f[static_cast<std::size_t>(y) * kWidth + x];
          v = std::min(65535.0f, v + static_cast<float>(flux * gauss_pixel(x, sx, sig) * gauss_pixel(y, sy, sig)));
        }
    }
    std::uniform_int_distribution<int> px(0, kWidth - 1), py(0, kHeight - 1);
    for (int i = 0; i < 300; ++i) f[static_cast<std::size_t>(py(rng)) * kWidth + px(rng)] += 5000.0f;
    return f;
  }();
  return img;
}

zm::DetectParams seestar_params() {
  zm::DetectParams p;
  p.saturation = 65000.0f;
  return p;
}

// The free function: allocates its scratch images every call (what a one-off caller pays).
void BM_DetectBinned(benchmark::State& state) {
  const std::vector<float>& cfa = frame();
  std::size_t n = 0;
  for (auto _ : state) {
    auto stars = zm::detect_stars_cfa(cfa.data(), kWidth, kHeight, zm::BayerPattern::GRBG,
                                      zm::CfaDetectMode::Binned2x2, seestar_params());
    n = stars.size();
    benchmark::DoNotOptimize(stars.data());
  }
  state.counters["stars"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations());
}

// A worker's StarDetector reused frame after frame: the per-frame cost in the pipeline.
void BM_DetectBinnedReused(benchmark::State& state) {
  const std::vector<float>& cfa = frame();
  zm::DetectParams p = seestar_params();
  p.max_stars = static_cast<int>(state.range(0));
  zm::StarDetector det(p);
  std::size_t n = 0;
  for (auto _ : state) {
    auto stars = det.detect_cfa(cfa.data(), kWidth, kHeight, zm::BayerPattern::GRBG, zm::CfaDetectMode::Binned2x2);
    n = stars.size();
    benchmark::DoNotOptimize(stars.data());
  }
  state.counters["stars"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations());
}

void BM_DetectGreenPlaneReused(benchmark::State& state) {
  const std::vector<float>& cfa = frame();
  zm::DetectParams p = seestar_params();
  p.fwhm_guess = 3.5;
  p.smooth_fwhm = 3.5;
  zm::StarDetector det(p);
  std::size_t n = 0;
  for (auto _ : state) {
    auto stars = det.detect_cfa(cfa.data(), kWidth, kHeight, zm::BayerPattern::GRBG, zm::CfaDetectMode::GreenPlane);
    n = stars.size();
    benchmark::DoNotOptimize(stars.data());
  }
  state.counters["stars"] = static_cast<double>(n);
  state.SetItemsProcessed(state.iterations());
}

// Matching the frame's stars against a rotated, flipped, shifted copy of themselves with 30 % of the stars
// removed and 30 % spurious ones added.
void BM_MatchStars(benchmark::State& state) {
  const auto ref = zm::detect_stars_cfa(frame().data(), kWidth, kHeight, zm::BayerPattern::GRBG,
                                        zm::CfaDetectMode::Binned2x2, seestar_params());
  const zm::Affine2D to_target =
      zm::Affine2D::similarity(1.01, 123.0 * std::numbers::pi / 180.0, true, 2500.0, -700.0).inverse();
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, 0.1);
  std::vector<zm::Star> target;
  for (const zm::Star& s : ref) {
    if (u(rng) < 0.3) continue;
    zm::Star t = s;
    const zm::Point2 p = to_target.apply({s.x, s.y});
    t.x = p.x + n(rng);
    t.y = p.y + n(rng);
    target.push_back(t);
  }
  for (std::size_t i = 0, extra = ref.size() * 3 / 10; i < extra; ++i) {
    zm::Star t = ref[i % ref.size()];
    const zm::Point2 p = to_target.apply({u(rng) * kWidth, u(rng) * kHeight});
    t.x = p.x;
    t.y = p.y;
    target.push_back(t);
  }
  int inliers = 0;
  for (auto _ : state) {
    const zm::MatchResult m = zm::match_stars(ref, target);
    if (!m.ok) state.SkipWithError(m.reason.c_str());
    inliers = m.n_inliers;
    benchmark::DoNotOptimize(m.transform.a);
  }
  state.counters["ref_stars"] = static_cast<double>(ref.size());
  state.counters["inliers"] = inliers;
}

}  // namespace

BENCHMARK(BM_DetectBinned)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectBinnedReused)->Arg(0)->Arg(200)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DetectGreenPlaneReused)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchStars)->Unit(benchmark::kMillisecond);
