// The SDS fallback chain (issue 6): when SDS cannot make a mosaic the run goes on with Mosaic-First and says why.
// Two nights that observed two fields 0.5 deg apart give two mega-tiles with no overlap to match them on.
#include <gtest/gtest.h>

#include "core/fault_point.hpp"
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

// Two nights on two fields 0.5 deg apart, in one input folder; returns the number of frames.
int two_fields(const fs::path& dir, const fs::path& input) {
  fs::create_directories(input);
  int frames = 0;
  for (const auto& [cfg, name] : {std::pair{field(150.0, "2025-03-27T01:20:00", 3), "a"},
                                   std::pair{field(150.6, "2025-03-28T01:20:00", 4), "b"}}) {
    const auto files = sim::write_dataset(cfg, dir / name);
    for (const auto& f : files.frames) {
      const fs::path src = dir / name / f;
      fs::copy_file(src, input / src.filename());
      ++frames;
    }
  }
  return frames;
}

const std::map<std::string, nlohmann::json> kSdsByNight = {
    {"sds_mode", true}, {"sds_batch_by_night", true}, {"sds_min_batch", 2}};

TEST(RouteFallback, SdsWithoutOverlapFallsBackToMosaicFirst) {
  test::TempDir dir("fallback");
  const fs::path input = dir.path() / "lights";
  const int frames = two_fields(dir.path(), input);
  const test::PipelineRun run = test::run_pipeline_in(input, dir.path() / "out", 2, kSdsByNight);
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

// Only a failure of the data may change the route: a programming error or an allocation failure inside SDS stops
// the run with that error, and no ROUTE_FALLBACK is emitted.
TEST(RouteFallback, ALogicErrorOrAnAllocationFailureInsideSdsStopsTheRun) {
  test::TempDir dir("fallback_fault");
  const fs::path input = dir.path() / "lights";
  two_fields(dir.path(), input);
  for (const FaultKind kind : {FaultKind::logic_error, FaultKind::bad_alloc}) {
    EventStream events;
    auto rec = std::make_shared<test::Recorder>();
    events.add_sink(rec);
    RunProgress progress(events);
    RunContext ctx = test::make_test_context(input, dir.path() / "out", progress, 2,
                                             {{"sds_mode", true}, {"sds_batch_by_night", true}, {"sds_min_batch", 2},
                                              {"resume", "off"}});
    arm_fault("sds.megatile", kind);
    if (kind == FaultKind::logic_error)
      EXPECT_THROW(run_pipeline(ctx), std::logic_error);
    else
      EXPECT_THROW(run_pipeline(ctx), std::bad_alloc);
    disarm_faults();
    EXPECT_TRUE(rec->with_key(pipeline_keys::kRouteFallback).empty());
    EXPECT_TRUE(rec->with_key("MOSAIC_ASSEMBLED").empty());
  }
}

}  // namespace
}  // namespace zm
