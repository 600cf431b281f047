// The SDS fallback chain (issue 6): when SDS cannot make a mosaic the run goes on with Mosaic-First and says why.
// Two nights that observed two fields 0.5 deg apart give two mega-tiles with no overlap to match them on.
#include <gtest/gtest.h>

#include "io/fits_reader.hpp"
#include "pipeline/pipeline_events.hpp"
#include "sim/dataset.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

sim::SimConfig field(double ra, const std::string& start, unsigned seed) {
  sim::SimConfig c;
  c.seed = seed;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 3;
  c.layout.width = 160;
  c.layout.height = 128;
  c.layout.centre = {ra, 30.0};
  c.layout.start_utc = start;
  c.sky.star_density_per_deg2 = 20000.0;
  c.defects.trail_fraction = 0.0;
  c.write_truth = false;
  return c;
}

TEST(RouteFallback, SdsWithoutOverlapFallsBackToMosaicFirst) {
  test::TempDir dir("fallback");
  const fs::path input = dir.path() / "lights";
  fs::create_directories(input);
  int frames = 0;
  for (const auto& [cfg, name] : {std::pair{field(150.0, "2025-03-27T01:20:00", 3), "a"},
                                   std::pair{field(150.6, "2025-03-28T01:20:00", 4), "b"}}) {
    const auto files = sim::write_dataset(cfg, dir.path() / name);
    for (const auto& f : files.frames) {
      const fs::path src = dir.path() / name / f;
      fs::copy_file(src, input / src.filename());
      ++frames;
    }
  }
  const test::PipelineRun run = test::run_pipeline_in(
      input, dir.path() / "out", 2, {{"sds_mode", true}, {"sds_batch_by_night", true}, {"sds_min_batch", 2}});
  const RunOutcome& out = run.outcome;
  const auto& rec = run.events;
  const auto fallback = rec->with_key(pipeline_keys::kRouteFallback);
  ASSERT_EQ(fallback.size(), 1u);
  EXPECT_EQ(fallback[0].level, EventLevel::Warn);
  EXPECT_EQ(fallback[0].fields.at("from"), "sds");
  EXPECT_EQ(fallback[0].fields.at("to"), "mosaic_first");
  const std::string reason = fallback[0].fields.at("reason").get<std::string>();
  std::printf("fallback reason: %s\n", reason.c_str());
  EXPECT_NE(reason.find("overlap"), std::string::npos) << reason;
  FitsImageReader sci(out.science);
  EXPECT_EQ(sci.info().header.get_string("ZMROUTE").value_or(""), "mosaic_first");
  EXPECT_EQ(out.frames_used, frames);
}

}  // namespace
}  // namespace zm
