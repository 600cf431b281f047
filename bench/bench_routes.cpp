// Wall time and peak RSS of every route, end to end (`zemosaic run`, Phases 1-7, resume off), on one simulated
// dataset: 2x2 pointings, 2 nights, 4 frames per pointing and night, 720x1280 px (a Seestar frame at 2/3 size).
// Each run is a child process so its peak RSS is its own (wait4), not the benchmark's.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "child_run.hpp"
#include "sim/dataset.hpp"

namespace {
namespace fs = std::filesystem;

struct Data {
  fs::path root;
  fs::path lights;
  fs::path grid_input;  // the same frames (links) plus a stack_plan.csv: grid mode
  Data() {
    root = fs::temp_directory_path() / ("zm_bench_routes_" + std::to_string(std::random_device{}()));
    zm::sim::SimConfig c;
    c.layout.grid_cols = 2;
    c.layout.grid_rows = 2;
    c.layout.frames_per_pointing = 4;
    c.layout.nights = 2;
    c.layout.width = 720;
    c.layout.height = 1280;
    c.sky.star_density_per_deg2 = 15000.0;
    zm::sim::write_dataset(c, root / "data");
    lights = root / "data" / zm::sim::kLightsFolder;
    grid_input = root / "grid_input";
    fs::create_directories(grid_input);
    std::ofstream csv(grid_input / "stack_plan.csv");
    csv << "file_path,exposure\n";
    for (const auto& e : fs::directory_iterator(lights)) {
      const auto ext = e.path().extension();
      if (ext != ".fit" && ext != ".fits") continue;
      fs::create_symlink(e.path(), grid_input / e.path().filename());
      csv << e.path().filename().string() << ",10\n";
    }
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

void run_route(benchmark::State& state, const std::string& name, const std::string& config, bool grid) {
  Data& d = data();
  zm::test::ChildRun c;
  for (auto _ : state) {
    const fs::path out = d.root / ("out_" + name);
    const fs::path cfg = d.root / (name + ".json");
    std::ofstream(cfg) << config;
    c = zm::test::run_zemosaic(grid ? d.grid_input : d.lights, out, {"--config", cfg.string()});
    if (c.exit_code != 0) state.SkipWithError(("zemosaic run failed for route " + name).c_str());
    state.SetIterationTime(c.seconds);
    std::error_code ec;
    fs::remove_all(out, ec);
  }
  state.counters["peak_rss_mib"] = c.peak_rss_kib / 1024.0;
}

const std::string kCommon = R"("resume": "off", "telemetry_interval_s": 0)";

void BM_Classic(benchmark::State& s) { run_route(s, "classic", "{" + kCommon + "}", false); }
void BM_ClassicMerge(benchmark::State& s) {
  // One tile per pointing and night (4 frames each), which the merge stacks back into one per pointing.
  run_route(s, "classic_merge", "{" + kCommon + R"(, "inter_master_merge": true, "max_raw_per_master_tile": 4})", false);
}
void BM_MosaicFirst(benchmark::State& s) { run_route(s, "mosaic_first", "{" + kCommon + R"(, "mosaic_first": true})", false); }
void BM_Sds(benchmark::State& s) {
  run_route(s, "sds", "{" + kCommon + R"(, "sds_mode": true, "sds_batch_by_night": true})", false);
}
void BM_Grid(benchmark::State& s) { run_route(s, "grid", "{" + kCommon + "}", true); }

BENCHMARK(BM_Classic)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_ClassicMerge)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_MosaicFirst)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Sds)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
BENCHMARK(BM_Grid)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);

}  // namespace
