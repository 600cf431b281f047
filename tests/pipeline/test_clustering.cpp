#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "pipeline/classic/clustering.hpp"

namespace zm {
namespace {

// Pointings on a grid with `per` frames each, dithered by ~0.005 deg.
std::vector<FrameSummary> grid_frames(int cols, int rows, int per, double step_deg, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(-0.005, 0.005);
  std::vector<FrameSummary> f;
  int t = 0;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      for (int k = 0; k < per; ++k)
        f.push_back({{150.0 + c * step_deg / std::cos(30.0 * M_PI / 180) + jitter(rng), 30.0 + r * step_deg + jitter(rng)},
                     0.0,
                     static_cast<double>(t++)});
  return f;
}

void expect_partition(const ClusterResult& r, int n) {
  std::vector<int> all;
  for (const auto& g : r.groups) {
    EXPECT_FALSE(g.empty());
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
    all.insert(all.end(), g.begin(), g.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(static_cast<int>(all.size()), n) << "a frame was dropped or duplicated";
  for (int i = 0; i < n; ++i) EXPECT_EQ(all[i], i);
}

TEST(Clustering, GridPointingsBecomeOneGroupEach) {
  auto f = grid_frames(3, 2, 8, 0.6);
  auto r = cluster_frames(f, {});
  expect_partition(r, static_cast<int>(f.size()));
  ASSERT_EQ(r.groups.size(), 6u);
  for (std::size_t g = 0; g < r.groups.size(); ++g) EXPECT_EQ(r.groups[g].size(), 8u);
  EXPECT_EQ(r.groups[0].front(), 0);
}

TEST(Clustering, AcrossRaZeroFramesStayTogether) {
  std::vector<FrameSummary> f = {{{359.99, 10.0}}, {{0.01, 10.0}}, {{0.0, 10.02}}, {{180.0, 10.0}}};
  auto r = cluster_frames(f, {});
  expect_partition(r, 4);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0], (std::vector<int>{0, 1, 2}));
}

TEST(Clustering, AutoRelaxWhenEveryFrameIsAlone) {
  auto f = grid_frames(4, 4, 1, 0.1);  // 16 frames 0.1 deg apart, threshold 0.05: all alone
  auto r = cluster_frames(f, {});
  expect_partition(r, 16);
  EXPECT_LT(r.groups.size(), 16u);
  EXPECT_GT(r.threshold_used_deg, 0.05);
  EXPECT_FALSE(r.notes.empty());
}

TEST(Clustering, OrientationSplitSeparatesRotatedFrames) {
  std::vector<FrameSummary> f = {{{10.0, 0.0}, 0.0}, {{10.001, 0.0}, 1.0}, {{10.0, 0.001}, 40.0}, {{10.001, 0.001}, 41.0}};
  EXPECT_EQ(cluster_frames(f, {}).groups.size(), 1u);
  ClusterParams p;
  p.orientation_split_deg = 5.0;
  auto r = cluster_frames(f, p);
  expect_partition(r, 4);
  EXPECT_EQ(r.groups.size(), 2u);
}

TEST(Clustering, TargetGroupCountIsApproached) {
  auto f = grid_frames(4, 1, 5, 0.3);
  ClusterParams p;
  p.target_groups = 2;
  auto r = cluster_frames(f, p);
  expect_partition(r, 20);
  EXPECT_EQ(r.groups.size(), 2u);
}

TEST(Clustering, OversizedGroupsSplitChronologicallyWithoutLoss) {
  auto f = grid_frames(1, 1, 103, 0.6);
  ClusterParams p;
  p.max_per_group = 25;
  auto r = cluster_frames(f, p);
  expect_partition(r, 103);
  ASSERT_EQ(r.groups.size(), 5u);
  for (const auto& g : r.groups) {
    EXPECT_LE(g.size(), 25u);
    EXPECT_GE(g.size(), 20u);  // near-equal chunks, no tiny remainder
  }
}

TEST(Clustering, SpreadGroupsSplitSpatiallyFirst) {
  // Two pointings 0.04 deg apart chained into one component; frames interleaved in time.
  std::vector<FrameSummary> f;
  for (int k = 0; k < 40; ++k) f.push_back({{100.0 + (k % 2) * 0.04, 0.0}, 0.0, static_cast<double>(k)});
  ClusterParams p;
  p.max_per_group = 20;
  p.field_of_view_deg = 0.06;  // dispersion 0.02 deg > a quarter of the field
  auto r = cluster_frames(f, p);
  expect_partition(r, 40);
  ASSERT_EQ(r.groups.size(), 2u);
  for (const auto& g : r.groups)
    for (int m : g) EXPECT_EQ(m % 2, g.front() % 2) << "spatial split should separate the two pointings";
}

TEST(Clustering, ManyFramesClusterInLinearTime) {
  auto f = grid_frames(20, 20, 50, 0.5);  // 20000 frames
  auto r = cluster_frames(f, {});
  expect_partition(r, 20000);
  EXPECT_EQ(r.groups.size(), 400u);
}

}  // namespace
}  // namespace zm
