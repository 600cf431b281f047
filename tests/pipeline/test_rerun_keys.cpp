// Resume keyed on typed options (issue 19): changing a setting re-runs the phase that reads it (and what its
// output feeds), never an earlier phase; a setting that changes no output re-runs nothing; and a resumed run after a
// change gives exactly the bytes of a fresh run with the changed settings (no stale master tiles or mosaics).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "io/fits_reader.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;
using Extra = std::map<std::string, nlohmann::json>;

// Two overlapping pointings of three small frames: every classic phase has work, in well under a second.
sim::SimConfig tiny() {
  sim::SimConfig c;
  c.seed = 5;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 3;
  c.layout.width = 200;
  c.layout.height = 160;
  c.sky.star_density_per_deg2 = 20000.0;
  c.defects.trail_fraction = 0.0;
  c.write_truth = false;
  return c;
}

struct Data {
  test::TempDir dir{"rerun"};
  fs::path lights, grid_input;
  Data() {
    const auto files = sim::write_dataset(tiny(), dir.path() / "data");
    lights = dir.path() / "data" / sim::kLightsFolder;
    grid_input = dir.path() / "grid_input";
    fs::create_directories(grid_input);
    std::ofstream csv(grid_input / "stack_plan.csv");
    csv << "file_path\n";
    for (const auto& f : files.frames) {
      fs::create_symlink(dir.path() / "data" / f, grid_input / fs::path(f).filename());
      csv << fs::path(f).filename().string() << "\n";
    }
  }
  static Data& get() {
    static Data d;
    return d;
  }
};

Extra with(Extra base, const Extra& more) {
  for (const auto& [k, v] : more) base[k] = v;
  return base;
}

// Phases whose artifacts the run took from an earlier run (RESUME_REUSED with reused == total).
std::set<std::string> reused_phases(const test::PipelineRun& r) {
  std::set<std::string> out;
  for (const auto& e : r.events->with_key(pipeline_keys::kResumeReused))
    if (e.fields.at("reused") == e.fields.at("total")) out.insert(e.fields.at("phase").get<std::string>());
  return out;
}

// The science FITS's pixels as bytes (NaN compares equal to NaN).
std::string science_bytes(const test::PipelineRun& r) {
  const std::vector<float> v = FitsImageReader(r.outcome.science).read_all(false).data;
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

struct Case {
  std::string key;
  nlohmann::json value;
  std::vector<std::string> reused;      // phases before the one reading the key
  std::vector<std::string> recomputed;  // the phase reading it
};

class Rerun : public ::testing::Test {
 protected:
  // Runs `base` once into a folder of its own, then each case on a copy of that folder with the key changed.
  void check(const std::string& name, const fs::path& input, const Extra& base, const std::vector<Case>& cases) {
    const fs::path first = Data::get().dir.path() / (name + "_base");
    const auto b = test::run_pipeline_in(input, first, 2, base);
    ASSERT_FALSE(b.outcome.science.empty());
    for (const auto& c : cases) {
      const fs::path out = Data::get().dir.path() / (name + "_" + c.key);
      fs::copy(first, out, fs::copy_options::recursive);
      const auto r = test::run_pipeline_in(input, out, 2, with(base, {{c.key, c.value}}));
      const auto reused = reused_phases(r);
      for (const auto& p : c.reused) EXPECT_TRUE(reused.count(p)) << c.key << ": phase " << p << " should be reused";
      for (const auto& p : c.recomputed) EXPECT_FALSE(reused.count(p)) << c.key << ": phase " << p << " should re-run";
      EXPECT_FALSE(reused.count("all")) << c.key;
    }
  }
};

const Extra kKeep = {{"cache_retention", "keep"}};

TEST_F(Rerun, ClassicPhasesRerunFromTheOneReadingTheKey) {
  check("classic", Data::get().lights, kKeep,
        {{"hot_pixel_threshold_sigma", 3.5, {}, {"1", "3", "4.5", "5", "6"}},
         {"max_raw_per_master_tile", 2, {"1"}, {"3"}},
         {"stack_kappa_low", 2.5, {"1"}, {"3", "4.5", "5", "6"}},
         {"final_grid_orientation", "north_up", {"1", "3"}, {"5", "6"}},
         {"intertile_prune_k", 3, {"1", "3"}, {"4.5"}},
         {"phase5_feather_px", 64.0, {"1", "3", "4.5"}, {"5", "6"}},
         {"preview_png_asinh_a", 20.0, {"1", "3", "4.5", "5"}, {"6"}}});
}

TEST_F(Rerun, FrameRoutesRerunFromTheOneReadingTheKey) {
  const Extra mf = with(kKeep, {{"mosaic_first", true}});
  check("mf", Data::get().lights, mf,
        {{"global_wcs_padding_px", 8, {"1"}, {"5", "6"}}, {"global_coadd_k", 2.5, {"1"}, {"5", "6"}}});
  const Extra sds = with(kKeep, {{"sds_mode", true}, {"sds_min_batch", 2}, {"sds_min_coverage_keep", 0.1}});
  check("sds", Data::get().lights, sds, {{"sds_min_coverage_keep", 0.2, {"1"}, {"5", "6"}}});
  check("grid", Data::get().grid_input, kKeep, {{"batch_overlap_pct", 30.0, {"1"}, {"3", "4.5", "5", "6"}}});
}

TEST_F(Rerun, ASettingThatChangesNoOutputRerunsNothing) {
  const fs::path first = Data::get().dir.path() / "runtime";
  test::run_pipeline_in(Data::get().lights, first, 2, kKeep);
  const auto r = test::run_pipeline_in(Data::get().lights, first, 1,
                                       with(kKeep, {{"parallel_io_workers", 1}, {"phase5_rows_per_chunk", 17}}));
  EXPECT_TRUE(reused_phases(r).count("all"));
}

// A damaged completion marker or manifest is reported, and its work redone rather than trusted.
TEST_F(Rerun, ADamagedMarkerIsReportedAndTheRunCompletes) {
  const fs::path out = Data::get().dir.path() / "damaged";
  test::run_pipeline_in(Data::get().lights, out, 2, kKeep);
  const fs::path marker = out / ".zemosaic_cache" / "run_complete.json";
  const fs::path phase3 = out / ".zemosaic_cache" / "phase3_manifest.json";
  ASSERT_TRUE(fs::exists(marker));
  std::ofstream(marker) << "{\"signature\": ";
  std::ofstream(phase3) << "[1, 2";
  const auto r = test::run_pipeline_in(Data::get().lights, out, 2, kKeep);
  std::set<std::string> files;
  for (const auto& e : r.events->with_key(pipeline_keys::kResumeDiscarded)) files.insert(e.fields.at("file"));
  EXPECT_TRUE(files.count(marker.string()));
  EXPECT_TRUE(files.count(phase3.string()));
  EXPECT_FALSE(reused_phases(r).count("3"));
  EXPECT_TRUE(fs::exists(r.outcome.science));
}

// The bug this design removes: Phase 1 and Phase 3 settings were not in the keys of the master tiles and of the
// phases after them, so a resumed run kept stale tiles and mosaics.
TEST_F(Rerun, AResumedRunAfterAChangeEqualsAFreshRun) {
  const auto& d = Data::get();
  const fs::path out = d.dir.path() / "stale";
  test::run_pipeline_in(d.lights, out, 2, kKeep);
  for (const Extra& change : {Extra{{"debayer_method", "edge_aware"}}, Extra{{"stack_reject_algo", "kappa_sigma"}}}) {
    const auto resumed = test::run_pipeline_in(d.lights, out, 2, with(kKeep, change));
    const auto fresh = test::run_pipeline_in(d.lights, d.dir.path() / ("fresh_" + change.begin()->first), 2,
                                             with(with(kKeep, change), {{"resume", "off"}}));
    EXPECT_TRUE(science_bytes(resumed) == science_bytes(fresh)) << change.begin()->first;
  }
}

}  // namespace
}  // namespace zm
