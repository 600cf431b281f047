// Closed-form TAN (+ SIP) transforms: the fast path for the projection of nearly every input and output we handle.
//
// wcslib goes through (x, y) -> (phi, theta) -> (alpha, delta) with degree-based trig wrappers, about seven
// transcendental calls per point. For TAN with the default native pole (LONPOLE = 180, no phi0/theta0 offset)
// the same mapping is the gnomonic projection in standard coordinates:
//   u = x - CRPIX (+ SIP f(u, v)),  (xi, eta) = CD (u, v)   [Shupe et al. 2005; Calabretta & Greisen 2002]
//   alpha = alpha0 + atan2(xi, cos d0 - eta sin d0),  delta = atan2(eta cos d0 + sin d0, hypot(xi, cos d0 - eta sin d0))
// and its inverse, i.e. two or three calls per point. The SIP inverse is solved by Newton's method on the forward
// polynomial (started from AP/BP when present), so both directions are exact to rounding and agree with wcslib,
// which the tests check. Anything else (other projections, TPV, offsets, odd axis order) stays on wcslib.
#pragma once

#include <array>
#include <optional>
#include <span>

struct wcsprm;

namespace zm {

// sum over p + q <= order of c[p][q] u^p v^q, evaluated by nested Horner schemes (dense: SIP orders are small).
struct SipPolynomial {
  static constexpr int kMaxOrder = 9;  // wcslib's TPD, which carries SIP, stops at degree 9
  std::array<std::array<double, kMaxOrder + 1>, kMaxOrder + 1> c{};
  int order = -1;  // -1: no terms
  bool empty() const { return order < 0; }
  void add(int p, int q, double value);
  double value(double u, double v) const;
  // Value and partial derivatives.
  void value_and_gradient(double u, double v, double& f, double& fu, double& fv) const;
};

class TanSipModel {
 public:
  // The model when `prm` (after wcsset) is a plain or SIP-distorted TAN this class reproduces exactly.
  static std::optional<TanSipModel> from_wcsprm(const wcsprm& prm);

  // 0-based pixels in, degrees out (RA in [0, 360)); NaN for non-finite input.
  void pixel_to_world(std::span<const double> x, std::span<const double> y, std::span<double> ra,
                      std::span<double> dec) const;
  // NaN for points on the far hemisphere (no gnomonic image) or where the SIP inverse does not converge.
  void world_to_pixel(std::span<const double> ra, std::span<const double> dec, std::span<double> x,
                      std::span<double> y) const;

 private:
  bool undistort(double up, double vp, double& u, double& v) const;

  double crpix_[2] = {0, 0};  // 0-based
  double cd_[4] = {0, 0, 0, 0};     // radians per pixel
  double cdinv_[4] = {0, 0, 0, 0};  // pixels per radian
  double ra0_ = 0, sin_dec0_ = 0, cos_dec0_ = 1;  // ra0 in degrees
  SipPolynomial a_, b_, ap_, bp_;
};

}  // namespace zm
