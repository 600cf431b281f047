// Shared helpers for the WCS tests: synthetic headers, independent reference projections, real-data paths.
#pragma once

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "io/fits_header.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace zm::test {

inline constexpr double kDeg = std::numbers::pi / 180.0;
inline constexpr double kRad = 180.0 / std::numbers::pi;

// CD matrix (deg/px) for a square pixel of `arcsec`, image +Y at position angle `pa_deg` E of N, east left.
inline std::array<double, 4> rotated_cd(double arcsec, double pa_deg) {
  const double s = arcsec / 3600.0, c = std::cos(pa_deg * kDeg), n = std::sin(pa_deg * kDeg);
  return {-s * c, s * n, s * n, s * c};
}

struct HeaderSpec {
  std::string projection = "TAN";
  double ra0 = 150.0, dec0 = 30.0;
  double crpix1 = 1000.5, crpix2 = 750.5;  // 1-based, as in the header
  std::array<double, 4> cd = rotated_cd(2.0, 20.0);
  int width = 2000, height = 1500;
};

inline FitsHeader make_header(const HeaderSpec& s) {
  FitsHeader h;
  h.set("SIMPLE", true);
  h.set("BITPIX", -32LL);
  h.set("NAXIS", 2LL);
  h.set("NAXIS1", static_cast<long long>(s.width));
  h.set("NAXIS2", static_cast<long long>(s.height));
  h.set("CTYPE1", "RA---" + s.projection);
  h.set("CTYPE2", "DEC--" + s.projection);
  h.set("CRVAL1", s.ra0);
  h.set("CRVAL2", s.dec0);
  h.set("CRPIX1", s.crpix1);
  h.set("CRPIX2", s.crpix2);
  h.set("CD1_1", s.cd[0]);
  h.set("CD1_2", s.cd[1]);
  h.set("CD2_1", s.cd[2]);
  h.set("CD2_2", s.cd[3]);
  h.set("CUNIT1", std::string("deg"));
  h.set("CUNIT2", std::string("deg"));
  return h;
}

// Inverse gnomonic projection in the classical standard-coordinate (plate constant) form of photographic
// astrometry: (xi, eta) in degrees, xi towards east, about the tangent point (ra0, dec0). Deliberately a
// different formulation from the (phi, theta) route of Calabretta & Greisen used in the TAN reference test.
inline std::pair<double, double> gnomonic_inverse(double ra0, double dec0, double xi_deg, double eta_deg) {
  const double xi = xi_deg * kDeg, eta = eta_deg * kDeg, d0 = dec0 * kDeg;
  const double denom = std::cos(d0) - eta * std::sin(d0);
  double ra = ra0 + std::atan2(xi, denom) * kRad;
  const double dec = std::atan2(eta * std::cos(d0) + std::sin(d0), std::hypot(xi, denom)) * kRad;
  ra = std::fmod(ra, 360.0);
  if (ra < 0) ra += 360.0;
  return {ra, dec};
}

// SIP polynomial coefficients: {p, q} -> value.
using SipTerms = std::map<std::pair<int, int>, double>;

inline double sip_poly(const SipTerms& t, double u, double v) {
  double s = 0.0;
  for (const auto& [pq, c] : t) s += c * std::pow(u, pq.first) * std::pow(v, pq.second);
  return s;
}

// Independent SIP forward model (Shupe et al. 2005, ASP Conf. Ser. 347, 491): u, v relative to CRPIX,
// (u + f, v + g) through CD into intermediate world coordinates, then the gnomonic projection.
// Pixel (x, y) is 0-based, crpix 1-based as in the header.
inline std::pair<double, double> sip_reference(double x, double y, double ra0, double dec0, double crpix1,
                                               double crpix2, const std::array<double, 4>& cd, const SipTerms& a,
                                               const SipTerms& b) {
  const double u = (x + 1.0) - crpix1, v = (y + 1.0) - crpix2;
  const double uu = u + sip_poly(a, u, v), vv = v + sip_poly(b, u, v);
  return gnomonic_inverse(ra0, dec0, cd[0] * uu + cd[1] * vv, cd[2] * uu + cd[3] * vv);
}

// Angular separation in arcsec from the haversine formula (independent of the code under test).
inline double separation_arcsec(double ra1, double dec1, double ra2, double dec2) {
  const double dr = (ra2 - ra1) * kDeg, dd = (dec2 - dec1) * kDeg;
  const double h = std::sin(dd / 2) * std::sin(dd / 2) +
                   std::cos(dec1 * kDeg) * std::cos(dec2 * kDeg) * std::sin(dr / 2) * std::sin(dr / 2);
  return 2.0 * std::asin(std::min(1.0, std::sqrt(h))) * kRad * 3600.0;
}

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The astrometry.net sidecars of the real Seestar frames, or nullopt when the shared data is absent.
inline std::optional<std::filesystem::path> seestar_wcs_dir() {
  auto data = shared_data_dir();
  if (!data) return std::nullopt;
  auto dir = *data / "real" / "seestar_m94" / "wcs";
  if (!std::filesystem::is_directory(dir)) return std::nullopt;
  return dir;
}

// A grid of n x n pixel positions spanning the image (edges included) and a margin beyond it.
inline void pixel_grid(int width, int height, int n, double margin, std::vector<double>& xs, std::vector<double>& ys) {
  xs.clear();
  ys.clear();
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      xs.push_back(-margin + (width - 1 + 2 * margin) * i / (n - 1));
      ys.push_back(-margin + (height - 1 + 2 * margin) * j / (n - 1));
    }
}

}  // namespace zm::test
