// tile_background_flatten end to end: a vignetted sky with a gradient (no flats) gives a master tile whose sky is
// flat from centre to corners, with the vignetting the simulator put in written to the header.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/fits_reader.hpp"
#include "sim/dataset.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"
#include "truth_metrics.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

sim::SimConfig vignetted() {
  sim::SimConfig c;
  c.seed = 5;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 6;
  c.layout.width = 360;
  c.layout.height = 480;
  c.sky.nebula = false;
  c.observing.vignetting = 0.08;
  c.observing.gradient_fraction = 0.04;
  c.defects.trail_fraction = 0.0;
  return c;
}

double box_median(const ImageF& img, int x0, int y0) { return test::box_median(img, x0, y0, 40); }

std::string master_tile(const fs::path& input, const fs::path& out, bool flatten) {
  const RunOutcome o = test::run_pipeline_in(input, out, 2, {{"tile_background_flatten", flatten}}).outcome;
  EXPECT_EQ(o.master_tiles.size(), 1u);
  return o.master_tiles.at(0);
}

TEST(TileBackground, VignettingAndGradientAreFlattened) {
  test::TempDir dir("tilebg");
  sim::write_dataset(sim::plan_dataset(vignetted()), dir.path() / "data");
  const fs::path input = dir.path() / "data" / sim::kLightsFolder;
  FitsImageReader flat_r(master_tile(input, dir.path() / "on", true));
  FitsImageReader raw_r(master_tile(input, dir.path() / "off", false));
  const ImageF flat = flat_r.read_all(false), raw = raw_r.read_all(false);
  EXPECT_NEAR(flat_r.info().header.get_double("ZMT_BGV1").value_or(0), 0.08, 0.01);
  EXPECT_FALSE(raw_r.info().header.get_double("ZMT_BGV1").has_value());
  const int w = flat.width, h = flat.height;
  const double centre_flat = box_median(flat, w / 2 - 20, h / 2 - 20), centre_raw = box_median(raw, w / 2 - 20, h / 2 - 20);
  double worst_flat = 0, worst_raw = 0;
  for (auto [x, y] : {std::pair{20, 20}, {w - 60, 20}, {20, h - 60}, {w - 60, h - 60}}) {
    worst_flat = std::max(worst_flat, std::abs(box_median(flat, x, y) / centre_flat - 1.0));
    worst_raw = std::max(worst_raw, std::abs(box_median(raw, x, y) / centre_raw - 1.0));
  }
  std::printf("corner vs centre sky: %.2f %% flattened, %.2f %% as stacked\n", 100 * worst_flat, 100 * worst_raw);
  EXPECT_GT(worst_raw, 0.04);   // the effect is there without the model
  EXPECT_LT(worst_flat, 0.01);  // and gone with it
}

}  // namespace
}  // namespace zm
