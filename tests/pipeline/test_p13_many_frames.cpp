// 2000 frames, no cap (issue 4): `zemosaic run` with default settings (max_raw_per_master_tile 0) uses every frame
// given; each lands in exactly one master tile (frames used == frames given == sum of the tiles' ZMT_NSTK).
// Frames are tiny (96 x 128) so the whole run stays short; the frame count is what matters here.
#include <gtest/gtest.h>

#include "io/fits_reader.hpp"
#include "child_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

TEST(P13ManyFrames, TwoThousandFramesNoneDropped) {
  test::TempDir dir("p13many");
  sim::SimConfig c;
  c.seed = 77;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 2;
  c.layout.frames_per_pointing = 250;
  c.layout.nights = 2;
  c.layout.width = 96;
  c.layout.height = 128;
  c.layout.dither_sigma_px = 3.0;
  c.layout.cadence_gap_s = 0.0;
  c.sky.star_density_per_deg2 = 30000.0;
  c.defects.trail_fraction = 0.0;
  c.write_truth = false;
  const auto files = sim::write_dataset(c, dir.path() / "data");
  ASSERT_EQ(files.frames.size(), 2000u);

  const auto run = test::run_zemosaic(dir.path() / "data" / sim::kLightsFolder, dir.path() / "out", {"-j", "2"});
  ASSERT_EQ(run.exit_code, 0);
  const auto summary = test::events_with(run, "RUN_SUMMARY");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].value("frames_used", 0), 2000);
  EXPECT_EQ(summary[0].value("inputs_set_aside", -1), 0);

  long in_tiles = 0, in_events = 0;
  for (const auto& t : summary[0].at("master_tiles"))
    in_tiles += FitsImageReader(t.get<std::string>()).info().header.get_int("ZMT_NSTK").value_or(0);
  for (const auto& e : test::events_with(run, "MASTER_TILE_DONE")) in_events += e.value("frames", 0);
  std::printf("2000 frames -> %zu master tiles, %ld frames stacked; run %.1f s, peak RSS %ld MiB\n",
              summary[0].at("master_tiles").size(), in_tiles, run.seconds, run.peak_rss_kib / 1024);
  EXPECT_EQ(in_tiles, 2000);
  EXPECT_EQ(in_events, 2000);
}

}  // namespace
}  // namespace zm
