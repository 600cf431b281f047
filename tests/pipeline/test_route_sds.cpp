// SDS route on the simulated 2x2 x 2-night dataset: batching, mega-tiles, matching, stack and mask, vs the truth.
#include "test_route_fixture.hpp"

#include <fmt/format.h>

#include <fstream>
#include <limits>

#include "pipeline/routes/sds/megatile_stack.hpp"
#include "pipeline/routes/sds/sds_route.hpp"

namespace zm::route_test {
namespace {

struct SdsRun {
  OutputGrid grid;
  MosaicArtifacts art;
  SdsStats stats;
  ImageF image, coverage;
};

SdsRun run_sds_on(const fs::path& cache, int workers, const std::map<std::string, nlohmann::json>& extra) {
  Dataset& d = Dataset::get();
  Ctx c(d.input(), d.out(), cache, workers, extra);
  if (!fs::exists(cache / "frames")) fs::create_directory_symlink(d.cache() / "frames", cache / "frames");
  SdsRun r{global_grid(c.ctx.options.global_grid, d.frames), {}, {}, {}, {}};
  r.art = run_sds(c.ctx, c.ctx.options, d.frames, d.ingest_key, r.grid, r.stats);
  r.image = read_planes(r.art.image, r.art.width, r.art.height, r.art.channels);
  r.coverage = read_planes(r.art.coverage, r.art.width, r.art.height, 1);
  return r;
}

// The 2x2 layout peaks at 24 frames where all pointings meet but holds 6 inside a single pointing: the default
// keep fraction (0.4 of the peak) would mask every single-pointing interior, so the fixture keeps down to 0.2.
class Sds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    run_ = new SdsRun(run_sds_on(Dataset::get().dir.path() / "sds_a", 2,
                                 {{"sds_batch_by_night", true}, {"global_coadd_rows_per_chunk", 300}, {"sds_min_coverage_keep", 0.2}}));
  }
  static void TearDownTestSuite() { delete run_; }
  static SdsRun* run_;
};
SdsRun* Sds::run_ = nullptr;

TEST_F(Sds, OneMegaTilePerNightAndNoFrameDropped) {
  const auto& b = run_->stats.batches;
  ASSERT_EQ(b.size(), 2u);
  std::vector<int> seen;
  for (std::size_t k = 0; k < b.size(); ++k) {
    EXPECT_EQ(b[k].night, static_cast<int>(k));
    EXPECT_GE(b[k].coverage, 0.92);
    seen.insert(seen.end(), b[k].members.begin(), b[k].members.end());
  }
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), Dataset::get().frames.size());
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int>(i));
  int used = 0;
  for (const auto& m : run_->stats.megatiles) used += m.frames_used;
  EXPECT_EQ(used, static_cast<int>(seen.size()));
}

TEST_F(Sds, InputOrderBatchingClosesOnCoverage) {
  const Dataset& d = Dataset::get();
  SdsBatchOptions o;  // defaults: 0.92, >= 5 frames, in input order
  const auto b = plan_sds_batches(d.frames, run_->grid, o);
  ASSERT_GE(b.size(), 2u);
  for (std::size_t k = 0; k + 1 < b.size(); ++k) EXPECT_GE(b[k].coverage, 0.92);
  // The first batch closes at the first frame of the 4th pointing (frames 0..9).
  EXPECT_EQ(b[0].members.size(), 10u);
}

TEST_F(Sds, GainsAgreeWithTheTruthAcrossTheCanvas) {
  // Issue 6 asks for 1 %. Measured with catalogue-star fluxes: 0.62 % (quadrants 0.969 0.973 0.971 0.975
  // +- 0.09 %; 1.15 % before the frame star-flux matching it shares with Mosaic-First used one aperture radius
  // and dropped stars at frame edges), which is still the main error left.
  expect_quadrant_gains_agree(run_->image, run_->grid, 0.01);
}

TEST_F(Sds, StarsLandWhereTheTruthSays) {
  int n = 0;
  const double rms = star_rms(Dataset::get(), run_->image, run_->grid.wcs, &n);
  ASSERT_GE(n, 8);
  RecordProperty("star_rms_px", std::to_string(rms));
  EXPECT_LT(rms, 0.2) << n << " stars";
}

// Issue 14: the mask is relative to the coverage expected at each place, so no pixel any batch saw is lost here
// (two nights, each a complete sweep), however thin its coverage against the deepest place.
TEST_F(Sds, EveryPixelABatchSawIsKept) {
  const float peak = *std::max_element(run_->coverage.data.begin(), run_->coverage.data.end());
  long long thin = 0;
  for (std::size_t i = 0; i < run_->coverage.data.size(); ++i) {
    const float c = run_->coverage.data[i];
    if (c <= 0) continue;
    thin += c < 0.2f * peak ? 1 : 0;
    EXPECT_TRUE(std::isfinite(run_->image.data[i])) << "pixel " << i << " coverage " << c;
    if (HasFailure()) break;
  }
  EXPECT_GT(thin, 0) << "the fixture should have thinly covered edges";
  EXPECT_EQ(run_->stats.masked_pixels, 0);
}

// The rule itself on synthetic mega-tiles: three batches expected everywhere; where only one has data the pixel is
// masked at keep 0.5, kept at keep 0.3.
TEST(MegatileStack, MasksWhereFewerMegaTilesThanExpectedHaveData) {
  test::TempDir dir("megastack");
  const int W = 8, H = 6;
  std::vector<MosaicArtifacts> tiles;
  for (int k = 0; k < 3; ++k) {
    MosaicArtifacts a{dir / fmt::format("m{}.f32", k), dir / fmt::format("w{}.f32", k), dir / fmt::format("c{}.f32", k),
                      W, H, 1, "", false};
    std::vector<float> img(W * H, 10.0f + k), cov(W * H, 1.0f);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < 4; ++x)
        if (k > 0) {  // mega-tiles 1 and 2 have no data on the left half
          img[y * W + x] = std::numeric_limits<float>::quiet_NaN();
          cov[y * W + x] = 0.0f;
        }
    std::ofstream(a.image, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), img.size() * 4);
    std::ofstream(a.weight, std::ios::binary).write(reinterpret_cast<const char*>(cov.data()), cov.size() * 4);
    std::ofstream(a.coverage, std::ios::binary).write(reinterpret_cast<const char*>(cov.data()), cov.size() * 4);
    tiles.push_back(a);
  }
  const BatchCoverage expected{W, 1, 1, {3}};  // one cell: three batches expected everywhere
  std::vector<TileCorrection> corr(3);
  RejectParams mean;
  mean.algo = RejectAlgo::None;
  for (const double keep : {0.5, 0.3}) {
    const MosaicArtifacts out{dir / "o.f32", dir / "ow.f32", dir / "oc.f32", W, H, 1, "", false};
    const MegatileStackStats s = stack_megatiles(tiles, corr, mean, keep, expected, 4, 1, out);
    const ImageF o = read_planes(out.image, W, H, 1);
    EXPECT_EQ(s.masked_pixels, keep == 0.5 ? 4 * H : 0);
    EXPECT_EQ(std::isnan(o.at(0, 2, 1)), keep == 0.5);
    EXPECT_FLOAT_EQ(o.at(0, 2, 6), 11.0f);  // right half: the mean of the three
  }
}

TEST_F(Sds, BitIdenticalWithOneWorkerAndAnotherBandHeight) {
  const SdsRun other = run_sds_on(Dataset::get().dir.path() / "sds_b", 1,
                                  {{"sds_batch_by_night", true}, {"global_coadd_rows_per_chunk", 41}, {"sds_min_coverage_keep", 0.2}});
  EXPECT_GT(other.stats.megatiles[0].bands, run_->stats.megatiles[0].bands);
  EXPECT_TRUE(same_bits(other.image, run_->image));
  EXPECT_TRUE(same_bits(other.coverage, run_->coverage));
}

TEST_F(Sds, FailsWithAReasonWhenNothingLandsOnTheGrid) {
  const Dataset& d = Dataset::get();
  const fs::path cache = d.dir.path() / "sds_fail";
  Ctx c(d.input(), d.out(), cache, 1);
  if (!fs::exists(cache / "frames")) fs::create_directory_symlink(d.cache() / "frames", cache / "frames");
  // A grid far from every frame.
  OutputGrid far = run_->grid;
  far.wcs = Wcs::make_tan({(run_->grid.centre.ra + 90.0), -run_->grid.centre.dec}, {50, 50},
                          {-1e-3, 0, 0, 1e-3}, 100, 100);
  far.width = far.height = 100;
  try {
    run_sds(c.ctx, c.ctx.options, d.frames, d.ingest_key, far);
    FAIL() << "expected RouteFailed";
  } catch (const RouteFailed& e) {
    EXPECT_EQ(e.route(), Route::sds);
    EXPECT_NE(std::string(e.what()).find("SDS"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace zm::route_test
