// The band kernel: equal to the per-pixel routine, and invariant to banding and thread count.
#include <gtest/gtest.h>

#include <tbb/global_control.h>

#include <cmath>
#include <limits>
#include <vector>

#include "stack/combine_band.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

// n frames of npix pixels: Gaussian noise around a smooth level, 5 % missing samples, 2 % hot outliers, a few
// whole-pixel gaps.
struct Frames {
  int n = 0;
  std::size_t npix = 0;
  std::vector<std::vector<float>> data;
  std::vector<float> weights;
  std::vector<LinearCoeffs> norm;

  std::vector<const float*> ptrs(std::size_t offset = 0) const {
    std::vector<const float*> p;
    for (const auto& f : data) p.push_back(f.data() + offset);
    return p;
  }
};

Frames make_frames(int n, std::size_t npix, std::uint64_t seed) {
  test::Gauss g(seed);
  Frames f;
  f.n = n;
  f.npix = npix;
  f.data.assign(n, std::vector<float>(npix));
  for (int k = 0; k < n; ++k) {
    for (std::size_t i = 0; i < npix; ++i) {
      float v = static_cast<float>(1000.0 + 0.01 * static_cast<double>(i) + 5.0 * g.normal());
      const double u = g.uniform();
      if (u < 0.05) v = std::numeric_limits<float>::quiet_NaN();
      else if (u < 0.07) v += 500.0f;
      if (i % 997 == 3) v = std::numeric_limits<float>::quiet_NaN();
      f.data[k][i] = v;
    }
    f.weights.push_back(static_cast<float>(0.5 + g.uniform()));
    f.norm.push_back({static_cast<float>(0.9 + 0.2 * g.uniform()), static_cast<float>(20.0 * g.normal())});
  }
  return f;
}

struct BandResult {
  std::vector<float> out, kept;
  RejectStats stats;
};

BandResult run_band(const Frames& f, const RejectParams& p, bool use_norm, std::size_t band = 0) {
  BandResult r;
  r.out.assign(f.npix, -1.0f);
  r.kept.assign(f.npix, -1.0f);
  if (band == 0) band = f.npix;
  for (std::size_t start = 0; start < f.npix; start += band) {
    const std::size_t len = std::min(band, f.npix - start);
    const std::vector<const float*> ptrs = f.ptrs(start);
    combine_band(ptrs.data(), f.weights.data(), f.n, len, p, r.out.data() + start, r.kept.data() + start, r.stats,
                 use_norm ? f.norm.data() : nullptr);
  }
  return r;
}

void expect_identical(const BandResult& a, const BandResult& b) {
  ASSERT_EQ(a.out.size(), b.out.size());
  std::size_t diff = 0;
  for (std::size_t i = 0; i < a.out.size(); ++i) diff += !test::same_bits(a.out[i], b.out[i]) || a.kept[i] != b.kept[i];
  EXPECT_EQ(diff, 0u);
  EXPECT_EQ(a.stats, b.stats);
}

std::vector<RejectParams> all_params() {
  std::vector<RejectParams> v;
  for (RejectAlgo a : {RejectAlgo::None, RejectAlgo::KappaSigma, RejectAlgo::WinsorizedSigmaClip,
                       RejectAlgo::LinearFitClip}) {
    for (CombineMethod c : {CombineMethod::Mean, CombineMethod::Median}) {
      RejectParams p;
      p.algo = a;
      p.combine = c;
      p.kappa_low = 2.5f;
      p.kappa_high = 3.5f;
      v.push_back(p);
    }
  }
  return v;
}

TEST(CombineBand, EqualsThePerPixelRoutine) {
  const Frames f = make_frames(13, 5000, 7);
  for (const RejectParams& p : all_params()) {
    const BandResult band = run_band(f, p, true);
    RejectScratch scratch;
    std::vector<float> s(f.n);
    RejectStats expect;
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < f.npix; ++i) {
      for (int k = 0; k < f.n; ++k) s[k] = f.norm[k].gain * f.data[k][i] + f.norm[k].offset;
      const PixelResult r = combine_pixel(s.data(), f.weights.data(), f.n, p, scratch);
      mismatches += !test::same_bits(r.value, band.out[i]) || static_cast<float>(r.kept) != band.kept[i];
      expect.pixels += 1;
      expect.empty_pixels += r.kept == 0;
      expect.samples += static_cast<std::uint64_t>(r.kept + r.rejected_low + r.rejected_high);
      expect.kept += static_cast<std::uint64_t>(r.kept);
      expect.rejected_low += static_cast<std::uint64_t>(r.rejected_low);
      expect.rejected_high += static_cast<std::uint64_t>(r.rejected_high);
    }
    EXPECT_EQ(mismatches, 0u) << static_cast<int>(p.algo) << "/" << static_cast<int>(p.combine);
    EXPECT_EQ(band.stats, expect);
    EXPECT_GT(expect.empty_pixels, 0u);  // the all-NaN columns
  }
}

TEST(CombineBand, StatsAreConsistentAndCatchTheHotSamples) {
  const Frames f = make_frames(15, 4000, 11);
  RejectParams p;
  p.algo = RejectAlgo::WinsorizedSigmaClip;
  const BandResult r = run_band(f, p, false);
  EXPECT_EQ(r.stats.pixels, 4000u);
  EXPECT_EQ(r.stats.samples, r.stats.kept + r.stats.rejected_low + r.stats.rejected_high);
  // About 2 % of the ~95 % valid samples are +500 (100 sigma) outliers; essentially all must go.
  const double hot = 0.02 * 15 * 4000;
  EXPECT_GT(static_cast<double>(r.stats.rejected_high), 0.9 * hot);
  EXPECT_LT(static_cast<double>(r.stats.rejected_high), 1.4 * hot);
  EXPECT_NEAR(r.stats.rejected_fraction(), 0.021, 0.01);
}

TEST(CombineBand, BandSizeDoesNotChangeAnything) {
  const Frames f = make_frames(9, 6000, 3);
  for (const RejectParams& p : all_params()) {
    const BandResult whole = run_band(f, p, true);
    for (std::size_t band : {1u, 511u, 512u, 777u, 2049u}) expect_identical(whole, run_band(f, p, true, band));
  }
}

TEST(CombineBand, ThreadCountDoesNotChangeAnything) {
  const Frames f = make_frames(12, 30000, 5);
  for (const RejectParams& p : all_params()) {
    BandResult one, four;
    {
      tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
      one = run_band(f, p, true);
    }
    {
      tbb::global_control c(tbb::global_control::max_allowed_parallelism, 4);
      four = run_band(f, p, true);
    }
    expect_identical(one, four);
  }
}

TEST(CombineBand, NormalisationEqualsPreNormalisedFrames) {
  Frames f = make_frames(8, 3000, 9);
  Frames pre = f;
  for (int k = 0; k < f.n; ++k)
    for (float& v : pre.data[k]) v = f.norm[k].gain * v + f.norm[k].offset;
  for (const RejectParams& p : all_params()) expect_identical(run_band(f, p, true), run_band(pre, p, false));
}

TEST(CombineBand, NoFramesGivesNaN) {
  std::vector<float> out(100, 0.0f), kept(100, 5.0f);
  RejectStats st;
  combine_band(nullptr, nullptr, 0, out.size(), RejectParams{}, out.data(), kept.data(), st);
  for (std::size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(std::isnan(out[i]));
    EXPECT_EQ(kept[i], 0.0f);
  }
  EXPECT_EQ(st.pixels, 100u);
  EXPECT_EQ(st.empty_pixels, 100u);
}

TEST(CombineBand, StatsAccumulateAcrossCalls) {
  const Frames f = make_frames(6, 1000, 2);
  RejectParams p;
  const BandResult once = run_band(f, p, false);
  RejectStats twice = once.stats;
  std::vector<float> out(f.npix);
  const std::vector<const float*> ptrs = f.ptrs();
  combine_band(ptrs.data(), f.weights.data(), f.n, f.npix, p, out.data(), nullptr, twice);
  EXPECT_EQ(twice.pixels, 2 * once.stats.pixels);
  EXPECT_EQ(twice.rejected_high, 2 * once.stats.rejected_high);
}

TEST(CombineBand, InvalidParamsThrow) {
  RejectParams p;
  p.kappa_low = -1.0f;
  float out = 0.0f;
  RejectStats st;
  EXPECT_THROW(combine_band(nullptr, nullptr, 0, 1, p, &out, nullptr, st), std::invalid_argument);
}

}  // namespace
}  // namespace zm
