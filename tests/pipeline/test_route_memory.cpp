// Memory of every route (issue 6): on a dataset whose preprocessed pixels do not fit the plan's RAM budget, each
// route's peak RSS (child `zemosaic run`, wait4) stays within that budget plus a fixed overhead.
//
// 180 frames of 270 x 480 at one pointing hold 180 x 270 x 480 x 3 x 4 B = 280 MB of float32 pixels; --assume-ram-gb
// 0.5 puts the plan on its budget floor (256 MiB), so no route may hold the frame set: Mosaic-First and the SDS
// batches must stream output bands holding only part of each frame, grid mode the same per tile, and the merge its
// super tile by bands. kFixedOverhead is what no work item declares (binary, libraries, threads, cfitsio buffers,
// allocator slack), as in the Phase 3 memory test.
#include <gtest/gtest.h>

#include <fstream>

#include "child_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

constexpr long kFixedOverheadKiB = 128 * 1024;
constexpr int kFrames = 180;

sim::SimConfig deep_pointing() {
  sim::SimConfig c;
  c.seed = 43;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = kFrames;
  c.layout.width = 270;
  c.layout.height = 480;
  c.layout.dither_sigma_px = 5.0;
  c.layout.cadence_gap_s = 0.0;
  c.sky.star_density_per_deg2 = 6000.0;
  c.defects.trail_fraction = 0.05;
  c.write_truth = false;
  return c;
}

class RouteMemory : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("routemem");
    const auto files = sim::write_dataset(deep_pointing(), dir_->path() / "data");
    ASSERT_EQ(files.frames.size(), static_cast<std::size_t>(kFrames));
    // Grid mode: a folder holding only a stack_plan.csv naming every frame by absolute path.
    fs::create_directories(dir_->path() / "grid_input");
    std::ofstream csv(dir_->path() / "grid_input" / "stack_plan.csv");
    csv << "file_path\n";
    for (const auto& e : fs::directory_iterator(lights())) csv << fs::absolute(e.path()).string() << "\n";
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path lights() { return dir_->path() / "data" / sim::kLightsFolder; }

  void check(const std::string& name, const fs::path& input, const std::string& config_json) {
    const fs::path cfg = dir_->path() / (name + ".json");
    std::ofstream(cfg) << config_json;
    const auto run = test::run_zemosaic(input, dir_->path() / ("out_" + name),
                                        {"-j", "2", "--assume-ram-gb", "0.5", "--config", cfg.string()});
    ASSERT_EQ(run.exit_code, 0) << name;
    long budget_kib = 0;
    for (const auto& p : test::events_with(run, "parallel_plan_summary"))
      budget_kib = std::max(budget_kib, static_cast<long>(p.at("ram_budget_bytes").get<std::uint64_t>() / 1024));
    ASSERT_GT(budget_kib, 0) << name;
    const long pixels_kib = static_cast<long>(kFrames) * 270 * 480 * 3 * 4 / 1024;
    std::printf("%s: budget %ld MiB, frame pixels %ld MiB, peak RSS %ld MiB, %.1f s\n", name.c_str(),
                budget_kib / 1024, pixels_kib / 1024, run.peak_rss_kib / 1024, run.seconds);
    RecordProperty(name + "_peak_rss_mib", std::to_string(run.peak_rss_kib / 1024));
    EXPECT_GT(pixels_kib, budget_kib) << "the frames must not fit the budget, else nothing is shown";
    EXPECT_LE(run.peak_rss_kib, budget_kib + kFixedOverheadKiB) << name;
    const auto done = test::events_with(run, "PROCESS_DONE");
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(done[0].value("success", false)) << name;
  }

  static test::TempDir* dir_;
};
test::TempDir* RouteMemory::dir_ = nullptr;

TEST_F(RouteMemory, MosaicFirst) { check("mosaic_first", lights(), R"({"mosaic_first": true})"); }
TEST_F(RouteMemory, Sds) { check("sds", lights(), R"({"sds_mode": true, "sds_min_batch": 60})"); }
TEST_F(RouteMemory, GridMode) { check("grid", dir_->path() / "grid_input", "{}"); }
TEST_F(RouteMemory, ClassicWithInterMasterMerge) {
  check("classic_merge", lights(), R"({"inter_master_merge": true, "max_raw_per_master_tile": 60})");
}

}  // namespace
}  // namespace zm
