// Synthetic star images and star lists for the stars tests: exact pixel-integrated Gaussians, sub-sampled Moffats.
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "stars/star.hpp"

namespace zm::test {

struct TruthStar {
  double x = 0.0, y = 0.0, flux = 0.0;
};

// Integral of a unit 1-D Gaussian (sigma s, centre c) over the pixel [i - 0.5, i + 0.5].
inline double gauss_pixel(int i, double c, double s) {
  const double k = 1.0 / (std::sqrt(2.0) * s);
  return 0.5 * (std::erf((i + 0.5 - c) * k) - std::erf((i - 0.5 - c) * k));
}

// Adds a pixel-integrated circular Gaussian star (exact: the 2-D integral factorises).
inline void add_gaussian(std::vector<float>& img, int w, int h, const TruthStar& s, double fwhm) {
  const double sig = fwhm / 2.3548200450309493;
  const int r = static_cast<int>(std::ceil(6 * sig)) + 1;
  const int cx = static_cast<int>(std::lround(s.x)), cy = static_cast<int>(std::lround(s.y));
  for (int y = std::max(0, cy - r); y <= std::min(h - 1, cy + r); ++y) {
    const double gy = gauss_pixel(y, s.y, sig);
    for (int x = std::max(0, cx - r); x <= std::min(w - 1, cx + r); ++x)
      img[static_cast<std::size_t>(y) * w + x] += static_cast<float>(s.flux * gy * gauss_pixel(x, s.x, sig));
  }
}

// Adds a circular Moffat star integrated over each pixel with a 5x5 midpoint rule (symmetric, so it does not
// move the centroid); wings are cut at 6 FWHM, the flux normalised to what was rendered.
inline void add_moffat(std::vector<float>& img, int w, int h, const TruthStar& s, double fwhm, double beta) {
  const double alpha = fwhm / (2.0 * std::sqrt(std::pow(2.0, 1.0 / beta) - 1.0));
  const int r = static_cast<int>(std::ceil(6 * fwhm));
  const int cx = static_cast<int>(std::lround(s.x)), cy = static_cast<int>(std::lround(s.y));
  constexpr int kSub = 5;
  std::vector<double> vals;
  std::vector<std::size_t> where;
  double total = 0.0;
  for (int y = std::max(0, cy - r); y <= std::min(h - 1, cy + r); ++y) {
    for (int x = std::max(0, cx - r); x <= std::min(w - 1, cx + r); ++x) {
      double acc = 0.0;
      for (int sy = 0; sy < kSub; ++sy) {
        for (int sx = 0; sx < kSub; ++sx) {
          const double dx = x - 0.5 + (sx + 0.5) / kSub - s.x, dy = y - 0.5 + (sy + 0.5) / kSub - s.y;
          acc += std::pow(1.0 + (dx * dx + dy * dy) / (alpha * alpha), -beta);
        }
      }
      vals.push_back(acc);
      where.push_back(static_cast<std::size_t>(y) * w + x);
      total += acc;
    }
  }
  for (std::size_t i = 0; i < vals.size(); ++i) img[where[i]] += static_cast<float>(s.flux * vals[i] / total);
}

// Sky: level + gradient (ADU per px along x and y) + Gaussian noise of `sigma` (0 = none).
inline std::vector<float> sky(int w, int h, double level, double gx, double gy, double sigma, unsigned seed) {
  std::vector<float> img(static_cast<std::size_t>(w) * h);
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      img[static_cast<std::size_t>(y) * w + x] =
          static_cast<float>(level + gx * x + gy * y + (sigma > 0.0 ? sigma * n(rng) : 0.0));
  return img;
}

// Random well-separated positions inside [margin, w - margin) x [margin, h - margin).
inline std::vector<TruthStar> scatter(int n, int w, int h, double margin, double min_sep, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ux(margin, w - margin), uy(margin, h - margin);
  std::vector<TruthStar> out;
  for (int tries = 0; static_cast<int>(out.size()) < n && tries < 100 * n; ++tries) {
    const TruthStar c{ux(rng), uy(rng), 0.0};
    bool ok = true;
    for (const TruthStar& o : out) ok = ok && std::hypot(o.x - c.x, o.y - c.y) >= min_sep;
    if (ok) out.push_back(c);
  }
  return out;
}

// Index of the star nearest to (x, y) within `radius`, or -1.
template <class S>
int nearest_star(const std::vector<S>& stars, double x, double y, double radius) {
  int best = -1;
  double bd = radius;
  for (std::size_t i = 0; i < stars.size(); ++i) {
    const double d = std::hypot(stars[i].x - x, stars[i].y - y);
    if (d <= bd) {
      bd = d;
      best = static_cast<int>(i);
    }
  }
  return best;
}

}  // namespace zm::test
