// harmonize_tiles against ground truth: tiles rendered from one known sky with known gains/offsets, written as
// master-tile FITS, read back through read_tile_preview.
#include <gtest/gtest.h>

#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "photometry/harmonize.hpp"
#include "photometry_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

constexpr double kGainTol = 0.005;    // relative
constexpr double kOffsetTol = 4.0;    // data units, on levels of ~500-4000 (measured: 1.6)

SkyCoord offset_on_sky(SkyCoord c, double xi_as, double eta_as) {
  const double xi = xi_as / 206264.80624709636, eta = eta_as / 206264.80624709636, d0 = c.dec * test::kDegR;
  return {c.ra + std::atan2(xi, std::cos(d0) - eta * std::sin(d0)) / test::kDegR,
          std::atan2(eta * std::cos(d0) + std::sin(d0), std::hypot(xi, std::cos(d0) - eta * std::sin(d0))) /
              test::kDegR};
}

class Harmonize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>("harmonize");
    const test::Sky sky = test::make_sky(300);
    const double gains[7] = {1.0, 0.87, 1.12, 0.95, 1.08, 0.91, 1.03};
    const double offsets[7] = {0.0, 35.0, -42.0, 18.0, -25.0, 48.0, 10.0};
    const double pas[7] = {0.0, 10.0, -15.0, 25.0, 5.0, -8.0, 0.0};
    const double xs[7] = {-600, 0, 600, -600, 0, 600, 0};
    const double ys[7] = {-210, -210, -210, 210, 210, 210, 0};
    specs_ = new std::vector<test::TileSpec>();
    previews_ = new std::vector<TilePreview>();
    for (int k = 0; k < 7; ++k) {
      test::TileSpec t;
      // Tile 6 is far away: no overlap with anything.
      t.centre = k == 6 ? SkyCoord{sky.centre.ra + 3.0, sky.centre.dec} : offset_on_sky(sky.centre, xs[k], ys[k]);
      t.pa_deg = pas[k];
      for (int c = 0; c < 3; ++c) t.gain[c] = gains[k] * (1.0 + 0.01 * c), t.offset[c] = offsets[k] - 5.0 * c;
      std::vector<std::uint8_t> alpha;
      const ImageF img = test::render_tile(sky, t, alpha, 100 + k);
      const auto path = *dir_ / ("tile_" + std::to_string(k) + ".fits");
      test::write_tile(path, img, test::tile_wcs(t), std::move(alpha), k == 4 ? 30 : 10);
      specs_->push_back(t);
      previews_->push_back(read_tile_preview(path, 100 + k, 200));  // 400x300 -> factor 2
    }
  }
  static void TearDownTestSuite() {
    delete previews_;
    delete specs_;
    dir_.reset();
  }

  // Max relative gain error / max offset error of the connected tiles against the truth relative to `anchor`.
  static void errors(const HarmonizeResult& r, double& gain_err, double& offset_err) {
    gain_err = offset_err = 0;
    const test::TileSpec& a = (*specs_)[r.anchor];
    for (std::size_t k = 0; k < r.tiles.size(); ++k) {
      if (!r.tiles[k].connected) continue;
      for (int c = 0; c < 3; ++c) {
        const double g = (*specs_)[k].gain[c] / a.gain[c];
        const double o = ((*specs_)[k].offset[c] - a.offset[c]) / a.gain[c];
        gain_err = std::max(gain_err, std::abs(r.tiles[k].gain[c] / g - 1.0));
        offset_err = std::max(offset_err, std::abs(r.tiles[k].offset[c] - o));
      }
    }
  }

  static std::unique_ptr<test::TempDir> dir_;
  static std::vector<test::TileSpec>* specs_;
  static std::vector<TilePreview>* previews_;
};
std::unique_ptr<test::TempDir> Harmonize::dir_;
std::vector<test::TileSpec>* Harmonize::specs_ = nullptr;
std::vector<TilePreview>* Harmonize::previews_ = nullptr;

TEST_F(Harmonize, RecoversKnownGainsAndOffsets) {
  HarmonizeOptions o;
  o.anchor = 0;
  const HarmonizeResult r = harmonize_tiles(*previews_, o);
  ASSERT_EQ(r.tiles.size(), 7u);
  EXPECT_EQ(r.anchor, 0);
  for (int k = 0; k < 6; ++k) EXPECT_TRUE(r.tiles[k].connected) << k;
  double ge = 0, oe = 0;
  errors(r, ge, oe);
  std::printf("flux gain:   max gain error %.4f %%, max offset error %.3f\n", 100 * ge, oe);
  EXPECT_LT(ge, kGainTol);
  EXPECT_LT(oe, kOffsetTol);
  for (const PairFit& p : r.pairs) {
    EXPECT_GE(p.samples, o.min_samples);
    EXPECT_GE(p.overlap, o.overlap_min);
    EXPECT_TRUE(std::isfinite(p.residual_before) && std::isfinite(p.residual_after));
    EXPECT_LT(p.residual_after, 3.0 * p.residual_before + 2.0) << p.i << "-" << p.j;
  }
  EXPECT_GE(r.pairs.size(), 3u * 7u);  // 7 overlapping pairs in the 3x2 layout, 3 channels
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["tiles"].size(), 7u);
  EXPECT_EQ(j["anchor_id"], 100);
  EXPECT_EQ(j["pairs"].size(), r.pairs.size());

  int flux_pairs = 0;
  for (const PairFit& p : r.pairs) flux_pairs += p.flux_gain ? 1 : 0;
  EXPECT_GT(flux_pairs, 0);  // few stars per overlap here: some pairs fall back to the regression

  // The pixel-wise regression alone, for comparison (reported, loosely bounded): at this low noise it works.
  o.flux_gain = false;
  const HarmonizeResult regression = harmonize_tiles(*previews_, o);
  errors(regression, ge, oe);
  std::printf("regression:  max gain error %.4f %%, max offset error %.3f\n", 100 * ge, oe);
  EXPECT_LT(ge, 0.05);
}

TEST_F(Harmonize, WithoutCorrectionTheTruthIsFarOff) {
  // Guards the test itself: the distortions are large enough that gain 1 / offset 0 fails the tolerance.
  HarmonizeResult identity;
  identity.anchor = 0;
  for (int k = 0; k < 7; ++k) identity.tiles.push_back({100 + k, {1, 1, 1}, {0, 0, 0}, k == 0, k != 6});
  double ge = 0, oe = 0;
  errors(identity, ge, oe);
  EXPECT_GT(ge, 10 * kGainTol);
  EXPECT_GT(oe, 5 * kOffsetTol);
}

TEST_F(Harmonize, DefaultAnchorAndDisconnectedTile) {
  const HarmonizeResult r = harmonize_tiles(*previews_);
  // Tiles 1 and 4 have the most neighbours (5); tile 4 carries 30 frames.
  EXPECT_EQ(r.anchor, 4);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(r.tiles[4].gain[c], 1.0);
    EXPECT_EQ(r.tiles[4].offset[c], 0.0);
    EXPECT_EQ(r.tiles[6].gain[c], 1.0);
    EXPECT_EQ(r.tiles[6].offset[c], 0.0);
  }
  EXPECT_TRUE(r.tiles[4].anchor);
  EXPECT_FALSE(r.tiles[6].connected);
  EXPECT_FALSE(r.tiles[6].anchor);
  for (const PairFit& p : r.pairs) EXPECT_TRUE(p.i != 6 && p.j != 6);
  double ge = 0, oe = 0;
  errors(r, ge, oe);
  std::printf("anchor 4: max gain error %.4f %%, max offset error %.3f\n", 100 * ge, oe);
  EXPECT_LT(ge, kGainTol);
  EXPECT_LT(oe, kOffsetTol);
}

TEST_F(Harmonize, ClampsHoldOnAPathologicalTile) {
  std::vector<TilePreview> tiles = *previews_;
  for (float& v : tiles[2].image.data) v *= 0.25f;  // tile 2 would need a gain of ~4.5
  HarmonizeOptions o;
  o.anchor = 0;
  o.offset_limit = 20.0;
  const HarmonizeResult r = harmonize_tiles(tiles, o);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(r.tiles[2].gain[c], o.gain_max);
    for (const TileCorrection& t : r.tiles) {
      EXPECT_GE(t.gain[c], o.gain_min);
      EXPECT_LE(t.gain[c], o.gain_max);
      EXPECT_LE(std::abs(t.offset[c]), 20.0);
    }
  }
  // The other tiles are unaffected in gain (gains are solved before any clamp, in log space per pair).
  for (int k : {1, 3, 4, 5})
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(r.tiles[k].gain[c], (*specs_)[k].gain[c] / (*specs_)[0].gain[c], 0.02) << k;
}

TEST_F(Harmonize, BitIdenticalWhateverTheThreadCount) {
  HarmonizeResult one, many;
  tbb::task_arena(1).execute([&] { one = harmonize_tiles(*previews_); });
  many = harmonize_tiles(*previews_);  // default arena: every core
  ASSERT_EQ(one.tiles.size(), many.tiles.size());
  ASSERT_EQ(one.pairs.size(), many.pairs.size());
  EXPECT_EQ(one.anchor, many.anchor);
  for (std::size_t k = 0; k < one.tiles.size(); ++k) {
    EXPECT_EQ(std::memcmp(one.tiles[k].gain.data(), many.tiles[k].gain.data(), sizeof(double) * 3), 0);
    EXPECT_EQ(std::memcmp(one.tiles[k].offset.data(), many.tiles[k].offset.data(), sizeof(double) * 3), 0);
  }
  for (std::size_t k = 0; k < one.pairs.size(); ++k) {
    EXPECT_EQ(one.pairs[k].i, many.pairs[k].i);
    EXPECT_EQ(one.pairs[k].j, many.pairs[k].j);
    EXPECT_EQ(std::memcmp(&one.pairs[k].a, &many.pairs[k].a, sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&one.pairs[k].residual_after, &many.pairs[k].residual_after, sizeof(double)), 0);
  }
}

TEST(HarmonizeArgs, RejectsMixedChannelsAndBadAnchor) {
  const Wcs w = Wcs::make_tan({10, 10}, {5, 5}, test::cd_for(2, 0), 10, 10);
  std::vector<TilePreview> t{{0, ImageF(1, 10, 10, 1.0f), w, 1, 1.0}, {1, ImageF(3, 10, 10, 1.0f), w, 1, 1.0}};
  EXPECT_THROW(harmonize_tiles(t), std::invalid_argument);
  t.pop_back();
  HarmonizeOptions o;
  o.anchor = 3;
  EXPECT_THROW(harmonize_tiles(t, o), std::invalid_argument);
  EXPECT_TRUE(harmonize_tiles({}).tiles.empty());
}

}  // namespace
}  // namespace zm
