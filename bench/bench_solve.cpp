// WCS acquisition cost: one absolute plate solve (astrometry.net) versus propagation by star matching, on the real
// Seestar M94 subs. Reports the ratio for a 100-frame group: solving every frame versus one solve + 99
// propagations (star detection included on the propagation side). Skips when the data or solve-field is absent.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "io/fits_reader.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "pipeline/ingest/wcs_acquire.hpp"
#include "solve/absolute_solver.hpp"
#include "solve/propagate.hpp"
#include "stars/cfa_detect.hpp"
#include "wcs/wcs.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path data_dir() {
  if (const char* s = std::getenv("ZM_SHARED_DIR")) return fs::path(s) / "data" / "real" / "seestar_m94";
  return fs::path(__FILE__).parent_path() / ".." / ".." / "shared" / "data" / "real" / "seestar_m94";
}

struct Frame {
  std::string path;
  zm::ImageF raw;
  zm::BayerPattern pattern;
  zm::SolveHint hint;
};

std::vector<zm::Star> detect(const Frame& f) {
  zm::DetectParams p;
  p.max_stars = 400;
  zm::StarDetector det(p);
  return det.detect_cfa(f.raw.plane(0), f.raw.width, f.raw.height, f.pattern, zm::CfaDetectMode::Binned2x2);
}

void BM_Group100_PropagationVsAbsolute(benchmark::State& state) {
  const fs::path dir = data_dir();
  if (!fs::is_directory(dir)) {
    state.SkipWithError("real Seestar data not found");
    return;
  }
  zm::SolverSettings ss;
  ss.kind = "astrometry_net";
  std::string why;
  const auto solver = zm::make_absolute_solver(ss, why);
  if (!solver) {
    state.SkipWithError(why.c_str());
    return;
  }
  std::vector<Frame> frames;
  for (const auto& f : zm::scan_input_folder(dir)) {
    zm::FitsImageReader r(f.path.string());
    frames.push_back({f.path.string(), r.read_all(), zm::bayer_pattern_from_header(r.info().header),
                      zm::solve_hint_from_header(r.info().header)});
  }
  const fs::path work = fs::temp_directory_path() / "zm_bench_solve";
  double abs_s = 0.0, prop_s = 0.0;
  int props = 0;
  for (auto _ : state) {
    // Absolute: the first frame of session 1.
    fs::create_directories(work);
    const auto ref_stars = detect(frames[0]);
    zm::SolveRequest req;
    req.input = frames[0].path;
    req.stars = ref_stars;
    req.width = frames[0].raw.width;
    req.height = frames[0].raw.height;
    req.hint = frames[0].hint;
    req.work_dir = work;
    const auto t0 = Clock::now();
    const zm::SolveOutcome so = solver->solve(req);
    abs_s = std::chrono::duration<double>(Clock::now() - t0).count();
    fs::remove_all(work);
    if (!so.ok) {
      state.SkipWithError(so.reason.c_str());
      return;
    }
    auto cards = zm::normalise_wcs(so.wcs, req.input.string(), req.width, req.height);
    // Propagation: detection + matching + composition for the other session-1 frames.
    const auto t1 = Clock::now();
    props = 0;
    for (std::size_t i = 1; i < 5; ++i) {
      const auto stars = detect(frames[i]);
      const zm::Propagation p = zm::propagate_wcs(ref_stars, *cards, stars, req.width, req.height);
      benchmark::DoNotOptimize(p.ok);
      ++props;
    }
    prop_s = std::chrono::duration<double>(Clock::now() - t1).count() / props;
  }
  state.counters["absolute_s"] = abs_s;
  state.counters["propagate_ms"] = prop_s * 1e3;
  state.counters["ratio_100"] = 100.0 * abs_s / (abs_s + 99.0 * prop_s);
}
BENCHMARK(BM_Group100_PropagationVsAbsolute)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
