// Simulator speed: one full-size 1080x1920 Seestar-like frame (render + noise, and the FITS write).
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>

#include <filesystem>

#include "io/fits_writer.hpp"
#include "sim/dataset.hpp"

namespace {

const zm::sim::DatasetPlan& plan() {
  static const zm::sim::DatasetPlan p = [] {
    zm::sim::SimConfig c;  // defaults: 1080x1920, 2x2 pointings, nebula, 1500 stars/deg2
    return zm::sim::plan_dataset(c);
  }();
  return p;
}

// One core, as the per-frame budget is stated for one core (the CLI runs frames in parallel).
void BM_RenderRawFrame(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const auto& p = plan();
  int i = 0;
  for (auto _ : state) {
    auto pixels = zm::sim::render_raw_frame(p.inputs(i++ % static_cast<int>(p.frames.size())));
    benchmark::DoNotOptimize(pixels.data());
  }
}
BENCHMARK(BM_RenderRawFrame)->Unit(benchmark::kMillisecond);

void BM_RenderAndWriteFrame(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const auto& p = plan();
  const auto path = std::filesystem::temp_directory_path() / "zm_bench_sim_frame.fit";
  int i = 0;
  for (auto _ : state) {
    const auto& f = p.frames[i++ % static_cast<int>(p.frames.size())];
    const auto pixels = zm::sim::render_raw_frame(p.inputs(f.index));
    zm::write_fits_u16(path, f.geometry.width, f.geometry.height, pixels, zm::sim::frame_header(p, f));
  }
  std::filesystem::remove(path);
}
BENCHMARK(BM_RenderAndWriteFrame)->Unit(benchmark::kMillisecond);

void BM_RenderSkyRgbFrame(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  const auto& p = plan();
  const zm::Wcs wcs = p.frames[0].geometry.to_wcs();
  for (auto _ : state) {
    auto img = zm::sim::render_sky_rgb(p.sky, wcs);
    benchmark::DoNotOptimize(img.data.data());
  }
}
BENCHMARK(BM_RenderSkyRgbFrame)->Unit(benchmark::kMillisecond);

}  // namespace
