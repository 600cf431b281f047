// The simulated point-spread function: a circular Moffat profile, integrated over pixels.
//
// I(r) = (beta - 1) / (pi alpha^2) * (1 + r^2/alpha^2)^-beta integrates to 1 over the plane, with
// alpha = FWHM / (2 sqrt(2^(1/beta) - 1)). A pixel's value is the integral of I over its square, computed with
// the midpoint rule plus its second-order term (cell mean = I + h^2/24 * Laplacian(I), exact up to O(h^4)):
// pixels whose centre lies within 2 FWHM of the star are split into 5x5 sub-cells, further out the whole pixel
// is one cell. Relative error < 1e-4 of the flux in any pixel. Frames and truth.fits use this same operator.
#pragma once

#include <vector>

namespace zm::sim {

class MoffatPsf {
 public:
  MoffatPsf(double fwhm_px, double beta);

  double fwhm() const { return fwhm_; }
  double beta() const { return beta_; }
  double alpha() const { return alpha_; }
  // Surface brightness at squared radius r2 (px^2) for unit flux.
  double density(double r2) const {
    const double t = 1.0 / (1.0 + r2 * inv_alpha2_);
    return norm_ * power(t);
  }
  // Mean surface brightness over a square cell of side h centred at squared radius r2 (to O(h^4)).
  double cell_mean(double r2, double h2_over_6) const {
    const double t = 1.0 / (1.0 + r2 * inv_alpha2_);
    const double ta = t * inv_alpha2_;
    // Laplacian of g(r^2) = 4 (g' + r^2 g''), with g' = -beta g t / a^2, g'' = beta (beta + 1) g t^2 / a^4.
    return norm_ * power(t) * (1.0 + h2_over_6 * beta_ * ta * ((beta_ + 1.0) * r2 * ta - 1.0));
  }
  // Integral over the pixel whose centre is offset (dx, dy) px from the star, for unit flux.
  double pixel_fraction(double dx, double dy) const;
  // Fraction of the flux outside radius r.
  double flux_outside(double r) const;
  // Stamp radius (px) for a star of `flux`: beyond it at most 1e-3 of the flux is lost and the surface
  // brightness is below 0.05 ADU/px, capped at kMaxRadius.
  int stamp_radius(double flux) const;

  static constexpr int kMaxRadius = 64;
  static constexpr double kLostFraction = 1e-3;
  static constexpr double kWingFloorAdu = 0.05;

 private:
  // t^beta for t in [0, 1]: t^floor(beta) by multiplication times a table of t^frac(beta) (relative
  // interpolation error < 1e-5 wherever a stamp reaches).
  double power(double t) const;

  double fwhm_;
  double beta_;
  double alpha_;
  double inv_alpha2_;
  double norm_;
  double core_r2_;
  int integer_part_ = 0;
  std::vector<double> table_;  // t^(beta - integer_part) on [0, 1]; empty for integer beta
};

}  // namespace zm::sim
