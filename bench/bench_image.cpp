// Colour processing on one Seestar-sized CFA frame (1080 x 1920): demosaicing and CFA hot-pixel correction.
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "image/debayer.hpp"
#include "image/hotpixel.hpp"

namespace {

constexpr int kWidth = 1080;
constexpr int kHeight = 1920;

// Sky-like CFA frame: GRBG background levels, Gaussian noise, a sprinkling of stars and hot pixels.
const zm::ImageF& frame() {
  static const zm::ImageF img = [] {
    zm::ImageF f(1, kWidth, kHeight);
    std::mt19937 rng(1);
    std::normal_distribution<float> noise(0.0f, 30.0f);
    const float level[3] = {700.0f, 900.0f, 600.0f};
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x)
        f.at(0, y, x) = level[zm::cfa_channel(zm::BayerPattern::GRBG, x, y)] + noise(rng);
    }
    std::uniform_int_distribution<int> px(4, kWidth - 5), py(4, kHeight - 5);
    for (int i = 0; i < 2000; ++i) {  // stars: 3x3 cores
      const int x = px(rng), y = py(rng);
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) f.at(0, y + dy, x + dx) += (dx == 0 && dy == 0) ? 3000.0f : 1500.0f;
      }
    }
    for (int i = 0; i < 200; ++i) f.at(0, py(rng), px(rng)) += 5000.0f;  // hot pixels
    return f;
  }();
  return img;
}

// state.range(0): worker threads (0 = TBB default).
std::unique_ptr<tbb::global_control> limit_threads(const benchmark::State& state) {
  if (state.range(0) <= 0) return nullptr;
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                               static_cast<std::size_t>(state.range(0)));
}

void BM_Debayer(benchmark::State& state, zm::DebayerMethod method) {
  const auto threads = limit_threads(state);
  const zm::ImageF& cfa = frame();
  for (auto _ : state) {
    zm::ImageF rgb = zm::debayer(cfa, zm::BayerPattern::GRBG, method);
    benchmark::DoNotOptimize(rgb.data.data());
  }
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

// The streaming form: 64-row bands into a reused buffer, one thread, no allocation per frame.
void BM_DebayerRows(benchmark::State& state, zm::DebayerMethod method) {
  const zm::ImageF& cfa = frame();
  constexpr int kBand = 64;
  std::vector<float> out(static_cast<std::size_t>(3) * kBand * kWidth);
  for (auto _ : state) {
    for (int r0 = 0; r0 < kHeight; r0 += kBand) {
      const int rows = std::min(kBand, kHeight - r0);
      const int in0 = std::max(0, r0 - zm::kDebayerHalo);
      const int in1 = std::min(kHeight, r0 + rows + zm::kDebayerHalo);
      zm::debayer_rows(zm::BayerPattern::GRBG, method, cfa.data.data() + static_cast<std::size_t>(in0) * kWidth, kWidth,
                       kHeight, in0, in1 - in0, r0, rows, out.data());
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

void BM_HotPixelsCfa(benchmark::State& state) {
  const auto threads = limit_threads(state);
  zm::ImageF work = frame();
  for (auto _ : state) {
    state.PauseTiming();
    work.data = frame().data;
    state.ResumeTiming();
    benchmark::DoNotOptimize(zm::correct_hot_pixels_cfa(work, zm::BayerPattern::GRBG));
  }
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

void BM_HotPixelsCfaRows(benchmark::State& state) {
  const zm::ImageF& cfa = frame();
  constexpr int kBand = 64;
  std::vector<float> out(static_cast<std::size_t>(kBand) * kWidth);
  for (auto _ : state) {
    for (int r0 = 0; r0 < kHeight; r0 += kBand) {
      const int rows = std::min(kBand, kHeight - r0);
      const int in0 = std::max(0, r0 - zm::kHotPixelHalo);
      const int in1 = std::min(kHeight, r0 + rows + zm::kHotPixelHalo);
      benchmark::DoNotOptimize(zm::correct_hot_pixels_cfa_rows(zm::BayerPattern::GRBG, {},
                                                               cfa.data.data() + static_cast<std::size_t>(in0) * kWidth,
                                                               kWidth, kHeight, in0, in1 - in0, r0, rows, out.data()));
    }
  }
  state.SetItemsProcessed(state.iterations() * kWidth * kHeight);
}

}  // namespace

BENCHMARK_CAPTURE(BM_Debayer, bilinear, zm::DebayerMethod::Bilinear)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Debayer, edge_aware, zm::DebayerMethod::EdgeAware)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DebayerRows, bilinear, zm::DebayerMethod::Bilinear)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DebayerRows, edge_aware, zm::DebayerMethod::EdgeAware)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HotPixelsCfa)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HotPixelsCfaRows)->Unit(benchmark::kMillisecond);
