#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "stars/match.hpp"

namespace {

using zm::Affine2D;
using zm::Point2;
using zm::Star;

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr int kW = 1080, kH = 1920;

std::vector<Star> random_field(int n, unsigned seed, double x0 = 0.0, double y0 = 0.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ux(x0, x0 + kW), uy(y0, y0 + kH), lf(std::log(1e3), std::log(1e6));
  std::vector<Star> s(n);
  for (Star& st : s) {
    st.x = ux(rng);
    st.y = uy(rng);
    st.flux = std::exp(lf(rng));
  }
  return s;
}

// Target list seen through `target_to_ref`: a fraction of the stars missing, spurious ones added, positional
// noise, fluxes jittered by 20 % so the brightness order differs. truth[t] is the ref index of target star t
// (-1 for spurious stars).
struct Scenario {
  std::vector<Star> ref, target;
  std::vector<int> truth;
  int common = 0;
};

Scenario make_scenario(const Affine2D& target_to_ref, double missing, double spurious, double noise, unsigned seed) {
  Scenario sc;
  sc.ref = random_field(250, seed);
  const Affine2D ref_to_target = target_to_ref.inverse();
  std::mt19937 rng(seed + 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, noise);
  for (int i = 0; i < static_cast<int>(sc.ref.size()); ++i) {
    if (u(rng) < missing) continue;
    const Point2 p = ref_to_target.apply({sc.ref[i].x, sc.ref[i].y});
    Star s;
    s.x = p.x + n(rng);
    s.y = p.y + n(rng);
    s.flux = sc.ref[i].flux * (0.8 + 0.4 * u(rng));
    sc.target.push_back(s);
    sc.truth.push_back(i);
  }
  sc.common = static_cast<int>(sc.target.size());
  // Spurious stars fall anywhere in the target frame (the box the common stars span there).
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const Star& s : sc.target) {
    xmin = std::min(xmin, s.x), xmax = std::max(xmax, s.x), ymin = std::min(ymin, s.y), ymax = std::max(ymax, s.y);
  }
  const int n_spurious = static_cast<int>(std::lround(spurious * sc.ref.size()));
  std::uniform_real_distribution<double> lf(std::log(1e3), std::log(1e6));
  for (int k = 0; k < n_spurious; ++k) {
    Star s;
    s.x = xmin + (xmax - xmin) * u(rng);
    s.y = ymin + (ymax - ymin) * u(rng);
    s.flux = std::exp(lf(rng));
    sc.target.push_back(s);
    sc.truth.push_back(-1);
  }
  // Shuffle so that list order carries no information.
  std::vector<int> order(sc.target.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<Star> t2;
  std::vector<int> tr2;
  for (int i : order) {
    t2.push_back(sc.target[i]);
    tr2.push_back(sc.truth[i]);
  }
  sc.target = std::move(t2);
  sc.truth = std::move(tr2);
  return sc;
}

// RMS and largest error of the recovered transform over a grid of test points covering the target frame.
struct TransformError {
  double rms = 0.0, max = 0.0;
};

TransformError transform_error(const Affine2D& got, const Affine2D& truth, const std::vector<Star>& target) {
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (const Star& s : target) {
    xmin = std::min(xmin, s.x), xmax = std::max(xmax, s.x), ymin = std::min(ymin, s.y), ymax = std::max(ymax, s.y);
  }
  TransformError e;
  for (int i = 0; i <= 10; ++i)
    for (int j = 0; j <= 10; ++j) {
      const Point2 p{xmin + (xmax - xmin) * i / 10.0, ymin + (ymax - ymin) * j / 10.0};
      const Point2 a = got.apply(p), b = truth.apply(p);
      const double d = std::hypot(a.x - b.x, a.y - b.y);
      e.max = std::max(e.max, d);
      e.rms += d * d;
    }
  e.rms = std::sqrt(e.rms / 121.0);
  return e;
}

void expect_correct(const zm::MatchResult& r, const Scenario& sc, const Affine2D& truth, const std::string& what) {
  ASSERT_TRUE(r.ok) << what << ": " << r.reason;
  // With 0.1 px noise on ~175 common stars the fit itself is good to ~0.02 px; the frame corners see the most.
  const TransformError e = transform_error(r.transform, truth, sc.target);
  EXPECT_LT(e.rms, 0.05) << what;
  EXPECT_LT(e.max, 0.1) << what;
  int wrong = 0;
  for (const zm::StarPair& p : r.pairs) wrong += sc.truth[p.target] != p.ref;
  EXPECT_EQ(wrong, 0) << what;
  EXPECT_GE(r.n_inliers, static_cast<int>(0.97 * sc.common)) << what << " of " << sc.common;
  EXPECT_EQ(r.n_inliers, static_cast<int>(r.pairs.size()));
  EXPECT_LT(r.rms, 0.25) << what;
}

TEST(StarsMatch, AnyRotationFlipScaleWithMissingAndSpuriousStars) {
  unsigned seed = 100;
  for (bool flip : {false, true}) {
    for (double deg : {0.0, 37.0, 90.0, 179.5, -123.0}) {
      for (double scale : {0.98, 1.0, 1.02}) {
        const Affine2D truth = Affine2D::similarity(scale, deg * kDeg, flip, 2500.0 - 10 * deg, -3100.0 + 7 * deg);
        const Scenario sc = make_scenario(truth, 0.3, 0.3, 0.1, ++seed);
        const zm::MatchResult r = zm::match_stars(sc.ref, sc.target);
        const std::string what = "rot " + std::to_string(deg) + " flip " + std::to_string(flip) + " scale " +
                                 std::to_string(scale);
        expect_correct(r, sc, truth, what);
        EXPECT_EQ(r.transform.is_flipped(), flip) << what;
        EXPECT_NEAR(r.transform.scale(), scale, 1e-4) << what;
      }
    }
  }
}

TEST(StarsMatch, FlipRejectedWhenNotAllowed) {
  const Affine2D truth = Affine2D::similarity(1.0, 20.0 * kDeg, true, 100.0, 50.0);
  const Scenario sc = make_scenario(truth, 0.1, 0.1, 0.1, 7);
  zm::MatchParams p;
  p.allow_flip = false;
  EXPECT_FALSE(zm::match_stars(sc.ref, sc.target, p).ok);
  p.allow_flip = true;
  EXPECT_TRUE(zm::match_stars(sc.ref, sc.target, p).ok);
}

TEST(StarsMatch, AffineModelRecoversSmallShear) {
  const Affine2D truth{1.0012, 0.0015, 812.0, -0.0008, 0.9991, -420.0};
  const Scenario sc = make_scenario(truth, 0.3, 0.3, 0.05, 8);
  zm::MatchParams p;
  p.model = zm::MatchModel::Affine;
  const zm::MatchResult r = zm::match_stars(sc.ref, sc.target, p);
  expect_correct(r, sc, truth, "affine");
  p.model = zm::MatchModel::Similarity;
  const zm::MatchResult s = zm::match_stars(sc.ref, sc.target, p);
  ASSERT_TRUE(s.ok) << s.reason;
  EXPECT_GT(s.rms, r.rms);  // the similarity cannot absorb the shear
}

TEST(StarsMatch, WeightsFromSnrDoNotBias) {
  const Affine2D truth = Affine2D::similarity(1.0, -60.0 * kDeg, false, -700.0, 1200.0);
  Scenario sc = make_scenario(truth, 0.2, 0.2, 0.1, 9);
  for (Star& s : sc.ref) s.fwhm = 3.0, s.snr = std::sqrt(s.flux);
  for (Star& s : sc.target) s.fwhm = 3.0, s.snr = std::sqrt(s.flux);
  expect_correct(zm::match_stars(sc.ref, sc.target), sc, truth, "weighted");
}

TEST(StarsMatch, UnrelatedFieldsFailCleanly) {
  for (unsigned seed = 200; seed < 206; ++seed) {
    const std::vector<Star> a = random_field(seed % 2 ? 150 : 600, seed);
    const std::vector<Star> b = random_field(seed % 2 ? 150 : 600, seed + 1000);
    const zm::MatchResult r = zm::match_stars(a, b);
    EXPECT_FALSE(r.ok) << seed << " inliers " << r.n_inliers << " rms " << r.rms;
    EXPECT_FALSE(r.reason.empty());
  }
  const std::vector<Star> few = random_field(2, 1);
  const zm::MatchResult r = zm::match_stars(few, random_field(50, 2));
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("too few"), std::string::npos);
}

TEST(StarsMatch, Deterministic) {
  const Affine2D truth = Affine2D::similarity(1.01, 77.0 * kDeg, true, 3000.0, 4000.0);
  const Scenario sc = make_scenario(truth, 0.3, 0.3, 0.1, 11);
  const zm::MatchResult a = zm::match_stars(sc.ref, sc.target);
  const zm::MatchResult b = zm::match_stars(sc.ref, sc.target);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.transform.a, b.transform.a);
  EXPECT_EQ(a.transform.c, b.transform.c);
  EXPECT_EQ(a.transform.f, b.transform.f);
  EXPECT_EQ(a.rms, b.rms);
  ASSERT_EQ(a.pairs.size(), b.pairs.size());
  for (std::size_t i = 0; i < a.pairs.size(); ++i) {
    EXPECT_EQ(a.pairs[i].ref, b.pairs[i].ref);
    EXPECT_EQ(a.pairs[i].target, b.pairs[i].target);
  }
}

}  // namespace
