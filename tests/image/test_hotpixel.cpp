// Hot-pixel correction: spikes removed, star cores kept, pure noise left alone, bands equal the whole image.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "image/hotpixel.hpp"
#include "image_test_util.hpp"

namespace zm {
namespace {

using test::kAllPatterns;

constexpr float kSigma = 10.0f;
constexpr float kBackground[3] = {800.0f, 1200.0f, 600.0f};

ImageF noisy_cfa(int w, int h, BayerPattern p, std::uint32_t seed) {
  ImageF cfa(1, w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) cfa.at(0, y, x) = kBackground[cfa_channel(p, x, y)];
  }
  test::add_noise(cfa, kSigma, seed);
  return cfa;
}

ImageF noisy_rgb(int w, int h, std::uint32_t seed) {
  ImageF img(3, w, h);
  for (int c = 0; c < 3; ++c) std::fill(img.plane(c), img.plane(c) + img.plane_size(), kBackground[c]);
  test::add_noise(img, kSigma, seed);
  return img;
}

struct Spike {
  int c, x, y;
};

// One spike per 16x16 cell, at a random spot inside it, amplitude log-uniform in [50, 3000] sigma.
std::vector<Spike> inject_spikes(ImageF& img, std::uint32_t seed, const BayerPattern* cfa_pattern) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pos(3, 12);
  std::uniform_real_distribution<double> log_amp(std::log(50.0), std::log(3000.0));
  std::vector<Spike> spikes;
  for (int cy = 0; cy + 16 <= img.height; cy += 16) {
    for (int cx = 0; cx + 16 <= img.width; cx += 16) {
      const int x = cx + pos(rng), y = cy + pos(rng);
      const int c = cfa_pattern ? 0 : static_cast<int>(spikes.size() % img.channels);
      img.at(c, y, x) += static_cast<float>(kSigma * std::exp(log_amp(rng)));
      spikes.push_back({c, x, y});
    }
  }
  return spikes;
}

std::size_t count_changed(const ImageF& a, const ImageF& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i) n += a.data[i] != b.data[i];
  return n;
}

TEST(HotPixelsCfa, SpikesAreReplacedByTheLocalMedian) {
  for (BayerPattern p : kAllPatterns) {
    ImageF cfa = noisy_cfa(256, 192, p, 11);
    const std::vector<Spike> spikes = inject_spikes(cfa, 12, &p);
    const ImageF before = cfa;
    const std::size_t n = correct_hot_pixels_cfa(cfa, p);
    for (const Spike& s : spikes) {
      const float bg = kBackground[cfa_channel(p, s.x, s.y)];
      EXPECT_NEAR(cfa.at(0, s.y, s.x), bg, 1.5f * kSigma) << to_string(p) << " at " << s.x << "," << s.y;
    }
    EXPECT_GE(n, spikes.size());
    EXPECT_LE(n, spikes.size() + 1e-4 * cfa.data.size());  // + false positives on the noise
    EXPECT_EQ(count_changed(before, cfa), n);
  }
}

TEST(HotPixelsRgb, SpikesAreReplacedByTheLocalMedian) {
  ImageF img = noisy_rgb(256, 192, 21);
  const std::vector<Spike> spikes = inject_spikes(img, 22, nullptr);
  const ImageF before = img;
  const std::size_t n = correct_hot_pixels(img);
  for (const Spike& s : spikes) EXPECT_NEAR(img.at(s.c, s.y, s.x), kBackground[s.c], 1.5f * kSigma);
  EXPECT_GE(n, spikes.size());
  EXPECT_LE(n, spikes.size() + 1e-4 * img.data.size());
  EXPECT_EQ(count_changed(before, img), n);
}

TEST(HotPixels, SpikesOnTheBordersAreReplaced) {
  // Rows/columns 0, 1, n-2, n-1 are where mirrored windows could hide a spike behind its own reflection.
  const int w = 40, h = 30;
  const std::pair<int, int> spots[] = {{0, 0}, {1, 1}, {w - 1, h - 1}, {w - 2, h - 2}, {0, h - 2}, {w - 2, 0},
                                       {1, 15}, {20, 1}, {w - 1, 14}, {19, h - 1}};
  for (BayerPattern p : kAllPatterns) {
    for (auto [x, y] : spots) {
      ImageF cfa = noisy_cfa(w, h, p, 71);
      cfa.at(0, y, x) += 3000.0f;
      EXPECT_EQ(correct_hot_pixels_cfa(cfa, p), 1u) << to_string(p) << " at " << x << "," << y;
      EXPECT_NEAR(cfa.at(0, y, x), kBackground[cfa_channel(p, x, y)], 2.0f * kSigma);
    }
  }
  for (auto [x, y] : spots) {
    ImageF mono(1, w, h, 1000.0f);
    test::add_noise(mono, kSigma, 72);
    mono.at(0, y, x) += 3000.0f;
    EXPECT_EQ(correct_hot_pixels(mono), 1u) << "mono at " << x << "," << y;
    EXPECT_NEAR(mono.at(0, y, x), 1000.0f, 2.0f * kSigma);
  }
}

TEST(HotPixels, DegenerateSizesWork) {
  for (auto [w, h] : {std::pair{1, 1}, std::pair{1, 9}, std::pair{9, 1}, std::pair{3, 2}}) {
    ImageF cfa(1, w, h, 100.0f);
    cfa.at(0, h / 2, w / 2) = 50.0f;
    const ImageF before = cfa;
    correct_hot_pixels_cfa(cfa, BayerPattern::GRBG);
    EXPECT_EQ(cfa.data, before.data);  // a dip is never a hot pixel
    ImageF rgb(3, w, h, 100.0f);
    EXPECT_EQ(correct_hot_pixels(rgb), 0u);
  }
}

TEST(HotPixels, FlatFieldSpikeIsFoundDespiteZeroMad) {
  ImageF img(1, 20, 20, 500.0f);
  img.at(0, 9, 7) = 900.0f;
  EXPECT_EQ(correct_hot_pixels(img), 1u);
  EXPECT_EQ(img.at(0, 9, 7), 500.0f);
  EXPECT_EQ(correct_hot_pixels(img), 0u);
}

// Star grid: FWHM 2.0..4 px, peak 50..500 sigma, centres on a pixel and at sub-pixel offsets, so each colour of
// CFA site gets a peak. The star colour is mildly red (R 1.3, G 1.0, B 0.7 of the grey flux) as real stars are.
struct StarSpec {
  double x, y, fwhm, peak;
};

std::vector<StarSpec> star_grid(int w, int h) {
  const double fwhms[] = {2.0, 2.5, 3.0, 4.0};
  const double peaks[] = {50.0, 150.0, 500.0};
  const double offsets[][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0.5, 0.5}, {0.3, -0.2}, {0.5, 0.0}};
  std::vector<StarSpec> stars;
  int i = 0;
  for (double f : fwhms) {
    for (double pk : peaks) {
      for (const auto& o : offsets) {
        const int gx = 12 + 24 * (i % ((w - 12) / 24)), gy = 12 + 24 * (i / ((w - 12) / 24));
        ++i;
        if (gy + 12 > h) return stars;
        stars.push_back({gx + o[0], gy + o[1], f, pk * kSigma});
      }
    }
  }
  return stars;
}

constexpr double kStarColour[3] = {1.3, 1.0, 0.7};

void expect_stars_untouched(const ImageF& before, const ImageF& after, int c, const std::vector<StarSpec>& stars,
                            const char* what) {
  for (const StarSpec& s : stars) {
    const int sx = static_cast<int>(std::lround(s.x)), sy = static_cast<int>(std::lround(s.y));
    float peak_before = -1e30f, peak_after = -1e30f, floor = 1e30f;
    int changed = 0;
    for (int y = sy - 3; y <= sy + 3; ++y) {
      for (int x = sx - 3; x <= sx + 3; ++x) {
        peak_before = std::max(peak_before, before.at(c, y, x));
        floor = std::min(floor, before.at(c, y, x));
        peak_after = std::max(peak_after, after.at(c, y, x));
        changed += before.at(c, y, x) != after.at(c, y, x);
      }
    }
    EXPECT_NEAR(peak_after, peak_before, 0.01 * (peak_before - floor))
        << what << " star fwhm " << s.fwhm << " peak " << s.peak << " at " << s.x << "," << s.y;
    EXPECT_EQ(changed, 0) << what << " star fwhm " << s.fwhm << " peak " << s.peak << " at " << s.x << "," << s.y;
  }
}

TEST(HotPixelsCfa, StarCoresAreKept) {
  for (BayerPattern p : kAllPatterns) {
    ImageF cfa = noisy_cfa(300, 220, p, 31);
    const auto stars = star_grid(cfa.width, cfa.height);
    ASSERT_EQ(stars.size(), 84u);
    ImageF rgb_flux(3, cfa.width, cfa.height);
    for (const StarSpec& s : stars) {
      for (int c = 0; c < 3; ++c) test::add_star(rgb_flux, c, s.x, s.y, s.fwhm, s.peak * kStarColour[c]);
    }
    const ImageF flux = test::mosaic(rgb_flux, p);
    for (std::size_t i = 0; i < cfa.data.size(); ++i) cfa.data[i] += flux.data[i];
    const ImageF before = cfa;
    ImageF naive = cfa;
    correct_hot_pixels_cfa(cfa, p);
    expect_stars_untouched(before, cfa, 0, stars, std::string(to_string(p)).c_str());
    // Without the isolation margin (ratio 1: little more than ZeMosaic's rule) star cores do get clipped, so it is
    // the isolation test that keeps them.
    HotPixelParams weak;
    weak.isolation_ratio = 1.0f;
    EXPECT_GT(correct_hot_pixels_cfa(naive, p, weak), stars.size() / 4);
  }
}

TEST(HotPixelsRgb, StarCoresAreKept) {
  ImageF img = noisy_rgb(300, 220, 41);
  const auto stars = star_grid(img.width, img.height);
  for (const StarSpec& s : stars) {
    for (int c = 0; c < 3; ++c) test::add_star(img, c, s.x, s.y, s.fwhm, s.peak * kStarColour[c]);
  }
  const ImageF before = img;
  correct_hot_pixels(img);
  for (int c = 0; c < 3; ++c) expect_stars_untouched(before, img, c, stars, "rgb");
}

TEST(HotPixels, PureNoiseIsAlmostNeverTouched) {
  ImageF cfa = noisy_cfa(1024, 1024, BayerPattern::GRBG, 51);
  const double cfa_rate = double(correct_hot_pixels_cfa(cfa, BayerPattern::GRBG)) / cfa.data.size();
  EXPECT_LT(cfa_rate, 1e-4);
  ImageF mono(1, 1024, 1024, 1000.0f);
  test::add_noise(mono, kSigma, 52);
  const double mono_rate = double(correct_hot_pixels(mono)) / mono.data.size();
  EXPECT_LT(mono_rate, 1e-4);
  RecordProperty("cfa_false_positive_rate", std::to_string(cfa_rate));
  RecordProperty("mono_false_positive_rate", std::to_string(mono_rate));
}

TEST(HotPixelsCfa, BandsAreBitIdenticalToWholeImage) {
  for (int h : {53, 54}) {
    for (BayerPattern p : {BayerPattern::GRBG, BayerPattern::RGGB}) {
      ImageF cfa = noisy_cfa(64, h, p, 61);
      inject_spikes(cfa, 62, &p);
      for (auto [x, y] : {std::pair{5, 0}, std::pair{60, h - 1}, std::pair{0, 1}, std::pair{33, h - 2}}) {
        cfa.at(0, y, x) += 5000.0f;  // spikes where the window is mirrored
      }
      test::add_star(cfa, 0, 30.3, 26.6, 2.5, 2000.0);
      ImageF whole = cfa;
      const std::size_t n_whole = correct_hot_pixels_cfa(whole, p);
      ASSERT_GE(n_whole, 16u);

      std::vector<std::vector<int>> splits = {{0, h}, {0, 1, h}, {0, h - 1, h}, {0, 4, 5, 30, h - 6, h - 4, h}};
      std::vector<int> single_rows;
      for (int y = 0; y <= h; ++y) single_rows.push_back(y);
      splits.push_back(single_rows);
      for (const auto& cuts : splits) {
        ImageF banded(1, cfa.width, cfa.height, -1.0f);
        std::size_t n = 0;
        for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
          const int r0 = cuts[i], rows = cuts[i + 1] - cuts[i];
          const int in0 = std::max(0, r0 - kHotPixelHalo);
          const int in1 = std::min(cfa.height, r0 + rows + kHotPixelHalo);
          n += correct_hot_pixels_cfa_rows(p, {}, cfa.data.data() + std::size_t(in0) * cfa.width, cfa.width,
                                           cfa.height, in0, in1 - in0, r0, rows,
                                           banded.data.data() + std::size_t(r0) * cfa.width);
        }
        EXPECT_EQ(n, n_whole) << cuts.size() - 1 << " bands";
        ASSERT_EQ(banded.data, whole.data) << cuts.size() - 1 << " bands, height " << h;
      }
    }
  }
}

TEST(HotPixelsCfa, BandWithoutItsHaloIsRejected) {
  ImageF cfa(1, 16, 16, 1.0f);
  std::vector<float> out(4 * 16);
  EXPECT_THROW(correct_hot_pixels_cfa_rows(BayerPattern::RGGB, {}, cfa.data.data() + 5 * 16, 16, 16, 5, 6, 6, 4,
                                           out.data()),
               std::invalid_argument);
}

}  // namespace
}  // namespace zm
