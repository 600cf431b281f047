// Phase 1 on a simulated group (Alt-Az field rotation over +-20 deg, dithers) where all frames but one were written
// without WCS: propagation gives every frame a WCS within 0.2 px of the truth, the same whatever the worker
// count, and a rerun takes the solutions from the resume manifest or the content-hash solution cache.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <map>

#include "events/event_stream.hpp"
#include "events/progress.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "plan/capabilities.hpp"
#include "sim/dataset.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

// One reference frame with a header WCS, the rest propagated from it across the whole field rotation. The count
// only sets the runtime: every propagated frame is an independent match against the reference (the 100-frame
// timing comparison with absolute solving is bench/bench_solve.cpp).
constexpr int kFrames = 32;

sim::SimConfig group_config() {
  sim::SimConfig c;
  c.seed = 11;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = kFrames;
  c.layout.width = 480;
  c.layout.height = 384;
  c.layout.dither_sigma_px = 6.0;
  c.layout.altaz = true;
  c.layout.altaz_rotation_deg = 20.0;
  c.layout.position_angle_deg = -178.7;
  c.observing.vignetting = 0.0;
  c.sky.star_density_per_deg2 = 15000.0;  // enough stars on a small frame
  c.sky.nebula = false;
  c.defects.trail_fraction = 0.0;
  c.defects.drop_wcs = kFrames - 1;
  c.write_truth = false;
  return c;
}

IngestResult run(const fs::path& input, const fs::path& out, int workers) {
  EventStream events;
  RunProgress progress(events);
  // A simulated sky is in no catalogue: no solver.
  const RunContext ctx = test::make_test_context(input, out, progress, workers, {{"solver", "none"}});
  return run_phase1(ctx, ctx.options.ingest);
}

class Phase1SolveSim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("p1solve");
    plan_ = new sim::DatasetPlan(sim::plan_dataset(group_config()));
    sim::write_dataset(*plan_, dir_->path() / "data");
    const auto t0 = std::chrono::steady_clock::now();
    result_ = new IngestResult(run(dir_->path() / "data" / sim::kLightsFolder, dir_->path() / "out1", 1));
    seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  static void TearDownTestSuite() {
    delete result_;
    delete plan_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static sim::DatasetPlan* plan_;
  static IngestResult* result_;
  static double seconds_;
};
test::TempDir* Phase1SolveSim::dir_ = nullptr;
sim::DatasetPlan* Phase1SolveSim::plan_ = nullptr;
IngestResult* Phase1SolveSim::result_ = nullptr;
double Phase1SolveSim::seconds_ = 0.0;

TEST_F(Phase1SolveSim, PropagatedWithinPointTwoPxDeterministicAndCached) {
  ASSERT_EQ(result_->frames.size(), static_cast<std::size_t>(kFrames));
  EXPECT_TRUE(result_->set_aside.empty());
  std::map<std::string, int> provenance;
  double worst = 0.0;
  for (const FrameRecord& r : result_->frames) {
    ++provenance[r.wcs_provenance];
    const sim::FramePlan* truth = nullptr;
    for (const auto& f : plan_->frames)
      if (fs::path(r.path).filename() == f.file_name) truth = &f;
    ASSERT_NE(truth, nullptr);
    Wcs got = r.make_wcs();
    for (double y = -0.5; y <= r.height; y += r.height / 4.0)
      for (double x = -0.5; x <= r.width; x += r.width / 4.0) {
        const SkyCoord s = got.pixel_to_world(PixelCoord{x, y});
        const auto p = truth->geometry.to_pixel(s);
        ASSERT_TRUE(p);
        worst = std::max(worst, std::hypot(p->x - x, p->y - y));
      }
    if (r.wcs_provenance == "propagated") {
      EXPECT_LT(r.wcs_residual_px, 0.3);
      EXPECT_GT(r.wcs_residual_px, 0.0);
    }
  }
  EXPECT_EQ(provenance["header"], 1);
  EXPECT_EQ(provenance["propagated"], kFrames - 1);
  EXPECT_LT(worst, 0.2);
  std::printf("phase 1 with WCS propagation: %.2f s for %d frames, worst WCS error %.3f px\n", seconds_, kFrames,
              worst);

  // One test, so that the dataset and the first run are made once: same result with more workers, from caches.
  const fs::path input = dir_->path() / "data" / sim::kLightsFolder;
  const IngestResult two = run(input, dir_->path() / "out2", 2);
  ASSERT_EQ(two.frames.size(), result_->frames.size());
  for (std::size_t i = 0; i < two.frames.size(); ++i) {
    EXPECT_EQ(two.frames[i].wcs_cards, result_->frames[i].wcs_cards) << i;
    EXPECT_EQ(two.frames[i].wcs_provenance, result_->frames[i].wcs_provenance) << i;
  }
  // Resume: everything comes back from the manifest, provenance kept.
  const IngestResult again = run(input, dir_->path() / "out2", 2);
  EXPECT_EQ(again.reused_from_cache, kFrames);
  EXPECT_EQ(again.frames.at(5).wcs_provenance, result_->frames.at(5).wcs_provenance);
  // Without the manifest the frames are preprocessed again but their WCS comes from the solution cache.
  fs::remove(dir_->path() / "out2" / ".zemosaic_cache" / "phase1_manifest.json");
  const IngestResult cached = run(input, dir_->path() / "out2", 2);
  int from_cache = 0;
  for (const auto& r : cached.frames) from_cache += r.wcs_provenance == "cache";
  EXPECT_EQ(from_cache, kFrames - 1);
  for (std::size_t i = 0; i < cached.frames.size(); ++i)
    EXPECT_NEAR(cached.frames[i].centre.ra, result_->frames[i].centre.ra, 1e-9);
}

}  // namespace
}  // namespace zm
