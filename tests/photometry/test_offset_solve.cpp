// The global offset solve on analytic graphs (known offsets recovered, consistent inputs left alone by the gate,
// disconnected pieces each kept at zero mean) and overlap_difference on synthetic previews with a sky that differs
// from frame to frame (the harm the per-frame sky median did).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "photometry/offset_solve.hpp"
#include "photometry/overlap_difference.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

// Pairs of a chain and its second neighbours, diff = o_i - o_j + noise.
std::vector<OffsetPair> chain_pairs(const std::vector<double>& truth, double noise, double sigma, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, noise);
  std::vector<OffsetPair> p;
  const int n = static_cast<int>(truth.size());
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j <= std::min(n - 1, i + 2); ++j) p.push_back({i, j, truth[i] - truth[j] + g(rng), sigma});
  return p;
}

TEST(OffsetSolve, RecoversKnownOffsetsAtZeroMean) {
  const std::vector<double> truth = {12.0, -30.0, 5.5, 40.0, -27.5};  // mean 0
  const OffsetSolution s = solve_offsets(5, chain_pairs(truth, 0.0, 0.1, 1), 3.0);
  ASSERT_EQ(s.offset.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(s.offset[k], truth[k], 1e-6) << k;
  EXPECT_EQ(s.corrected, 5);
  EXPECT_EQ(s.not_significant, 0);
  EXPECT_EQ(s.unlinked, 0);
}

TEST(OffsetSolve, NoisyDifferencesAverageDown) {
  std::vector<double> truth;
  for (int k = 0; k < 40; ++k) truth.push_back(10.0 * std::sin(0.7 * k));
  double mean = 0;
  for (double t : truth) mean += t;
  for (double& t : truth) t -= mean / truth.size();
  const OffsetSolution s = solve_offsets(40, chain_pairs(truth, 0.5, 0.5, 7), 0.0);
  double worst = 0;
  for (int k = 0; k < 40; ++k) worst = std::max(worst, std::fabs(s.offset[k] - truth[k]));
  EXPECT_LT(worst, 1.5);  // 3 sigma of a chain's accumulated noise (~0.5 per link, tied every second link)
  EXPECT_GT(s.sigma[10], 0.0);
  EXPECT_LT(s.sigma[10], 0.5);
}

TEST(OffsetSolve, ConsistentInputsAreLeftAlone) {
  // Differences that are noise about zero: nothing is significant at 3 sigma, every offset stays 0.
  const std::vector<double> truth(12, 0.0);
  const OffsetSolution s = solve_offsets(12, chain_pairs(truth, 0.2, 0.2, 3), 3.0);
  for (int k = 0; k < 12; ++k) {
    EXPECT_EQ(s.offset[k], 0.0) << k << " fitted " << s.fitted[k] << " +- " << s.sigma[k];
    EXPECT_FALSE(s.applied[k]);
  }
  EXPECT_EQ(s.corrected, 0);
  EXPECT_EQ(s.not_significant, 12);
  // Without the gate the same fit applies its noise.
  const OffsetSolution all = solve_offsets(12, chain_pairs(truth, 0.2, 0.2, 3), 0.0);
  EXPECT_EQ(all.corrected, 12);
}

TEST(OffsetSolve, DisconnectedPiecesEachKeepTheirMean) {
  // Pieces {0, 1, 2} and {3, 4}, node 5 alone.
  std::vector<OffsetPair> p = {{0, 1, 10.0, 0.1}, {1, 2, 10.0, 0.1}, {3, 4, -8.0, 0.1}};
  const OffsetSolution s = solve_offsets(6, p, 3.0);
  EXPECT_NEAR(s.offset[0], 10.0, 1e-6);
  EXPECT_NEAR(s.offset[1], 0.0, 1e-6);  // inside the gate: left alone
  EXPECT_NEAR(s.fitted[1], 0.0, 1e-6);
  EXPECT_NEAR(s.offset[2], -10.0, 1e-6);
  EXPECT_NEAR(s.offset[3], -4.0, 1e-6);
  EXPECT_NEAR(s.offset[4], 4.0, 1e-6);
  EXPECT_EQ(s.offset[5], 0.0);
  EXPECT_EQ(s.unlinked, 1);
  EXPECT_EQ(s.corrected, 4);
  EXPECT_EQ(s.not_significant, 1);
}

TEST(OffsetSolve, RejectsBadIndicesAndIgnoresBadSigmas) {
  EXPECT_THROW(solve_offsets(2, {{0, 2, 1.0, 1.0}}, 3.0), std::invalid_argument);
  EXPECT_THROW(solve_offsets(2, {{1, 1, 1.0, 1.0}}, 3.0), std::invalid_argument);
  const OffsetSolution s = solve_offsets(2, {{0, 1, 5.0, 0.0}, {0, 1, NAN, 1.0}}, 3.0);
  EXPECT_EQ(s.unlinked, 2);
  EXPECT_EQ(s.offset[0], 0.0);
}

// A TAN preview of w x h px at 1 arcsec/px centred at (ra, dec).
TilePreview preview_at(double ra, double dec, int w, int h, double rot_deg) {
  FitsHeader hd;
  hd.set("CTYPE1", std::string("RA---TAN"));
  hd.set("CTYPE2", std::string("DEC--TAN"));
  hd.set("CRVAL1", ra);
  hd.set("CRVAL2", dec);
  hd.set("CRPIX1", 0.5 * (w + 1));
  hd.set("CRPIX2", 0.5 * (h + 1));
  const double s = 1.0 / 3600.0, c = std::cos(rot_deg * M_PI / 180.0), n = std::sin(rot_deg * M_PI / 180.0);
  hd.set("CD1_1", -s * c);
  hd.set("CD1_2", s * n);
  hd.set("CD2_1", s * n);
  hd.set("CD2_2", s * c);
  return TilePreview{0, ImageF(1, w, h, 0.0f), Wcs::from_header(hd, "test", w, h), 1, 1.0};
}

// Sky = 500 + a bright blob in a's part of the sky; b (turned 20 degrees) sees the same sky as (sky + 20) / 0.9.
// The frames' medians differ by the blob; the overlap difference after b's gain 0.9 is the +20 ADU they share.
TEST(OverlapDifference, MeasuresTheSharedDifferenceNotTheSkyMedians) {
  TilePreview a = preview_at(180.0, 0.0, 120, 100, 0.0);
  TilePreview b = preview_at(180.0 + 50.0 / 3600.0, 0.0, 120, 100, 20.0);
  const auto sky = [](Wcs& w, double x, double y) {
    const SkyCoord p = w.pixel_to_world({x, y});
    const double dx = (p.ra - 180.0) * 3600.0 + 40.0, dy = p.dec * 3600.0;
    return 500.0 + 3000.0 * std::exp(-(dx * dx + dy * dy) / (2 * 15.0 * 15.0));
  };
  Wcs wa = a.wcs, wb = b.wcs;
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 120; ++x) {
      a.image.at(0, y, x) = static_cast<float>(sky(wa, x, y));
      b.image.at(0, y, x) = static_cast<float>((sky(wb, x, y) + 20.0) / 0.9);
    }
  const OverlapDifference d = overlap_difference(a, b, {1.0, 1.0, 1.0}, {0.9, 0.9, 0.9});
  ASSERT_TRUE(d.ok);
  EXPECT_GT(d.samples, 2000);
  EXPECT_NEAR(d.diff[0], 20.0, 0.5);
  EXPECT_NEAR(d.level[0], 500.0, 5.0);
  EXPECT_GT(d.sigma[0], 0.0);
  // Far apart: no overlap.
  const TilePreview far = preview_at(181.0, 0.0, 120, 100, 0.0);
  EXPECT_FALSE(overlap_difference(a, far, {1, 1, 1}, {1, 1, 1}).ok);
}

}  // namespace
}  // namespace zm
