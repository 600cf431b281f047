// Issue 5's photometric criterion at several seeds: after Phase 4.5 and assembly, the per-tile gains of the
// mosaic against the simulator's truth agree within 0.5 % for every one of five independent skies, frame noises
// and transparencies (9 frames per tile, the dense field of test_mosaic_run). At 3 frames per tile the stars'
// shot noise in the overlaps limits Phase 4.5 to 0.4-1.1 % (see test_mosaic_run); this is the depth at which the
// photometry, not the photon noise, is what is tested.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "io/fits_reader.hpp"
#include "mosaic_fixture.hpp"
#include "pipeline_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

class PhotometrySeeds : public ::testing::TestWithParam<unsigned> {};

TEST_P(PhotometrySeeds, TileGainsAgreeWithinHalfAPercent) {
  const unsigned seed = GetParam();
  test::TempDir dir("photometry_seed" + std::to_string(seed));
  const sim::DatasetPlan plan = sim::plan_dataset(test::dense_mosaic_config(seed, 9));
  const sim::DatasetFiles files = sim::write_dataset(plan, dir.path() / "data");
  const test::PipelineRun run =
      test::run_pipeline_in(dir.path() / "data" / sim::kLightsFolder, dir.path() / "out", 2);
  ASSERT_EQ(run.outcome.master_tiles.size(), 4u);

  FitsImageReader sr(run.outcome.science);
  const ImageF mosaic = sr.read_all(false);
  Wcs grid = Wcs::from_header(sr.info().header, sr.info().path, mosaic.width, mosaic.height);
  const ImageF truth = test::truth_on_grid(files.dir / files.truth, grid, mosaic.width, mosaic.height);
  const auto inside = test::tile_interiors(run.outcome.master_tiles, grid, mosaic.width, mosaic.height);
  const test::TileGains g = test::tile_gains(mosaic, truth, grid, plan.sky.stars, inside);
  for (const test::CatalogueGain& t : g.tiles) {
    ASSERT_GT(t.gain, 0.0);
    EXPECT_LT(t.sigma / t.gain, 0.005 / 3) << "the metric cannot resolve 0.5 %: " << g.listed;
  }
  RecordProperty("gain_spread", std::to_string(g.spread));
  if (std::getenv("ZM_TEST_VERBOSE")) std::printf("seed %u: %s-> spread %.4f\n", seed, g.listed.c_str(), g.spread);
  // Measured: 0.30 / 0.31 / 0.34 / 0.34 / 0.31 % for seeds 11-15.
  EXPECT_LT(g.spread, 0.005) << "seed " << seed << ", per-tile gains vs truth: " << g.listed;
}

INSTANTIATE_TEST_SUITE_P(Seeds, PhotometrySeeds, ::testing::Values(11u, 12u, 13u, 14u, 15u));

}  // namespace
}  // namespace zm
