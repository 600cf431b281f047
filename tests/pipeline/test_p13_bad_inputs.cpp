// Bad inputs in the input folder (issue 4): the built `zemosaic run` reports each one with its own event naming the
// file and completes with the rest (exit 0, master tile written). Corrupt files come from the simulator
// (DefectConfig::corrupt: truncated FITS, text named .fits, all-NaN frame, 0-byte .fit) with the error kind each
// must raise; one more frame is written without WCS (DefectConfig::drop_wcs), which Phase 1 may either solve /
// propagate or set aside, so only "placed or reported" is asserted for it.
#include <gtest/gtest.h>

#include <set>

#include "child_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

bool names_file(const nlohmann::json& e, const std::string& file) {
  return fs::path(e.value("file", "")).filename().string() == file;
}

TEST(P13BadInputs, EachBadFileHasItsEventAndTheRunCompletes) {
  test::TempDir dir("p13bad");
  sim::SimConfig c;
  c.seed = 5;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 6;
  c.layout.width = 256;
  c.layout.height = 320;
  c.layout.dither_sigma_px = 5.0;
  c.sky.star_density_per_deg2 = 15000.0;
  c.defects.corrupt = true;
  c.defects.drop_wcs = 1;
  c.write_truth = false;
  const sim::DatasetPlan plan = sim::plan_dataset(c);
  const sim::DatasetFiles files = sim::write_dataset(plan, dir.path() / "data");
  ASSERT_EQ(files.corrupt.size(), 4u);
  std::string no_wcs;
  for (const auto& f : plan.frames)
    if (!f.has_wcs) no_wcs = f.file_name;
  ASSERT_FALSE(no_wcs.empty());

  const auto run = test::run_zemosaic(dir.path() / "data" / sim::kLightsFolder, dir.path() / "out", {"-j", "2"});
  ASSERT_EQ(run.exit_code, 0) << "events: " << run.events.size();

  const auto set_aside = test::events_with(run, "INPUT_SET_ASIDE");
  for (const auto& bad : files.corrupt) {
    const std::string name = fs::path(bad.file).filename().string();
    int hits = 0;
    for (const auto& e : set_aside)
      if (names_file(e, name)) {
        ++hits;
        EXPECT_EQ(e.value("kind", ""), bad.expected_error) << bad.file << " (" << bad.defect << "): " << e.dump();
        EXPECT_EQ(e.value("level", ""), "WARN") << e.dump();
        EXPECT_FALSE(e.value("reason", "").empty()) << e.dump();
      }
    EXPECT_EQ(hits, 1) << bad.file << " (" << bad.defect << ") needs exactly one INPUT_SET_ASIDE event";
  }

  // The frame without WCS: solved/propagated (WCS_ACQUIRED) or set aside with a reason, never silent.
  int acquired = 0, reported = 0;
  for (const auto& e : test::events_with(run, "WCS_ACQUIRED")) acquired += names_file(e, no_wcs);
  for (const auto& e : set_aside) reported += names_file(e, no_wcs);
  EXPECT_EQ(acquired + reported, 1) << no_wcs;

  const auto summary = test::events_with(run, "RUN_SUMMARY");
  ASSERT_EQ(summary.size(), 1u);
  const int good = static_cast<int>(plan.frames.size());
  EXPECT_EQ(summary[0].value("frames_used", 0), acquired ? good : good - 1);
  EXPECT_EQ(summary[0].value("inputs_set_aside", 0), 4 + reported);
  const auto tiles = summary[0].at("master_tiles");
  ASSERT_GE(tiles.size(), 1u);
  for (const auto& t : tiles) EXPECT_TRUE(fs::exists(t.get<std::string>())) << t;

  // Inputs are read-only: every file is still there, unchanged in size.
  for (const auto& bad : files.corrupt) EXPECT_TRUE(fs::exists(dir.path() / "data" / bad.file));
}

}  // namespace
}  // namespace zm
