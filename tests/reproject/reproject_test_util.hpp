// Shared helpers of the reprojection tests: TAN and TAN-SIP WCS builders, analytic sky images, comparisons.
#pragma once

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "image/image.hpp"
#include "io/fits_header.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "wcs/wcs.hpp"

namespace zm::reproject_test {

constexpr double kDeg = std::numbers::pi / 180.0;

// CD matrix (deg/px) of a non-flipped grid rotated by rot_deg (CROTA2 convention).
inline std::array<double, 4> cd_matrix(double scale_arcsec, double rot_deg) {
  const double s = scale_arcsec / 3600.0;
  const double c = std::cos(rot_deg * kDeg);
  const double n = std::sin(rot_deg * kDeg);
  return {-s * c, s * n, s * n, s * c};
}

inline Wcs tan_wcs(SkyCoord crval, double scale_arcsec, double rot_deg, int w, int h, double dx = 0.0,
                   double dy = 0.0) {
  return Wcs::make_tan(crval, PixelCoord{(w - 1) / 2.0 + dx, (h - 1) / 2.0 + dy}, cd_matrix(scale_arcsec, rot_deg),
                       w, h);
}

// A TAN-SIP WCS with forward coefficients A_p_q / B_p_q (no inverse polynomial: wcslib iterates).
struct SipTerm {
  int p;
  int q;
  double a;
  double b;
};

inline Wcs sip_wcs(SkyCoord crval, double scale_arcsec, double rot_deg, int w, int h, int order,
                   const std::vector<SipTerm>& terms) {
  FitsHeader hd;
  const std::array<double, 4> cd = cd_matrix(scale_arcsec, rot_deg);
  hd.set("NAXIS", 2LL);
  hd.set("NAXIS1", static_cast<long long>(w));
  hd.set("NAXIS2", static_cast<long long>(h));
  hd.set("CTYPE1", std::string("RA---TAN-SIP"));
  hd.set("CTYPE2", std::string("DEC--TAN-SIP"));
  hd.set("CRVAL1", crval.ra);
  hd.set("CRVAL2", crval.dec);
  hd.set("CRPIX1", (w + 1) / 2.0);
  hd.set("CRPIX2", (h + 1) / 2.0);
  hd.set("CD1_1", cd[0]);
  hd.set("CD1_2", cd[1]);
  hd.set("CD2_1", cd[2]);
  hd.set("CD2_2", cd[3]);
  hd.set("A_ORDER", static_cast<long long>(order));
  hd.set("B_ORDER", static_cast<long long>(order));
  for (const SipTerm& t : terms) {
    hd.set("A_" + std::to_string(t.p) + "_" + std::to_string(t.q), t.a);
    hd.set("B_" + std::to_string(t.p) + "_" + std::to_string(t.q), t.b);
  }
  return Wcs::from_header(hd, "test-sip", w, h);
}

// A mild camera distortion (about 1-2 px at the corners of a 400 x 300 frame).
inline Wcs mild_sip(SkyCoord crval, double scale_arcsec, double rot_deg, int w, int h) {
  return sip_wcs(crval, scale_arcsec, rot_deg, w, h, 3,
                 {{2, 0, 4e-6, -2e-6}, {1, 1, -3e-6, 5e-6}, {0, 2, 2e-6, 3e-6}, {3, 0, 1e-8, 0.0},
                  {1, 2, 0.0, -1.5e-8}, {2, 1, 8e-9, 6e-9}});
}

// The whole of a raw float32 file (the coadd's outputs).
inline std::vector<float> read_raw(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  in.seekg(0, std::ios::end);
  const auto n = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  std::vector<float> v(n / sizeof(float));
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n));
  return v;
}

// Sky positions of every pixel centre of a w x h grid, row-major.
inline void pixel_sky(Wcs& wcs, int w, int h, std::vector<double>& ra, std::vector<double>& dec) {
  const std::size_t n = static_cast<std::size_t>(w) * h;
  std::vector<double> x(n), y(n);
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      x[static_cast<std::size_t>(r) * w + c] = c;
      y[static_cast<std::size_t>(r) * w + c] = r;
    }
  ra.resize(n);
  dec.resize(n);
  wcs.pixel_to_world(x, y, ra, dec);
}

// Smooth function of the sky: sum of plane waves in direction cosines. Wavelengths ~100 and ~150 arcsec
// (40 and 60 input pixels at 2.5"/px), so every kernel resolves it and the errors are interpolation errors.
inline double sky_function(double ra_deg, double dec_deg) {
  const double ra = ra_deg * kDeg, dec = dec_deg * kDeg;
  const double u[3] = {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
  const double k1 = 2.0 * std::numbers::pi / (100.0 / 3600.0 * kDeg);
  const double k2 = 2.0 * std::numbers::pi / (150.0 / 3600.0 * kDeg);
  const double v1[3] = {0.6, 0.8, 0.0};
  const double v2[3] = {-0.3, 0.2, 0.93};
  const double d1 = u[0] * v1[0] + u[1] * v1[1] + u[2] * v1[2];
  const double d2 = u[0] * v2[0] + u[1] * v2[1] + u[2] * v2[2];
  return 100.0 + 20.0 * std::sin(k1 * d1 + 0.3) + 15.0 * std::cos(k2 * d2 + 1.1);
}

inline ImageF render_sky(const Wcs& grid, int channels = 1) {
  Wcs wcs = grid;  // transforms need a mutable instance
  std::vector<double> ra, dec;
  pixel_sky(wcs, wcs.width(), wcs.height(), ra, dec);
  ImageF img(channels, wcs.width(), wcs.height());
  for (int c = 0; c < channels; ++c)
    for (std::size_t i = 0; i < ra.size(); ++i)
      img.plane(c)[i] = static_cast<float>(sky_function(ra[i], dec[i]) * (1.0 + 0.25 * c));
  return img;
}

inline ImageF random_image(int c, int w, int h, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-50.0f, 1000.0f);
  ImageF img(c, w, h);
  for (float& v : img.data) v = u(rng);
  return img;
}

// Bitwise equality of float buffers (NaN payloads included).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Warps the whole output grid in one band, choosing the grid on the whole output.
inline WarpedBand warp_whole(const Wcs& out, const Wcs& in, const ImageF& img, Kernel k,
                             const PixelMapOptions& opt = {}) {
  const PixelRect all{0, 0, out.width(), out.height()};
  const MapGrid g = choose_map_grid(out, in, all, opt);
  return warp_band(img, compute_pixel_map(out, in, all, g), k);
}

}  // namespace zm::reproject_test
