// Phases 1-3 on a small simulated group, checked against the simulator's ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "events/event_stream.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/classic/phase2_cluster.hpp"
#include "pipeline/classic/phase3_master_tiles.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "sim/dataset.hpp"
#include "stars/detect.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

sim::SimConfig group_config() {
  sim::SimConfig c;
  c.seed = 7;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 8;
  c.layout.width = 320;
  c.layout.height = 256;
  c.layout.dither_sigma_px = 6.0;
  c.observing.vignetting = 0.0;
  c.sky.star_density_per_deg2 = 15000.0;  // enough stars on a small frame
  c.defects.trail_fraction = 0.25;
  c.write_truth = false;
  return c;
}

struct Pipeline13 {
  std::vector<MasterTileInfo> tiles;
  std::vector<FrameRecord> frames;
};

Pipeline13 run_1_to_3(const std::filesystem::path& input, const std::filesystem::path& out, int workers, int rows) {
  EventStream events;
  RunProgress progress(events);
  const RunContext ctx = test::make_test_context(input, out, progress, workers, {{"phase3_rows_per_chunk", rows}});
  Pipeline13 p;
  const IngestResult ingest = run_phase1(ctx, ctx.options.ingest);
  p.frames = ingest.frames;
  p.tiles = run_phase3(ctx, ctx.options.master_tiles, ingest, run_phase2(ctx, ctx.options.cluster, p.frames));
  return p;
}

class MasterTileTruth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("mt");
    plan_ = new sim::DatasetPlan(sim::plan_dataset(group_config()));
    sim::write_dataset(*plan_, dir_->path() / "data");
    result_ = new Pipeline13(run_1_to_3(dir_->path() / "data" / sim::kLightsFolder, dir_->path() / "out", 2, 300));
  }
  static void TearDownTestSuite() {
    delete result_;
    delete plan_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static sim::DatasetPlan* plan_;
  static Pipeline13* result_;
};
test::TempDir* MasterTileTruth::dir_ = nullptr;
sim::DatasetPlan* MasterTileTruth::plan_ = nullptr;
Pipeline13* MasterTileTruth::result_ = nullptr;

TEST_F(MasterTileTruth, OneTileWithEveryFrame) {
  ASSERT_EQ(result_->tiles.size(), 1u);
  EXPECT_EQ(result_->tiles[0].frames, 8);
  FitsImageReader r(result_->tiles[0].path);
  EXPECT_EQ(r.info().channels, 3);
  EXPECT_EQ(r.info().header.get_int("ZMT_NSTK").value_or(0), 8);
  EXPECT_NEAR(r.info().header.get_double("EXPTOTAL").value_or(0), 80.0, 1e-9);
}

TEST_F(MasterTileTruth, StarsLandWhereTheTruthSays) {
  FitsImageReader r(result_->tiles[0].path);
  ImageF tile = r.read_all(false);
  Wcs wcs = Wcs::from_header(r.info().header, r.info().path);
  DetectParams dp;
  dp.max_stars = 200;
  const auto found = detect_stars(tile.plane(1), tile.width, tile.height, dp);
  // Predicted positions of bright catalogue stars through the tile's WCS; nearest detection within 2 px.
  double sum2 = 0;
  int n = 0;
  // Isolated bright stars only: a neighbour within 8 px brighter than 2 % of the star biases any centroid.
  const auto& cat = plan_->sky.stars;
  for (const auto& s : cat) {
    if (s.flux[1] < 20000) continue;
    bool isolated = true;
    for (const auto& o : cat)
      if (&o != &s && o.flux[1] > 0.02 * s.flux[1] && std::hypot(o.x_truth - s.x_truth, o.y_truth - s.y_truth) < 8.0)
        isolated = false;
    if (!isolated) continue;
    auto p = wcs.world_to_pixel(s.pos);
    if (!p || p->x < 10 || p->y < 10 || p->x > tile.width - 11 || p->y > tile.height - 11) continue;
    double best = 4.0;
    for (const auto& f : found) best = std::min(best, std::hypot(f.x - p->x, f.y - p->y));
    if (best < 2.0) {
      sum2 += best * best;
      ++n;
    }
  }
  ASSERT_GE(n, 5);
  RecordProperty("star_rms_px", std::to_string(std::sqrt(sum2 / n)));
  RecordProperty("stars", n);
  EXPECT_LT(std::sqrt(sum2 / n), 0.15) << n << " stars";
}

TEST_F(MasterTileTruth, BitIdenticalWhateverBandHeightAndWorkers) {
  const auto other = run_1_to_3(dir_->path() / "data" / sim::kLightsFolder, dir_->path() / "out2", 1, 37);
  ASSERT_EQ(other.tiles.size(), 1u);
  FitsImageReader a(result_->tiles[0].path), b(other.tiles[0].path);
  const ImageF ia = a.read_all(false), ib = b.read_all(false);
  ASSERT_EQ(ia.data.size(), ib.data.size());
  EXPECT_EQ(std::memcmp(ia.data.data(), ib.data.data(), ia.data.size() * sizeof(float)), 0);  // NaN-safe, bitwise
}

TEST_F(MasterTileTruth, RerunReusesTheTile) {
  const auto again = run_1_to_3(dir_->path() / "data" / sim::kLightsFolder, dir_->path() / "out", 2, 300);
  ASSERT_EQ(again.tiles.size(), 1u);
  EXPECT_TRUE(again.tiles[0].reused);
}

}  // namespace
}  // namespace zm
