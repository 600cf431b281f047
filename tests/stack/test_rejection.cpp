// Each rejection algorithm on constructed pixel stacks with known answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "stack/rejection.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

constexpr RejectAlgo kAllAlgos[] = {RejectAlgo::None, RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                                    RejectAlgo::LinearFitClip};
constexpr RejectAlgo kRejecting[] = {RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                                     RejectAlgo::LinearFitClip};

RejectParams params(RejectAlgo algo, CombineMethod combine = CombineMethod::Mean, float kl = 3.0f,
                    float kh = 3.0f) {
  RejectParams p;
  p.algo = algo;
  p.combine = combine;
  p.kappa_low = kl;
  p.kappa_high = kh;
  return p;
}

PixelResult run(const std::vector<float>& s, const RejectParams& p, const std::vector<float>& w = {}) {
  return combine_pixel(s, w, p);
}

double mean_of(const std::vector<float>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

class EveryAlgo : public ::testing::TestWithParam<std::tuple<RejectAlgo, CombineMethod>> {
 protected:
  RejectParams p() const { return params(std::get<0>(GetParam()), std::get<1>(GetParam())); }
};

TEST_P(EveryAlgo, NoSampleGivesNaNAndNothingKept) {
  const PixelResult r = run({}, p());
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.kept, 0);
}

TEST_P(EveryAlgo, AllMissingGivesNaN) {
  const PixelResult r = run({kNaN, kNaN, kInf, -kInf, kNaN}, p());
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.kept, 0);
  EXPECT_EQ(r.rejected_low + r.rejected_high, 0);
}

TEST_P(EveryAlgo, SingleSampleIsReturned) {
  const PixelResult r = run({kNaN, 7.25f, kNaN}, p());
  EXPECT_EQ(r.value, 7.25f);
  EXPECT_EQ(r.kept, 1);
}

TEST_P(EveryAlgo, TwoSamplesAreNeverRejected) {
  const PixelResult r = run({1.0f, 1000.0f}, p());
  EXPECT_EQ(r.kept, 2);
  EXPECT_EQ(r.value, 500.5f);  // mean and median of two samples agree
}

TEST_P(EveryAlgo, AllEqualKeepsEverythingExactly) {
  for (int n : {3, 4, 5, 20, 101}) {
    const PixelResult r = run(std::vector<float>(n, 42.5f), p());
    EXPECT_EQ(r.value, 42.5f) << n;
    EXPECT_EQ(r.kept, n) << n;
    EXPECT_EQ(r.rejected_low + r.rejected_high, 0) << n;
  }
}

TEST_P(EveryAlgo, CleanGaussianStackLosesNothing) {
  // 30 exact normal quantiles: nothing is 3 sigma away from where it belongs.
  const std::vector<float> s = test::normal_quantiles(30, 100.0, 2.0);
  const PixelResult r = run(s, p());
  EXPECT_EQ(r.kept, 30);
  EXPECT_NEAR(r.value, 100.0, 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Stack, EveryAlgo,
                         ::testing::Combine(::testing::ValuesIn(kAllAlgos),
                                            ::testing::Values(CombineMethod::Mean, CombineMethod::Median)));

class Rejecting : public ::testing::TestWithParam<RejectAlgo> {};

TEST_P(Rejecting, OneOutlierAmongEqualValuesIsRejectedOnItsSide) {
  for (float outlier : {1000.0f, -1000.0f}) {
    std::vector<float> s(20, 10.0f);
    s[7] = outlier;
    const PixelResult r = run(s, params(GetParam()));
    EXPECT_EQ(r.value, 10.0f);
    EXPECT_EQ(r.kept, 19);
    EXPECT_EQ(r.rejected_high, outlier > 0 ? 1 : 0);
    EXPECT_EQ(r.rejected_low, outlier < 0 ? 1 : 0);
  }
}

TEST_P(Rejecting, OneAndTwoOutliersOnAGaussianStack) {
  const std::vector<float> base = test::normal_quantiles(30, 100.0, 1.0);
  const double truth = mean_of(base);
  struct Case {
    std::vector<float> extra;
    int low, high;
  };
  const Case cases[] = {{{150.0f}, 0, 1}, {{50.0f}, 1, 0}, {{150.0f, 160.0f}, 0, 2}, {{40.0f, 55.0f}, 2, 0},
                        {{45.0f, 170.0f}, 1, 1}};
  for (const Case& c : cases) {
    std::vector<float> s = base;
    s.insert(s.begin() + 11, c.extra.begin(), c.extra.end());
    const PixelResult r = run(s, params(GetParam()));
    EXPECT_EQ(r.rejected_low, c.low) << c.extra[0];
    EXPECT_EQ(r.rejected_high, c.high) << c.extra[0];
    EXPECT_EQ(r.kept, 30);
    EXPECT_NEAR(r.value, truth, 1e-4);
  }
}

TEST_P(Rejecting, WeightsApplyToTheKeptSamples) {
  // Frames 0..9 hold 10, frames 10..19 hold 20, frame 20 is an outlier. Weights 3 on the first half, 1 on the
  // second: the weighted mean of the kept samples is (3*10 + 1*20) / 4 = 12.5.
  std::vector<float> s(21), w(21);
  for (int i = 0; i < 20; ++i) {
    s[i] = i < 10 ? 10.0f : 20.0f;
    w[i] = i < 10 ? 3.0f : 1.0f;
  }
  s[20] = 1e6f;
  w[20] = 1.0f;
  const PixelResult r = run(s, params(GetParam()), w);
  EXPECT_EQ(r.rejected_high, 1);
  EXPECT_NEAR(r.value, 12.5, 1e-5);
}

TEST_P(Rejecting, LargeStacks) {
  // Past the 32-key sort networks and the 256-entry score cache: 400 evenly spread samples (no tails near
  // kappa), three far outliers.
  std::vector<float> base(400);
  for (int i = 0; i < 400; ++i) base[i] = -50.0f + 6.0f * static_cast<float>((i * 7919) % 400) / 399.0f - 3.0f;
  std::vector<float> s = base;
  s.insert(s.begin() + 100, 1000.0f);
  s.insert(s.begin() + 7, 900.0f);
  s.push_back(-2000.0f);
  const PixelResult r = run(s, params(GetParam()));
  EXPECT_EQ(r.rejected_high, 2);
  EXPECT_EQ(r.rejected_low, 1);
  EXPECT_EQ(r.kept, 400);
  EXPECT_NEAR(r.value, mean_of(base), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Stack, Rejecting, ::testing::ValuesIn(kRejecting));

// Adds +at and -at to a base stack and checks that kappa_high alone decides the high sample and kappa_low
// alone the low one, for samples placed about 2.5 sigmas out as each algorithm measures it.
void check_asymmetric(RejectAlgo algo, std::vector<float> s, double at) {
  s.push_back(static_cast<float>(at));
  s.push_back(static_cast<float>(-at));
  const PixelResult keep_both = run(s, params(algo, CombineMethod::Mean, 3.0f, 3.0f));
  EXPECT_EQ(keep_both.rejected_high, 0);
  EXPECT_EQ(keep_both.rejected_low, 0);
  const PixelResult high_only = run(s, params(algo, CombineMethod::Mean, 3.0f, 2.0f));
  EXPECT_EQ(high_only.rejected_high, 1);
  EXPECT_EQ(high_only.rejected_low, 0);
  const PixelResult low_only = run(s, params(algo, CombineMethod::Mean, 2.0f, 3.0f));
  EXPECT_EQ(low_only.rejected_high, 0);
  EXPECT_EQ(low_only.rejected_low, 1);
}

// 20 samples at -1, one at 0, 20 at +1: a base whose own extremes stay inside 2 sigma, so kappa 2 peels off
// only the sample under test.
std::vector<float> two_level_base() {
  std::vector<float> s(41, 0.0f);
  for (int i = 0; i < 20; ++i) {
    s[i] = -1.0f;
    s[40 - i] = 1.0f;
  }
  return s;
}

TEST(Rejection, KappaSigmaUsesEachKappaOnItsOwnSide) {
  // Median 0 and standard deviation sqrt((40 + 2x^2) / 42): x = sqrt(250 / 29.5) sits at exactly 2.5 sigma.
  check_asymmetric(RejectAlgo::KappaSigma, two_level_base(), std::sqrt(250.0 / 29.5));
}

TEST(Rejection, WinsorizedUsesEachKappaOnItsOwnSide) {
  // The winsorised sigma of this stack converges to about 1.19, so 3.0 sits near 2.5 sigma.
  check_asymmetric(RejectAlgo::WinsorizedSigmaClip, two_level_base(), 3.0);
}

TEST(Rejection, LinearFitUsesEachKappaOnItsOwnSide) {
  // On 60 exact normal quantiles the fitted line has slope ~1; the extremes of 62 samples are expected at
  // +-2.33, so 4.83 lies about 2.5 sigma beyond its expected position.
  check_asymmetric(RejectAlgo::LinearFitClip, test::normal_quantiles(60, 0.0, 1.0), 4.83);
}

TEST(Rejection, KappaSigmaNeedsTenSamplesForOneOutlier) {
  // With a plain standard deviation one outlier among k equal values sits sqrt(k) sigmas out.
  std::vector<float> nine(9, 5.0f), ten(10, 5.0f);
  nine[0] = ten[0] = 100.0f;
  EXPECT_EQ(run(nine, params(RejectAlgo::KappaSigma)).rejected_high, 0);
  EXPECT_EQ(run(ten, params(RejectAlgo::KappaSigma)).rejected_high, 1);
}

TEST(Rejection, WinsorizedRejectsTheOddOneOutOfThree) {
  // MAD = 0: the two identical samples are the consensus.
  const PixelResult hi = run({3.0f, 9.0f, 3.0f}, params(RejectAlgo::WinsorizedSigmaClip));
  EXPECT_EQ(hi.value, 3.0f);
  EXPECT_EQ(hi.rejected_high, 1);
  const PixelResult lo = run({3.0f, -9.0f, 3.0f}, params(RejectAlgo::WinsorizedSigmaClip));
  EXPECT_EQ(lo.value, 3.0f);
  EXPECT_EQ(lo.rejected_low, 1);
}

TEST(Rejection, ThreeSamplesWithoutConsensusAreKept) {
  for (RejectAlgo a : kRejecting) {
    const PixelResult r = run({1.0f, 2.0f, 30.0f}, params(a));
    EXPECT_EQ(r.kept, 3) << static_cast<int>(a);
    EXPECT_FLOAT_EQ(r.value, 11.0f);
  }
}

TEST(Rejection, RejectionNeverLeavesFewerThanTwo) {
  // Tiny kappas would reject nearly everything; the pass that would empty the pixel is abandoned.
  const std::vector<float> s = {1.0f, 2.0f, 3.0f, 4.0f, 50.0f, -40.0f};
  for (RejectAlgo a : kRejecting) {
    const PixelResult r = run(s, params(a, CombineMethod::Mean, 0.01f, 0.01f));
    EXPECT_GE(r.kept, 2) << static_cast<int>(a);
    EXPECT_EQ(r.kept + r.rejected_low + r.rejected_high, 6);
  }
}

TEST(Rejection, MaxIterationsBoundsThePasses) {
  // A geometric ladder: each kappa-sigma pass peels off only the current top sample.
  std::vector<float> s(30, 0.0f);
  for (int i = 0; i < 30; ++i) s[i] = static_cast<float>(i % 3);
  s.push_back(1e3f);
  s.push_back(1e5f);
  s.push_back(1e7f);
  RejectParams p = params(RejectAlgo::KappaSigma);
  p.max_iterations = 1;
  EXPECT_EQ(run(s, p).rejected_high, 1);
  p.max_iterations = 10;
  EXPECT_EQ(run(s, p).rejected_high, 3);
}

TEST(Combine, MeanUsesWeights) {
  const PixelResult r = run({1.0f, 2.0f}, params(RejectAlgo::None), {3.0f, 1.0f});
  EXPECT_EQ(r.value, 1.25f);
}

TEST(Combine, ZeroOrInvalidWeightRemovesTheFrame) {
  for (CombineMethod m : {CombineMethod::Mean, CombineMethod::Median}) {
    for (RejectAlgo a : kAllAlgos) {
      const PixelResult r = run({1.0f, 2.0f, 100.0f, 200.0f}, params(a, m), {1.0f, 1.0f, 0.0f, kNaN});
      EXPECT_EQ(r.kept, 2);
      EXPECT_EQ(r.value, 1.5f);
    }
  }
}

TEST(Combine, MedianIgnoresWeightsAndAveragesTheMiddlePair) {
  EXPECT_EQ(run({5.0f, 1.0f, 3.0f}, params(RejectAlgo::None, CombineMethod::Median), {1.0f, 9.0f, 1.0f}).value,
            3.0f);
  EXPECT_EQ(run({4.0f, 1.0f, 3.0f, 2.0f}, params(RejectAlgo::None, CombineMethod::Median)).value, 2.5f);
}

TEST(Combine, MedianAfterRejection) {
  std::vector<float> s(20, 10.0f);
  for (int i = 0; i < 10; ++i) s[i] = 11.0f;
  s.push_back(1e4f);  // would make the median 11 if it were kept next to an extra 11
  s.push_back(11.0f);
  const PixelResult r = run(s, params(RejectAlgo::KappaSigma, CombineMethod::Median));
  EXPECT_EQ(r.rejected_high, 1);
  EXPECT_EQ(r.value, 11.0f);  // 11 samples of 11 and 10 of 10 remain
}

TEST(Combine, NegativeValuesSortCorrectly) {
  const PixelResult r = run({-3.0f, -1.0f, -2.0f, -0.0f, 0.0f}, params(RejectAlgo::None, CombineMethod::Median));
  EXPECT_EQ(r.value, -1.0f);
}

TEST(Params, ValidateRejectsNonsense) {
  RejectParams p;
  EXPECT_NO_THROW(validate(p));
  p.kappa_low = -1.0f;
  EXPECT_THROW(validate(p), std::invalid_argument);
  p = RejectParams{};
  p.kappa_high = kNaN;
  EXPECT_THROW(validate(p), std::invalid_argument);
  p = RejectParams{};
  p.max_iterations = 0;
  EXPECT_THROW(validate(p), std::invalid_argument);
}

}  // namespace
}  // namespace zm

namespace zm {
namespace {

// The textbook winsorisation loop, iterated far past the production tolerance.
detail::Location classic_winsorized(const std::vector<float>& sorted) {
  const int n = static_cast<int>(sorted.size());
  const double med = n % 2 ? sorted[n / 2] : 0.5 * (static_cast<double>(sorted[n / 2 - 1]) + sorted[n / 2]);
  std::vector<double> dev;
  for (float x : sorted) dev.push_back(std::abs(x - med));
  std::sort(dev.begin(), dev.end());
  const double mad = n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
  double m = med, s = 1.4826 * mad;
  for (int round = 0; round < 2000; ++round) {
    double sum = 0.0;
    for (float x : sorted) sum += std::clamp<double>(x, m - 1.5 * s, m + 1.5 * s);
    const double mean = sum / n;
    double ss = 0.0;
    for (float x : sorted) {
      const double d = std::clamp<double>(x, m - 1.5 * s, m + 1.5 * s) - mean;
      ss += d * d;
    }
    m = mean;
    s = 1.134 * std::sqrt(ss / (n - 1));
  }
  return {m, s};
}

TEST(Winsorized, ExactFixedPointMatchesTheClassicIteration) {
  test::Gauss g(77);
  RejectScratch scratch;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 3 + trial % 60;
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(500.0 + 10.0 * g.normal());
    if (trial % 3 == 0) v[0] += 300.0f;  // an outlier: many samples then sit at the clip bounds
    if (trial % 5 == 0) v[n - 1] -= 200.0f;
    std::sort(v.begin(), v.end());
    const detail::Location fast = detail::winsorized_location(v.data(), n, scratch);
    const detail::Location slow = classic_winsorized(v);
    EXPECT_NEAR(fast.m, slow.m, 1e-6 * slow.s + 1e-9) << trial;
    EXPECT_NEAR(fast.s, slow.s, 1e-6 * slow.s + 1e-9) << trial;
  }
}

}  // namespace
}  // namespace zm
