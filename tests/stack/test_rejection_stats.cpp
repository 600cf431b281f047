// Statistical behaviour of the rejection algorithms on many simulated Gaussian pixel stacks: noise efficiency
// without outliers, and robustness to one bright outlier per pixel (a satellite trail crossing every pixel).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "stack/rejection.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

constexpr int kFrames = 20;
constexpr int kPixels = 20000;
constexpr double kSigma = 1.0;
const double kIdeal = kSigma / std::sqrt(static_cast<double>(kFrames));

struct Outcome {
  double rms = 0.0;          // of output - truth (truth = 0)
  double bias = 0.0;         // mean of output - truth
  double beyond_3 = 0.0;     // fraction of pixels further than 3 ideal sigmas from the truth
  double trail_removed = 0;  // fraction of pixels with at least one sample rejected high
};

Outcome simulate(RejectAlgo algo, CombineMethod combine, float trail) {
  test::Gauss g(1234);
  RejectParams p;
  p.algo = algo;
  p.combine = combine;
  RejectScratch scratch;
  std::vector<float> s(kFrames);
  double ss = 0.0, sum = 0.0;
  long beyond = 0, removed = 0;
  for (int i = 0; i < kPixels; ++i) {
    for (float& x : s) x = static_cast<float>(kSigma * g.normal());
    if (trail != 0.0f) s[i % kFrames] += trail;
    const PixelResult r = combine_pixel(s.data(), nullptr, kFrames, p, scratch);
    ss += static_cast<double>(r.value) * r.value;
    sum += r.value;
    beyond += std::abs(r.value) > 3.0 * kIdeal;
    removed += r.rejected_high > 0;
  }
  return {std::sqrt(ss / kPixels), sum / kPixels, static_cast<double>(beyond) / kPixels,
          static_cast<double>(removed) / kPixels};
}

class Efficiency : public ::testing::TestWithParam<RejectAlgo> {};

TEST_P(Efficiency, MeanOfCleanStackIsNearlyIdeal) {
  // The rms estimate itself is good to 0.5 % with 20000 pixels; sigma clipping of pure Gaussian data costs the
  // winsorized clip about 2 % (its robust sigma is noisy on 20 samples), the others less than 1 %.
  const Outcome o = simulate(GetParam(), CombineMethod::Mean, 0.0f);
  EXPECT_GT(o.rms / kIdeal, 0.98);
  EXPECT_LT(o.rms / kIdeal, 1.04);
  EXPECT_LT(std::abs(o.bias) / kIdeal, 0.05);
}

TEST_P(Efficiency, MedianCostsTheExpectedTwentyPercent) {
  // The median of 20 Gaussian samples has about 1.2 times the noise of their mean (1.25 asymptotically).
  const Outcome o = simulate(GetParam(), CombineMethod::Median, 0.0f);
  EXPECT_GT(o.rms / kIdeal, 1.12);
  EXPECT_LT(o.rms / kIdeal, 1.28);
}

INSTANTIATE_TEST_SUITE_P(Stack, Efficiency,
                         ::testing::Values(RejectAlgo::None, RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                                           RejectAlgo::LinearFitClip));

class Trail : public ::testing::TestWithParam<RejectAlgo> {};

TEST_P(Trail, OneBrightOutlierPerPixelIsRejected) {
  for (float trail : {30.0f, 12.0f}) {
    const Outcome o = simulate(GetParam(), CombineMethod::Mean, trail);
    EXPECT_GT(o.trail_removed, 0.999) << trail;
    // Losing one of 20 samples costs sqrt(20/19) = 1.026 in noise.
    EXPECT_LT(o.rms / kIdeal, 1.07) << trail;
    EXPECT_LT(std::abs(o.bias) / kIdeal, 0.05) << trail;
    // As for a clean mean of 19 samples (0.35 % expected beyond 3 ideal sigmas).
    EXPECT_LT(o.beyond_3, 0.006) << trail;
  }
}

TEST(Trail, WithoutRejectionTheTrailLeaks) {
  const Outcome o = simulate(RejectAlgo::None, CombineMethod::Mean, 30.0f);
  EXPECT_GT(o.bias / kIdeal, 6.0);  // 30 / 20 = 1.5 sigma = 6.7 ideal sigmas
}

INSTANTIATE_TEST_SUITE_P(Stack, Trail,
                         ::testing::Values(RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                                           RejectAlgo::LinearFitClip));

}  // namespace
}  // namespace zm
