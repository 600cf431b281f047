#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "stars/transform.hpp"

namespace {

using zm::Affine2D;
using zm::FlipMode;
using zm::Point2;

constexpr double kDeg = std::numbers::pi / 180.0;

void expect_same(const Affine2D& t, const Affine2D& u, double tol) {
  EXPECT_NEAR(t.a, u.a, tol);
  EXPECT_NEAR(t.b, u.b, tol);
  EXPECT_NEAR(t.c, u.c, tol * 1000);
  EXPECT_NEAR(t.d, u.d, tol);
  EXPECT_NEAR(t.e, u.e, tol);
  EXPECT_NEAR(t.f, u.f, tol * 1000);
}

std::vector<Point2> sample_points() {
  std::vector<Point2> p;
  for (int i = 0; i < 12; ++i) p.push_back({37.0 * i + 3.0 * (i % 3), 1900.0 - 151.0 * i + 17.0 * (i % 4)});
  return p;
}

TEST(StarsTransform, SimilarityConstructionMatchesDefinition) {
  const Affine2D t = Affine2D::similarity(2.0, 90.0 * kDeg, false, 10.0, -5.0);
  const Point2 p = t.apply({1.0, 0.0});  // +x turns towards +y
  EXPECT_NEAR(p.x, 10.0, 1e-12);
  EXPECT_NEAR(p.y, -3.0, 1e-12);
  const Affine2D m = Affine2D::similarity(1.0, 0.0, true, 0.0, 0.0);
  const Point2 q = m.apply({3.0, 4.0});
  EXPECT_DOUBLE_EQ(q.x, 3.0);
  EXPECT_DOUBLE_EQ(q.y, -4.0);
}

TEST(StarsTransform, InverseAndCompose) {
  const Affine2D t{1.01, 0.2, 1234.5, -0.15, 0.97, -876.0};
  const Affine2D u = Affine2D::similarity(0.99, 123.0 * kDeg, true, -40.0, 2500.0);
  const Affine2D id = t.inverse().compose(t);
  expect_same(id, Affine2D::identity(), 1e-12);
  for (const Point2& p : sample_points()) {
    const Point2 a = t.compose(u).apply(p);
    const Point2 b = t.apply(u.apply(p));
    EXPECT_NEAR(a.x, b.x, 1e-9);
    EXPECT_NEAR(a.y, b.y, 1e-9);
    const Point2 back = u.inverse().apply(u.apply(p));
    EXPECT_NEAR(back.x, p.x, 1e-9);
    EXPECT_NEAR(back.y, p.y, 1e-9);
  }
  EXPECT_THROW((Affine2D{1.0, 2.0, 0.0, 2.0, 4.0, 0.0}.inverse()), std::domain_error);
}

TEST(StarsTransform, SimilarityParametersRoundTrip) {
  for (bool flip : {false, true}) {
    for (double deg : {0.0, 37.0, 90.0, 179.5, -123.0, 180.0}) {
      const Affine2D t = Affine2D::similarity(1.02, deg * kDeg, flip, 5.0, 6.0);
      EXPECT_NEAR(t.scale(), 1.02, 1e-12);
      EXPECT_EQ(t.is_flipped(), flip);
      // 180 degrees may come back as -180 (same rotation).
      EXPECT_NEAR(std::remainder(t.rotation() / kDeg - deg, 360.0), 0.0, 1e-9) << deg << " flip " << flip;
      EXPECT_NEAR(t.shear(), 0.0, 1e-12);
    }
  }
  EXPECT_NEAR((Affine2D{1.0, 0.02, 0.0, 0.0, 1.0, 0.0}.shear()), 0.01, 1e-4);
}

TEST(StarsTransform, FitSimilarityRecoversExactParameters) {
  const std::vector<Point2> src = sample_points();
  for (bool flip : {false, true}) {
    for (double deg : {0.0, 37.0, -123.0, 179.5}) {
      const Affine2D truth = Affine2D::similarity(0.98, deg * kDeg, flip, 3000.0, -1500.0);
      std::vector<Point2> dst;
      for (const Point2& p : src) dst.push_back(truth.apply(p));
      const auto fit = zm::fit_similarity(src, dst, {}, flip ? FlipMode::Flip : FlipMode::NoFlip);
      ASSERT_TRUE(fit.has_value());
      expect_same(*fit, truth, 1e-12);
      const auto either = zm::fit_similarity(src, dst, {}, FlipMode::Either);
      ASSERT_TRUE(either.has_value());
      EXPECT_EQ(either->is_flipped(), flip);
      expect_same(*either, truth, 1e-12);
      EXPECT_LT(zm::weighted_rms(*fit, src, dst), 1e-9);
    }
  }
}

TEST(StarsTransform, FitAffineRecoversExactParametersAndIgnoresZeroWeights) {
  std::vector<Point2> src = sample_points();
  const Affine2D truth{1.003, -0.021, -250.0, 0.017, 0.996, 4100.0};
  std::vector<Point2> dst;
  for (const Point2& p : src) dst.push_back(truth.apply(p));
  std::vector<double> w(src.size(), 1.0);
  // An outlier with zero weight must not move the fit; unequal weights must not bias an exact fit.
  src.push_back({100.0, 100.0});
  dst.push_back({-9999.0, 12345.0});
  w.push_back(0.0);
  for (std::size_t i = 0; i < w.size() - 1; ++i) w[i] = 1.0 + static_cast<double>(i);
  const auto fit = zm::fit_affine(src, dst, w);
  ASSERT_TRUE(fit.has_value());
  expect_same(*fit, truth, 1e-12);
  const auto sim = zm::fit_similarity(src, dst, w);
  ASSERT_TRUE(sim.has_value());
  EXPECT_NEAR(sim->scale(), std::sqrt(truth.determinant()), 5e-3);
}

TEST(StarsTransform, WeightedSimilarityFollowsHeavyPoints) {
  // Two exact pairs carry almost all the weight; a third inconsistent pair barely moves the solution.
  const std::vector<Point2> src = {{0.0, 0.0}, {100.0, 0.0}, {0.0, 100.0}};
  const std::vector<Point2> dst = {{10.0, 10.0}, {110.0, 10.0}, {13.0, 110.0}};
  const std::vector<double> w = {1e6, 1e6, 1e-6};
  const auto fit = zm::fit_similarity(src, dst, w);
  ASSERT_TRUE(fit.has_value());
  EXPECT_NEAR(fit->c, 10.0, 1e-6);
  EXPECT_NEAR(fit->a, 1.0, 1e-6);
  EXPECT_NEAR(fit->d, 0.0, 1e-6);
}

TEST(StarsTransform, DegenerateInputGivesNoFit) {
  const std::vector<Point2> one = {{1.0, 2.0}};
  EXPECT_FALSE(zm::fit_similarity(one, one).has_value());
  const std::vector<Point2> same = {{1.0, 2.0}, {1.0, 2.0}, {1.0, 2.0}};
  EXPECT_FALSE(zm::fit_similarity(same, same).has_value());
  const std::vector<Point2> line = {{0.0, 0.0}, {1.0, 1.0}, {2.0, 2.0}, {5.0, 5.0}};
  EXPECT_FALSE(zm::fit_affine(line, line).has_value());
  EXPECT_TRUE(zm::fit_similarity(line, line).has_value());  // a similarity is fixed by two distinct points
  const std::vector<Point2> two = {{0.0, 0.0}, {1.0, 1.0}};
  EXPECT_FALSE(zm::fit_similarity(two, line).has_value());  // size mismatch
}

}  // namespace
