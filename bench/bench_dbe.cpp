// The final background extraction's cost on the 1000-frame canvas (3890 x 8218 x 3 float32, 384 MB): fitting the
// model (one streamed pass over the Phase 5 planes into the <= 1024 px grid, then the surface fit) and subtracting
// it from every band Phase 6 writes (the reads themselves are Phase 6's, not the extraction's).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "pipeline/model/frame_cache.hpp"
#include "pipeline/output/final_dbe.hpp"

namespace {
namespace fs = std::filesystem;

constexpr int kWidth = 3890, kHeight = 8218, kChannels = 3;
constexpr int kBandRows = 256;

// A Phase 5 mosaic on disk: sky 300 ADU with a 15 % coloured gradient, noise, stars, a large nebula, and no data in
// two corners (a rotated mosaic's canvas).
const zm::MosaicArtifacts& mosaic() {
  static const zm::MosaicArtifacts m = [] {
    zm::MosaicArtifacts a;
    const fs::path dir = fs::temp_directory_path() / "zm_bench_dbe";
    fs::create_directories(dir);
    a.image = dir / "mosaic.f32";
    a.width = kWidth, a.height = kHeight, a.channels = kChannels;
    if (fs::exists(a.image) && fs::file_size(a.image) == std::uintmax_t{4} * kWidth * kHeight * kChannels) return a;
    std::ofstream out(a.image, std::ios::binary);
    std::mt19937 rng(7);
    std::normal_distribution<float> noise(0.0f, 6.0f);
    std::vector<float> row(kWidth);
    const double colour[3] = {1.3, 1.0, 0.6};
    for (int c = 0; c < kChannels; ++c)
      for (int y = 0; y < kHeight; ++y) {
        for (int x = 0; x < kWidth; ++x) {
          if (x + y / 2 < 600 || (kWidth - x) + (kHeight - y) / 2 < 600) {
            row[x] = NAN;
            continue;
          }
          const double u = static_cast<double>(x) / kWidth, v = static_cast<double>(y) / kHeight;
          const double dx = x - 0.4 * kWidth, dy = y - 0.5 * kHeight;
          const double nebula = 80.0 * std::exp(-0.5 * (dx * dx + dy * dy) / (900.0 * 900.0));
          row[x] = static_cast<float>(300.0 + colour[c] * 45.0 * (0.7 * u + 0.3 * v) + nebula) + noise(rng);
        }
        for (int s = 0; s < 8; ++s) row[static_cast<std::size_t>(rng() % kWidth)] += 2000.0f;  // stars
        out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(row.size() * sizeof(float)));
      }
    return a;
  }();
  return m;
}

zm::DbeOptions normal() { return {}; }

void BM_DbeFit(benchmark::State& state) {
  const zm::MosaicArtifacts& m = mosaic();
  for (auto _ : state) {
    const zm::FinalDbe d = zm::fit_final_dbe(m, normal(), kBandRows);
    benchmark::DoNotOptimize(d.surface.nodes.data.data());
    state.counters["samples"] = d.surface.samples;
    state.counters["grid_factor"] = d.factor;
    state.counters["masked"] = d.surface.masked_fraction;
    state.counters["applied"] = d.applied;
  }
}
BENCHMARK(BM_DbeFit)->Unit(benchmark::kMillisecond)->Iterations(3);

// The subtraction over the whole canvas, band by band, from bands already in memory.
void BM_DbeApply(benchmark::State& state) {
  const zm::MosaicArtifacts& m = mosaic();
  const zm::FinalDbe d = zm::fit_final_dbe(m, normal(), kBandRows);
  zm::CachedFrameReader reader(m.image, m.width, m.height, m.channels);
  std::vector<float> band(static_cast<std::size_t>(kChannels) * kBandRows * kWidth);
  reader.read_rows(kHeight / 2, kBandRows, band);
  for (auto _ : state) {
    for (int y0 = 0; y0 < kHeight; y0 += kBandRows) {
      const int n = std::min(kBandRows, kHeight - y0);
      d.apply(band.data(), y0, n, kWidth, kChannels);
    }
    benchmark::DoNotOptimize(band.data());
  }
}
BENCHMARK(BM_DbeApply)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
