#include "wcs/tan_sip.hpp"

#include <wcslib/dis.h>
#include <wcslib/wcs.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "wcs/wcs_keys.hpp"

namespace zm {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kRad = 180.0 / std::numbers::pi;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxNewton = 30;

// For ra in (-360, 720): what pixel_to_world produces from an ra0 in [0, 360). Cheaper than fmod in the row loop.
double wrap_ra(double ra) {
  if (ra < 0.0) {
    ra += 360.0;
    return ra >= 360.0 ? 0.0 : ra;  // -1e-17 + 360 rounds to 360
  }
  return ra >= 360.0 ? ra - 360.0 : ra;
}

double record_value(const dpkey& k) { return k.type == 0 ? static_cast<double>(k.value.i) : k.value.f; }

// Reads wcslib's translation of the SIP keywords (A_p_q -> DP1 'SIP.FWD.p_q', ...). False for any record this
// model would not honour (other renormalisations, axis maps or DOCORR = 0), leaving such headers to wcslib.
bool read_sip(const disprm& d, const double crpix_1based[2], SipPolynomial poly[2][2]) {
  if (std::strcmp(d.dtype[0], "SIP") != 0 || std::strcmp(d.dtype[1], "SIP") != 0) return false;
  for (int k = 0; k < d.ndp; ++k) {
    auto f = wcskeys::split_dp_field(d.dp[k].field);
    if (!f || f->axis < 1 || f->axis > 2 || d.dp[k].field[1] != 'P') return false;
    const double value = record_value(d.dp[k]);
    const std::string_view r = f->rest;
    if (r == "NAXES") {
      if (value != 2) return false;
    } else if (wcskeys::matches(r, "AXIS.@")) {
      if (value != r.back() - '0') return false;
    } else if (wcskeys::matches(r, "OFFSET.@")) {
      if (value != crpix_1based[r.back() - '1']) return false;
    } else if (r == "DOCORR") {
      if (value == 0) return false;
    } else if (wcskeys::matches(r, "SIP.FWD.#_#") || wcskeys::matches(r, "SIP.REV.#_#")) {
      auto pq = wcskeys::parse_pq(r.substr(8));
      if (!pq || pq->first + pq->second > SipPolynomial::kMaxOrder) return false;
      poly[f->axis - 1][r.substr(4, 3) == "REV" ? 1 : 0].add(pq->first, pq->second, value);
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

void SipPolynomial::add(int p, int q, double value) {
  if (value == 0.0) return;
  c[p][q] = value;
  order = std::max(order, p + q);
}

double SipPolynomial::value(double u, double v) const {
  double f = 0.0;
  for (int p = order; p >= 0; --p) {
    double row = 0.0;
    for (int q = order - p; q >= 0; --q) row = row * v + c[p][q];
    f = f * u + row;
  }
  return f;
}

// Horner with simultaneous derivative, in v inside each row and in u across rows.
void SipPolynomial::value_and_gradient(double u, double v, double& f, double& fu, double& fv) const {
  f = fu = fv = 0.0;
  for (int p = order; p >= 0; --p) {
    double row = 0.0, drow = 0.0;
    for (int q = order - p; q >= 0; --q) {
      drow = drow * v + row;
      row = row * v + c[p][q];
    }
    fu = fu * u + f;
    f = f * u + row;
    fv = fv * u + drow;
  }
}

std::optional<TanSipModel> TanSipModel::from_wcsprm(const wcsprm& w) {
  if (w.naxis != 2 || w.lng != 0 || w.lat != 1 || std::strcmp(w.cel.prj.code, "TAN") != 0) return std::nullopt;
  // Default native pole only: LONPOLE 180, no (phi0, theta0) offset, celestial pole at CRVAL.
  if (w.cel.offset || w.cel.ref[2] != 180.0 || w.lin.disseq) return std::nullopt;
  if (w.cel.euler[0] != w.crval[0] || std::fabs(w.cel.euler[1] - (90.0 - w.crval[1])) > 1e-12) return std::nullopt;

  TanSipModel m;
  if (w.lin.dispre) {
    SipPolynomial poly[2][2];
    if (!read_sip(*w.lin.dispre, w.crpix, poly)) return std::nullopt;
    m.a_ = poly[0][0];
    m.b_ = poly[1][0];
    m.ap_ = poly[0][1];
    m.bp_ = poly[1][1];
  }
  m.crpix_[0] = w.crpix[0] - 1.0;
  m.crpix_[1] = w.crpix[1] - 1.0;
  for (int k = 0; k < 4; ++k) m.cd_[k] = w.cdelt[k / 2] * w.pc[k] * kDeg;
  const double det = m.cd_[0] * m.cd_[3] - m.cd_[1] * m.cd_[2];
  if (!(std::fabs(det) > 0.0) || !std::isfinite(det)) return std::nullopt;
  m.cdinv_[0] = m.cd_[3] / det;
  m.cdinv_[1] = -m.cd_[1] / det;
  m.cdinv_[2] = -m.cd_[2] / det;
  m.cdinv_[3] = m.cd_[0] / det;
  m.ra0_ = std::fmod(w.crval[0], 360.0);
  if (m.ra0_ < 0.0) m.ra0_ += 360.0;
  m.sin_dec0_ = std::sin(w.crval[1] * kDeg);
  m.cos_dec0_ = std::cos(w.crval[1] * kDeg);
  return m;
}

void TanSipModel::pixel_to_world(std::span<const double> x, std::span<const double> y, std::span<double> ra,
                                 std::span<double> dec) const {
  const bool sip = !a_.empty() || !b_.empty();
  for (std::size_t i = 0; i < x.size(); ++i) {
    double u = x[i] - crpix_[0], v = y[i] - crpix_[1];
    if (!std::isfinite(u) || !std::isfinite(v)) {
      ra[i] = dec[i] = kNaN;
      continue;
    }
    if (sip) {
      const double du = a_.value(u, v), dv = b_.value(u, v);
      u += du;
      v += dv;
    }
    const double xi = cd_[0] * u + cd_[1] * v;
    const double eta = cd_[2] * u + cd_[3] * v;
    const double den = cos_dec0_ - eta * sin_dec0_;
    ra[i] = wrap_ra(ra0_ + std::atan2(xi, den) * kRad);
    dec[i] = std::atan2(eta * cos_dec0_ + sin_dec0_, std::sqrt(xi * xi + den * den)) * kRad;
  }
}

// Solves (u + f(u, v), v + g(u, v)) = (up, vp) by Newton's method.
bool TanSipModel::undistort(double up, double vp, double& u, double& v) const {
  u = up + ap_.value(up, vp);
  v = vp + bp_.value(up, vp);
  for (int it = 0; it < kMaxNewton; ++it) {
    double f, fu, fv, g, gu, gv;
    a_.value_and_gradient(u, v, f, fu, fv);
    b_.value_and_gradient(u, v, g, gu, gv);
    const double r1 = u + f - up, r2 = v + g - vp;
    const double j11 = 1.0 + fu, j12 = fv, j21 = gu, j22 = 1.0 + gv;
    const double det = j11 * j22 - j12 * j21;
    if (!std::isfinite(det) || det == 0.0) return false;
    const double du = (j22 * r1 - j12 * r2) / det, dv = (j11 * r2 - j21 * r1) / det;
    u -= du;
    v -= dv;
    // Quadratic convergence: after a step of d px the error left is about |f''| d^2, i.e. below 1e-20 px for
    // d = 1e-8 and any plausible SIP curvature, so one more iteration would change nothing.
    if (std::fabs(du) + std::fabs(dv) <= 1e-8) return std::isfinite(u + v);
  }
  return false;
}

void TanSipModel::world_to_pixel(std::span<const double> ra, std::span<const double> dec, std::span<double> x,
                                 std::span<double> y) const {
  const bool sip = !a_.empty() || !b_.empty();
  for (std::size_t i = 0; i < ra.size(); ++i) {
    const double da = (ra[i] - ra0_) * kDeg, d = dec[i] * kDeg;
    const double sin_d = std::sin(d), cos_d = std::cos(d), sin_da = std::sin(da), cos_da = std::cos(da);
    const double cosc = sin_dec0_ * sin_d + cos_dec0_ * cos_d * cos_da;
    // cosc <= 0: the far hemisphere, which the gnomonic projection does not reach (wcslib: theta < 0).
    if (!(cosc > 0.0) || !std::isfinite(da)) {
      x[i] = y[i] = kNaN;
      continue;
    }
    const double xi = cos_d * sin_da / cosc;
    const double eta = (cos_dec0_ * sin_d - sin_dec0_ * cos_d * cos_da) / cosc;
    double u = cdinv_[0] * xi + cdinv_[1] * eta, v = cdinv_[2] * xi + cdinv_[3] * eta;
    if (sip && !undistort(u, v, u, v)) {
      x[i] = y[i] = kNaN;
      continue;
    }
    x[i] = u + crpix_[0];
    y[i] = v + crpix_[1];
  }
}

}  // namespace zm
