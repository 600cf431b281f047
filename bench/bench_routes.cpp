// Wall time of the alternative routes (Mosaic-First, SDS) on one simulated dataset (2x2 pointings, 2 nights,
// 3 frames each, 640x512 px), Phase 1 done once outside the timing. Peak RSS is reported as a counter.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>
#include <random>

#include "events/event_stream.hpp"
#include "pipeline/phase1_ingest.hpp"
#include "pipeline/route_mosaic_first.hpp"
#include "pipeline/route_sds.hpp"
#include "sim/dataset.hpp"

namespace {
namespace fs = std::filesystem;

struct Data {
  fs::path root;
  zm::EventStream events;
  std::unique_ptr<zm::RunProgress> progress;
  zm::RunContext ctx;
  std::vector<zm::FrameRecord> frames;
  Data() {
    root = fs::temp_directory_path() / ("zm_bench_routes_" + std::to_string(std::random_device{}()));
    zm::sim::SimConfig c;
    c.layout.grid_cols = 2;
    c.layout.grid_rows = 2;
    c.layout.frames_per_pointing = 3;
    c.layout.nights = 2;
    c.layout.width = 640;
    c.layout.height = 512;
    c.sky.star_density_per_deg2 = 15000.0;
    zm::sim::write_dataset(c, root / "data");
    progress = std::make_unique<zm::RunProgress>(events);
    ctx.input_dir = root / "data" / zm::sim::kLightsFolder;
    ctx.output_dir = root / "out";
    ctx.cache_dir = root / "out" / ".zemosaic_cache";
    ctx.tiles_dir = root / "out" / "tiles";
    ctx.config.set("telemetry_interval_s", 0.0);
    ctx.config.set("resume", "off");
    fs::create_directories(ctx.cache_dir);
    ctx.caps = zm::probe_capabilities(ctx.output_dir);
    ctx.progress = progress.get();
    frames = zm::run_phase1(ctx).frames;
  }
  ~Data() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

Data& data() {
  static Data d;
  return d;
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

void BM_MosaicFirst(benchmark::State& state) {
  Data& d = data();
  const zm::OutputGrid grid = zm::global_grid(d.ctx, d.frames);
  for (auto _ : state) benchmark::DoNotOptimize(zm::run_mosaic_first(d.ctx, d.frames, grid));
  state.counters["frames"] = static_cast<double>(d.frames.size());
  state.counters["peak_rss_mib"] = peak_rss_mib();
}
BENCHMARK(BM_MosaicFirst)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_Sds(benchmark::State& state) {
  Data& d = data();
  d.ctx.config.set("sds_batch_by_night", true);
  const zm::OutputGrid grid = zm::global_grid(d.ctx, d.frames);
  for (auto _ : state) benchmark::DoNotOptimize(zm::run_sds(d.ctx, d.frames, grid));
  state.counters["frames"] = static_cast<double>(d.frames.size());
  state.counters["peak_rss_mib"] = peak_rss_mib();
}
BENCHMARK(BM_Sds)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
