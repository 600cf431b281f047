// Pipeline throughput on simulated Seestar frames (1080 x 1920 GRBG uint16), the figures issue 4 asks for:
// - BM_Phase1Ingest: run_phase1 on a folder of kFrames frames (scan, decode, hot pixels, debayer, statistics,
//   cache write with fsync), all workers of the plan; frames_per_s is the wall-clock rate.
// - BM_Phase3MasterTile: build_master_tile on the same kFrames frames as one group (star detection, registration,
//   streamed Lanczos-3 warp, winsorized sigma clip, mean, FITS write); frame_px_per_s_per_core is
//   frames x W x H / wall seconds / worker threads (TBB's concurrency), so it compares across machines.
// The dataset is simulated once into a scratch folder under the working directory and removed at exit.
#include <benchmark/benchmark.h>
#include <tbb/info.h>

#include <filesystem>
#include <memory>

#include "events/event_stream.hpp"
#include "pipeline/classic/master_tile.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/run_context.hpp"
#include "sim/dataset.hpp"

namespace {

namespace fs = std::filesystem;
constexpr int kFrames = 12;

struct Dataset {
  fs::path root;
  std::vector<zm::FrameRecord> records;  // from one ingest, for the Phase 3 benchmark
  fs::path frames_dir;
  ~Dataset() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

zm::sim::SimConfig seestar_group() {
  zm::sim::SimConfig c;
  c.seed = 3;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = kFrames;
  c.write_truth = false;
  return c;
}

zm::IngestResult ingest(const fs::path& input, const fs::path& out) {
  zm::EventStream events;
  zm::RunProgress progress(events);
  fs::create_directories(out);
  const zm::RunContext ctx = zm::make_run_context(input, out, zm::Config(), zm::probe_capabilities(out), progress);
  fs::create_directories(ctx.cache.root);
  return zm::run_phase1(ctx, ctx.options.ingest);
}

Dataset& dataset() {
  static std::unique_ptr<Dataset> d;
  if (!d) {
    d = std::make_unique<Dataset>();
    d->root = fs::absolute("bench_pipeline_tmp");
    zm::sim::write_dataset(seestar_group(), d->root / "data");
    d->records = ingest(d->root / "data" / zm::sim::kLightsFolder, d->root / "ref").frames;
    d->frames_dir = d->root / "ref" / ".zemosaic_cache" / "frames";
  }
  return *d;
}

void BM_Phase1Ingest(benchmark::State& state) {
  Dataset& d = dataset();
  int runs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path out = d.root / ("ingest_" + std::to_string(runs++));
    state.ResumeTiming();
    const auto r = ingest(d.root / "data" / zm::sim::kLightsFolder, out);
    benchmark::DoNotOptimize(r.frames.size());
    state.PauseTiming();
    fs::remove_all(out);
    state.ResumeTiming();
  }
  state.counters["frames_per_s"] =
      benchmark::Counter(static_cast<double>(kFrames) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Phase1Ingest)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

void BM_Phase3MasterTile(benchmark::State& state) {
  Dataset& d = dataset();
  std::vector<int> members(d.records.size());
  for (std::size_t i = 0; i < members.size(); ++i) members[i] = static_cast<int>(i);
  zm::MasterTileOptions o;  // defaults: linear_fit, noise_variance, winsorized 3/3, mean, Lanczos-3
  o.rows_per_chunk = 128;
  zm::EventStream events;
  for (auto _ : state) {
    const auto r = zm::build_master_tile(0, members, d.records, d.frames_dir, d.root / "tiles", o, events);
    benchmark::DoNotOptimize(r.frames);
  }
  const auto& f = d.records.front();
  const double px = static_cast<double>(members.size()) * f.width * f.height * static_cast<double>(state.iterations());
  const int cores = tbb::info::default_concurrency();
  state.counters["frame_px_per_s"] = benchmark::Counter(px, benchmark::Counter::kIsRate);
  state.counters["frame_px_per_s_per_core"] = benchmark::Counter(px / cores, benchmark::Counter::kIsRate);
  state.counters["cores"] = cores;
}
BENCHMARK(BM_Phase3MasterTile)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace
