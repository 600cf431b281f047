// Normalisation coefficients recovered from synthetic frames with known gains and offsets.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "stack/normalize.hpp"
#include "stack/robust_stats.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

constexpr std::size_t kSamples = 40000;
constexpr int kChannels = 3;

// A scene sampled at kSamples positions: a broad nebula/gradient (500..900) plus 2 % star pixels up to +5000.
std::vector<double> scene(int channel) {
  test::Gauss g(100 + channel);
  std::vector<double> s(kSamples);
  for (double& v : s) {
    v = 500.0 + 50.0 * channel + 400.0 * g.uniform();
    if (g.uniform() < 0.02) v += 5000.0 * g.uniform();
  }
  return s;
}

// Observed frame whose normalised version gain*frame + offset is the scene (plus independent noise).
FrameSamples observe(double gain, double offset, std::uint64_t seed, double noise = 3.0) {
  test::Gauss g(seed);
  FrameSamples f(kChannels, kSamples);
  for (int c = 0; c < kChannels; ++c) {
    const std::vector<double> truth = scene(c);
    std::span<float> out = f.channel(c);
    for (std::size_t i = 0; i < kSamples; ++i)
      out[i] = static_cast<float>((truth[i] + noise * g.normal() - offset) / gain);
  }
  return f;
}

TEST(Percentile, MatchesLinearInterpolation) {
  const std::vector<float> v = {4.0f, std::numeric_limits<float>::quiet_NaN(), 1.0f, 3.0f, 2.0f};
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 25.0), 1.75);
  EXPECT_DOUBLE_EQ(percentile(v, 50.0), 2.5);
  EXPECT_DOUBLE_EQ(percentile(v, 100.0), 4.0);
  const double ps[3] = {10.0, 50.0, 90.0};
  const std::vector<double> many = percentiles(v, ps);
  EXPECT_DOUBLE_EQ(many[0], 1.3);
  EXPECT_DOUBLE_EQ(many[2], 3.7);
  EXPECT_TRUE(std::isnan(percentile(std::vector<float>{}, 50.0)));
}

TEST(Normalize, LinearFitRecoversGainAndOffset) {
  const double gains[] = {1.0, 0.5, 0.8, 1.3, 2.0};
  const double offsets[] = {0.0, -200.0, 50.0, 300.0, -20.0};
  std::vector<FrameSamples> frames;
  for (int f = 0; f < 5; ++f) frames.push_back(observe(gains[f], offsets[f], 10 + f));
  const PerFrameChannel<LinearCoeffs> k = compute_normalization(NormMethod::LinearFit, frames, 0);
  for (int f = 1; f < 5; ++f) {
    for (int c = 0; c < kChannels; ++c) {
      EXPECT_NEAR(k.at(f, c).gain / gains[f], 1.0, 0.005) << f << "," << c;
      // The normalised frame sits on the reference: mean difference well below the 3 ADU noise.
      double diff = 0.0;
      const std::span<const float> src = frames[f].channel(c), ref = frames[0].channel(c);
      for (std::size_t i = 0; i < kSamples; ++i) diff += k.at(f, c).apply(src[i]) - ref[i];
      EXPECT_NEAR(diff / kSamples, 0.0, 1.0) << f << "," << c;
      EXPECT_NEAR(k.at(f, c).offset, offsets[f], 0.005 * 900.0) << f << "," << c;
    }
  }
  for (int c = 0; c < kChannels; ++c) EXPECT_TRUE(k.at(0, c).is_identity());
}

TEST(Normalize, ReferenceCanBeAnyFrame) {
  std::vector<FrameSamples> frames = {observe(1.5, 10.0, 1), observe(1.0, 0.0, 2)};
  const PerFrameChannel<LinearCoeffs> k = compute_normalization(NormMethod::LinearFit, frames, 1);
  EXPECT_TRUE(k.at(1, 0).is_identity());
  EXPECT_NEAR(k.at(0, 0).gain, 1.5, 0.0075);
}

TEST(Normalize, SkyMeanIsAnOffsetPerChannel) {
  std::vector<FrameSamples> frames = {observe(1.0, 0.0, 1), observe(1.0, 0.0, 2)};
  const double shift[kChannels] = {37.5, -12.0, 80.0};
  for (int c = 0; c < kChannels; ++c)
    for (float& v : frames[1].channel(c)) v += static_cast<float>(shift[c]);
  const PerFrameChannel<LinearCoeffs> k = compute_normalization(NormMethod::SkyMean, frames, 0);
  for (int c = 0; c < kChannels; ++c) {
    EXPECT_EQ(k.at(1, c).gain, 1.0f);
    EXPECT_NEAR(k.at(1, c).offset, -shift[c], 0.5) << c;
  }
}

TEST(Normalize, NoneIsIdentity) {
  std::vector<FrameSamples> frames = {observe(1.0, 0.0, 1), observe(2.0, 5.0, 2)};
  const PerFrameChannel<LinearCoeffs> k = compute_normalization(NormMethod::None, frames, 0);
  for (const LinearCoeffs& c : k.values) EXPECT_TRUE(c.is_identity());
}

TEST(Normalize, DegenerateFramesFallBackToAnOffset) {
  const FrameSamples ref = observe(1.0, 0.0, 1);
  const std::vector<float> flat(kSamples, 5.0f);
  const LinearCoeffs k = normalization_coeffs(NormMethod::LinearFit, ref.channel(0), flat);
  EXPECT_EQ(k.gain, 1.0f);
  EXPECT_NEAR(k.offset, percentile(ref.channel(0), 25.0) - 5.0, 1e-3);
  // A gain beyond max_gain (here 1/100) is not trusted either.
  std::vector<float> scaled(ref.channel(0).begin(), ref.channel(0).end());
  for (float& v : scaled) v *= 100.0f;
  EXPECT_EQ(normalization_coeffs(NormMethod::LinearFit, ref.channel(0), scaled).gain, 1.0f);
  // No data at all: identity.
  const std::vector<float> nan(kSamples, std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(normalization_coeffs(NormMethod::LinearFit, ref.channel(0), nan).is_identity());
  EXPECT_TRUE(normalization_coeffs(NormMethod::SkyMean, nan, ref.channel(0)).is_identity());
}

TEST(Normalize, BadInputsThrow) {
  std::vector<FrameSamples> frames = {FrameSamples(3, 10), FrameSamples(1, 10)};
  EXPECT_THROW(compute_normalization(NormMethod::LinearFit, frames, 0), std::invalid_argument);
  frames[1] = FrameSamples(3, 10);
  EXPECT_THROW(compute_normalization(NormMethod::LinearFit, frames, 2), std::invalid_argument);
  EXPECT_TRUE(compute_normalization(NormMethod::LinearFit, std::vector<FrameSamples>{}, 0).values.empty());
  NormParams swapped;
  swapped.low_percentile = 90.0;
  swapped.high_percentile = 25.0;
  const std::vector<float> any(10, 1.0f);
  EXPECT_THROW(normalization_coeffs(NormMethod::LinearFit, any, any, swapped), std::invalid_argument);
}

}  // namespace
}  // namespace zm
