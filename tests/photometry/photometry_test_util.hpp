// A known sky (gradient + nebulae + stars, per channel) rendered into master-tile FITS files with known
// photometric distortions, for ground-truth tests of the Phase 4.5 harmonisation.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <random>
#include <vector>

#include "image/image.hpp"
#include "io/fits_writer.hpp"
#include "wcs/wcs.hpp"

namespace zm::test {

inline constexpr double kDegR = std::numbers::pi / 180.0;

inline std::array<double, 4> cd_for(double arcsec, double pa_deg) {
  const double s = arcsec / 3600.0, c = std::cos(pa_deg * kDegR), n = std::sin(pa_deg * kDegR);
  return {-s * c, s * n, s * n, s * c};
}

// Gnomonic standard coordinates (arcsec, xi east, eta north) of (ra, dec) about c.
inline void std_arcsec(SkyCoord c, double ra, double dec, double& xi, double& eta) {
  const double da = (ra - c.ra) * kDegR, d0 = c.dec * kDegR, d = dec * kDegR;
  const double cosc = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(da);
  xi = std::cos(d) * std::sin(da) / cosc * 206264.80624709636;
  eta = (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(da)) / cosc * 206264.80624709636;
}

struct Blob {
  double xi, eta, sigma, amp;
};
struct Star {
  double ra, dec, amp;
};

struct Sky {
  SkyCoord centre{100.0, 20.0};
  std::array<double, 3> channel_scale{1.0, 0.8, 0.65};
  std::vector<Blob> blobs;
  std::vector<Star> stars;
  double star_sigma_arcsec = 3.0;
  double level = 800.0, grad_xi = 0.5, grad_eta = 0.3;  // ADU, ADU per arcsec

  double smooth(double xi, double eta) const {
    double v = level + grad_xi * xi + grad_eta * eta;
    for (const Blob& b : blobs) {
      const double dx = xi - b.xi, dy = eta - b.eta;
      v += b.amp * std::exp(-0.5 * (dx * dx + dy * dy) / (b.sigma * b.sigma));
    }
    return v;
  }
};

inline Sky make_sky(int n_stars, unsigned seed = 7) {
  Sky sky;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> pos(-1200.0, 1200.0), u01(0.0, 1.0);
  for (int k = 0; k < 6; ++k) sky.blobs.push_back({pos(rng), pos(rng), 150.0 + 150.0 * u01(rng), 400.0 + 1200.0 * u01(rng)});
  for (int k = 0; k < n_stars; ++k) {
    const double xi = pos(rng) / 206264.80624709636, eta = pos(rng) / 206264.80624709636;
    // inverse gnomonic about the centre
    const double d0 = sky.centre.dec * kDegR;
    const double ra = sky.centre.ra + std::atan2(xi, std::cos(d0) - eta * std::sin(d0)) / kDegR;
    const double dec = std::atan2(eta * std::cos(d0) + std::sin(d0), std::hypot(xi, std::cos(d0) - eta * std::sin(d0))) / kDegR;
    sky.stars.push_back({ra, dec, 200.0 * std::pow(100.0, u01(rng))});
  }
  return sky;
}

struct TileSpec {
  SkyCoord centre;
  double pa_deg = 0.0;
  int width = 400, height = 300;
  double arcsec = 2.0;
  std::array<double, 3> gain{1, 1, 1};    // truth correction: sky = gain * raw + offset
  std::array<double, 3> offset{0, 0, 0};
  double noise = 3.0;
  double star_sigma_arcsec = 0.0;          // PSF of this tile; 0 = the sky's
  int alpha_cut = 40;                      // pixels with x + y < alpha_cut have ALPHA 0 (and data 0)
};

inline Wcs tile_wcs(const TileSpec& t) {
  return Wcs::make_tan(t.centre, {0.5 * (t.width - 1), 0.5 * (t.height - 1)}, cd_for(t.arcsec, t.pa_deg), t.width,
                       t.height);
}

// Renders the tile (C = 3) and its ALPHA plane.
inline ImageF render_tile(const Sky& sky, const TileSpec& t, std::vector<std::uint8_t>& alpha, unsigned seed) {
  Wcs wcs = tile_wcs(t);
  const int W = t.width, H = t.height;
  std::vector<double> sky_plane(static_cast<std::size_t>(W) * H);
  std::vector<double> xs(W), ys(W), ra(W), dec(W);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) xs[x] = x, ys[x] = y;
    wcs.pixel_to_world(xs, ys, ra, dec);
    for (int x = 0; x < W; ++x) {
      double xi, eta;
      std_arcsec(sky.centre, ra[x], dec[x], xi, eta);
      sky_plane[static_cast<std::size_t>(y) * W + x] = sky.smooth(xi, eta);
    }
  }
  const double psf = t.star_sigma_arcsec > 0 ? t.star_sigma_arcsec : sky.star_sigma_arcsec;
  const double sp = psf / t.arcsec;
  const double flux_keep = (sky.star_sigma_arcsec / psf) * (sky.star_sigma_arcsec / psf);  // same flux, any PSF
  const int half = static_cast<int>(std::ceil(6 * sp));
  for (const Star& s : sky.stars) {
    const auto p = wcs.world_to_pixel({s.ra, s.dec});
    if (!p || p->x < -half || p->y < -half || p->x > W + half || p->y > H + half) continue;
    const int cx = static_cast<int>(std::lround(p->x)), cy = static_cast<int>(std::lround(p->y));
    for (int y = std::max(0, cy - half); y <= std::min(H - 1, cy + half); ++y)
      for (int x = std::max(0, cx - half); x <= std::min(W - 1, cx + half); ++x) {
        const double dx = x - p->x, dy = y - p->y;
        sky_plane[static_cast<std::size_t>(y) * W + x] += flux_keep * s.amp * std::exp(-0.5 * (dx * dx + dy * dy) / (sp * sp));
      }
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, t.noise);
  ImageF img(3, W, H);
  alpha.assign(static_cast<std::size_t>(W) * H, 255);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const double truth = sky.channel_scale[c] * sky_plane[static_cast<std::size_t>(y) * W + x];
        const bool off = x + y < t.alpha_cut;
        if (off) alpha[static_cast<std::size_t>(y) * W + x] = 0;
        img.at(c, y, x) = off ? 0.0f : static_cast<float>((truth - t.offset[c]) / t.gain[c] + noise(rng));
      }
  return img;
}

inline void write_tile(const std::filesystem::path& path, const ImageF& img, const Wcs& wcs,
                       std::vector<std::uint8_t> alpha, double nframes = 0) {
  FitsHeader h;
  wcs.write_to_header(h);
  if (nframes > 0) h.set("ZMT_NSTK", nframes);
  std::vector<FitsExtension> ext;
  if (!alpha.empty()) ext.push_back(FitsExtension{"ALPHA", img.width, img.height, std::move(alpha), {}, {}});
  write_fits_float(path, img, h, ext);
}

}  // namespace zm::test
