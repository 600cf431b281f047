// Quality weights: inverse noise variance and FWHM ratios; config names of the methods.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "stack/method_names.hpp"
#include "stack/robust_stats.hpp"
#include "stack/weights.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

constexpr std::size_t kSamples = 30000;

FrameSamples noisy(const std::vector<double>& sigma_per_channel, std::uint64_t seed) {
  test::Gauss g(seed);
  const int channels = static_cast<int>(sigma_per_channel.size());
  FrameSamples f(channels, kSamples);
  for (int c = 0; c < channels; ++c)
    for (float& v : f.channel(c)) v = static_cast<float>(800.0 + sigma_per_channel[c] * g.normal());
  return f;
}

TEST(RobustSigma, GaussianWithAndWithoutOutliers) {
  FrameSamples f = noisy({3.0}, 1);
  EXPECT_NEAR(sigma_clipped_sigma(f.channel(0)) / 3.0, 1.0, 0.02);
  // 5 % of samples hit by stars: clipping brings sigma back.
  for (std::size_t i = 0; i < kSamples; i += 20) f.channel(0)[i] += 500.0f;
  EXPECT_NEAR(sigma_clipped_sigma(f.channel(0)) / 3.0, 1.0, 0.04);
  EXPECT_EQ(sigma_clipped_sigma(std::vector<float>(10, 2.0f)), 0.0);
  EXPECT_TRUE(std::isnan(sigma_clipped_sigma(std::vector<float>{})));
}

TEST(Weights, NoiseVarianceFollowsInverseVariancePerChannel) {
  std::vector<FrameSamples> frames = {noisy({1.0, 4.0}, 1), noisy({2.0, 2.0}, 2), noisy({0.5, 8.0}, 3)};
  const PerFrameChannel<float> w = noise_variance_weights(frames);
  // Channel 0: variances 1, 4, 0.25 -> best (frame 2) = 1.
  EXPECT_NEAR(w.at(0, 0), 0.25, 0.25 * 0.04);
  EXPECT_NEAR(w.at(1, 0), 0.0625, 0.0625 * 0.04);
  EXPECT_NEAR(w.at(2, 0), 1.0, 1e-6);
  // Channel 1: variances 16, 4, 64 -> best (frame 1) = 1.
  EXPECT_NEAR(w.at(0, 1), 0.25, 0.25 * 0.04);
  EXPECT_NEAR(w.at(1, 1), 1.0, 1e-6);
  EXPECT_NEAR(w.at(2, 1), 0.0625, 0.0625 * 0.04);
  EXPECT_EQ(w.channel(1).size(), 3u);
  EXPECT_EQ(w.channel(1)[1], w.at(1, 1));
}

TEST(Weights, NormalisationGainScalesTheNoise) {
  std::vector<FrameSamples> frames = {noisy({1.0}, 1), noisy({1.0}, 2)};
  PerFrameChannel<LinearCoeffs> norm(2, 1);
  norm.at(1, 0).gain = 2.0f;  // frame 1 is doubled before stacking, so its noise is too
  const PerFrameChannel<float> w = noise_variance_weights(frames, &norm);
  EXPECT_NEAR(w.at(0, 0), 1.0, 1e-6);
  EXPECT_NEAR(w.at(1, 0), 0.25, 0.25 * 0.04);
  PerFrameChannel<LinearCoeffs> wrong(3, 1);
  EXPECT_THROW(noise_variance_weights(frames, &wrong), std::invalid_argument);
}

TEST(Weights, DeadFramesGetZeroAndAllDeadGivesOnes) {
  std::vector<FrameSamples> frames = {noisy({1.0}, 1), FrameSamples(1, kSamples), FrameSamples(1, kSamples)};
  for (float& v : frames[2].channel(0)) v = std::numeric_limits<float>::quiet_NaN();  // no data
  // frames[1] is constant 0: sigma 0
  const PerFrameChannel<float> w = noise_variance_weights(frames);
  EXPECT_NEAR(w.at(0, 0), 1.0, 1e-6);
  EXPECT_EQ(w.at(1, 0), 0.0f);
  EXPECT_EQ(w.at(2, 0), 0.0f);
  const std::vector<FrameSamples> dead = {FrameSamples(1, 100), FrameSamples(1, 100)};
  for (float x : noise_variance_weights(dead).values) EXPECT_EQ(x, 1.0f);
}

TEST(Weights, FwhmRatio) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> fwhm = {2.0, 3.0, 4.0, nan, -1.0};
  const PerFrameChannel<float> w = fwhm_weights(fwhm, 3);
  EXPECT_FLOAT_EQ(w.at(0, 2), 1.0f);
  EXPECT_FLOAT_EQ(w.at(1, 0), 2.0f / 3.0f);
  EXPECT_FLOAT_EQ(w.at(2, 1), 0.5f);
  EXPECT_FLOAT_EQ(w.at(3, 0), 2.0f / 3.0f);  // unknown: the median FWHM (3)
  EXPECT_FLOAT_EQ(w.at(4, 0), 2.0f / 3.0f);
  for (float x : fwhm_weights(std::vector<double>{nan, 0.0}, 1).values) EXPECT_EQ(x, 1.0f);
  for (float x : uniform_weights(4, 3).values) EXPECT_EQ(x, 1.0f);
}

TEST(MethodNames, RoundTrip) {
  for (RejectAlgo a : {RejectAlgo::None, RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                       RejectAlgo::LinearFitClip})
    EXPECT_EQ(parse_reject_algo(to_string(a)), a);
  for (CombineMethod m : {CombineMethod::Mean, CombineMethod::Median}) EXPECT_EQ(parse_combine_method(to_string(m)), m);
  for (NormMethod m : {NormMethod::None, NormMethod::LinearFit, NormMethod::SkyMean})
    EXPECT_EQ(parse_norm_method(to_string(m)), m);
  for (WeightMethod m : {WeightMethod::None, WeightMethod::NoiseVariance, WeightMethod::NoiseFwhm})
    EXPECT_EQ(parse_weight_method(to_string(m)), m);
  EXPECT_EQ(parse_reject_algo("winsorized_sigma_clip"), RejectAlgo::WinsorizedSigmaClip);
  EXPECT_FALSE(parse_reject_algo("sigma").has_value());
  EXPECT_FALSE(parse_norm_method("").has_value());
}

}  // namespace
}  // namespace zm
