// Stacking throughput: combine_band on a band of N aligned frames (one channel), per algorithm, single thread,
// so frame-pixels/s (items_per_second) is the per-core figure.
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "stack/combine_band.hpp"

namespace {

constexpr std::size_t kPixels = 1080 * 16;  // a 16-row band of a Seestar-width master tile

// Sky noise around a level, 1 % hot outliers and 2 % missing samples, as after registration.
struct Band {
  std::vector<std::vector<float>> frames;
  std::vector<const float*> ptrs;
  std::vector<float> weights;
};

const Band& band(int n) {
  static std::vector<std::unique_ptr<Band>> cache(1025);
  std::unique_ptr<Band>& b = cache.at(static_cast<std::size_t>(n));
  if (!b) {
    b = std::make_unique<Band>();
    std::mt19937 rng(static_cast<unsigned>(n));
    std::normal_distribution<float> noise(0.0f, 20.0f);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    b->frames.assign(static_cast<std::size_t>(n), std::vector<float>(kPixels));
    for (auto& f : b->frames) {
      for (float& v : f) {
        const float r = u(rng);
        v = r < 0.02f ? std::numeric_limits<float>::quiet_NaN() : 800.0f + noise(rng) + (r > 0.99f ? 3000.0f : 0.0f);
      }
      b->ptrs.push_back(f.data());
      b->weights.push_back(0.5f + u(rng));
    }
  }
  return *b;
}

void BM_CombineBand(benchmark::State& state, zm::RejectAlgo algo, zm::CombineMethod combine) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const int n = static_cast<int>(state.range(0));
  const Band& b = band(n);
  zm::RejectParams p;
  p.algo = algo;
  p.combine = combine;
  std::vector<float> out(kPixels), kept(kPixels);
  zm::RejectStats stats;
  for (auto _ : state) {
    zm::combine_band(b.ptrs.data(), b.weights.data(), n, kPixels, p, out.data(), kept.data(), stats);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kPixels) * n);
  state.counters["rejected_%"] = 100.0 * stats.rejected_fraction();
}

}  // namespace

using zm::CombineMethod;
using zm::RejectAlgo;
BENCHMARK_CAPTURE(BM_CombineBand, none_mean, RejectAlgo::None, CombineMethod::Mean)->Arg(20)->Arg(100);
BENCHMARK_CAPTURE(BM_CombineBand, none_median, RejectAlgo::None, CombineMethod::Median)->Arg(20)->Arg(100);
BENCHMARK_CAPTURE(BM_CombineBand, kappa_sigma, RejectAlgo::KappaSigma, CombineMethod::Mean)->Arg(20)->Arg(100);
BENCHMARK_CAPTURE(BM_CombineBand, winsorized, RejectAlgo::WinsorizedSigmaClip, CombineMethod::Mean)
    ->Arg(20)
    ->Arg(100);
BENCHMARK_CAPTURE(BM_CombineBand, linear_fit_clip, RejectAlgo::LinearFitClip, CombineMethod::Mean)
    ->Arg(20)
    ->Arg(100);
