// Synthetic images for the colour-processing tests: mosaicing RGB into a CFA, noise, Gaussian stars.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

#include "image/debayer.hpp"
#include "image/image.hpp"

namespace zm::test {

// Samples an RGB image through a Bayer pattern: each pixel keeps the channel its site sees.
inline ImageF mosaic(const ImageF& rgb, BayerPattern p) {
  ImageF cfa(1, rgb.width, rgb.height);
  for (int y = 0; y < rgb.height; ++y) {
    for (int x = 0; x < rgb.width; ++x) cfa.at(0, y, x) = rgb.at(cfa_channel(p, x, y), y, x);
  }
  return cfa;
}

// Adds i.i.d. Gaussian noise (fixed seed, so tests are reproducible).
inline void add_noise(ImageF& img, float sigma, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, sigma);
  for (float& v : img.data) v += n(rng);
}

// Adds a circular Gaussian of the given FWHM and peak amplitude, centred at (cx, cy), to plane c.
inline void add_star(ImageF& img, int c, double cx, double cy, double fwhm, double peak) {
  const double s2 = 2.0 * std::pow(fwhm / 2.354820045, 2);
  const int r = static_cast<int>(std::ceil(3.0 * fwhm));
  for (int y = static_cast<int>(cy) - r; y <= static_cast<int>(cy) + r; ++y) {
    for (int x = static_cast<int>(cx) - r; x <= static_cast<int>(cx) + r; ++x) {
      if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
      const double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy);
      img.at(c, y, x) += static_cast<float>(peak * std::exp(-d2 / s2));
    }
  }
}

constexpr BayerPattern kAllPatterns[] = {BayerPattern::RGGB, BayerPattern::BGGR, BayerPattern::GRBG,
                                         BayerPattern::GBRG};
constexpr DebayerMethod kAllMethods[] = {DebayerMethod::Bilinear, DebayerMethod::EdgeAware};

}  // namespace zm::test
