// robust_line_fit and the overlap graph helpers against exact answers.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "photometry/overlap_graph.hpp"
#include "photometry/robust_fit.hpp"

namespace zm {
namespace {

TEST(RobustFit, ExactLineThroughOutliers) {
  std::vector<float> x, y;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1000.0f);
  for (int k = 0; k < 2000; ++k) {
    const float v = u(rng);
    x.push_back(v);
    y.push_back(1.25f * v - 40.0f + ((k % 50 == 0) ? 5000.0f : 0.0f) + 0.01f * static_cast<float>(k % 7 - 3));
  }
  const LineFit f = robust_line_fit(x, y, 2.5, 64);
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.a, 1.25, 1e-4);
  EXPECT_NEAR(f.b, -40.0, 0.05);
  EXPECT_LE(f.kept, 2000 - 40);  // the 40 outliers are gone
  EXPECT_NEAR(robust_rms(x, y, f.a, f.b), 0.0, 0.05);
  EXPECT_NEAR(robust_rms(x, y, f.a, f.b + 10.0), 10.0, 0.1);  // a systematic offset counts
}

TEST(RobustFit, AttenuationIsNoiseOverSampleVariance) {
  // 0, 1, ..., 9: sample variance 55/6.
  std::vector<float> v(10);
  for (int i = 0; i < 10; ++i) v[i] = static_cast<float>(i);
  EXPECT_NEAR(attenuation(v, 1.0), 6.0 / 55.0, 1e-12);
  EXPECT_DOUBLE_EQ(attenuation(v, 100.0), 1.0);                 // capped at 1
  EXPECT_DOUBLE_EQ(attenuation(std::vector<float>(5, 3.0f), 1.0), 1.0);  // no spread
  EXPECT_DOUBLE_EQ(attenuation(std::vector<float>{1.0f}, 1.0), 1.0);     // too few samples
}

TEST(RobustFit, DegenerateInputIsNotOk) {
  std::vector<float> x(100, 5.0f), y(100, 7.0f);
  EXPECT_FALSE(robust_line_fit(x, y, 2.5, 64).ok);  // no x spread
  std::vector<float> x2{1, 2, 3}, y2{1, 2, 3};
  EXPECT_FALSE(robust_line_fit(x2, y2, 2.5, 64).ok);  // too few samples
}

TEST(OverlapGraph, PruningKeepsTopKAndConnectivity) {
  // A chain 0-1-2-3 of weak edges plus a clique 0,1,2 of strong ones.
  std::vector<OverlapEdge> e{{0, 1, 100}, {0, 2, 90}, {1, 2, 80}, {2, 3, 1}, {1, 3, 0.5}};
  const std::vector<int> k1 = prune_edges(e, 4, 1);
  // top-1: node0 -> e0, node1 -> e0, node2 -> e1, node3 -> e3; the spanning forest adds nothing new.
  EXPECT_EQ(k1, (std::vector<int>{0, 1, 3}));
  const std::vector<int> label = connected_components(e, k1, 4);
  EXPECT_EQ(label, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_EQ(prune_edges(e, 4, 0).size(), e.size());
  const std::vector<int> none = connected_components(e, {}, 4);
  EXPECT_EQ(none, (std::vector<int>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace zm
