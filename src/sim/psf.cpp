// Moffat profile evaluation and per-pixel integration.
#include "sim/psf.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace zm::sim {
namespace {

constexpr int kTableSize = 16384;
constexpr int kSub = 5;  // sub-samples per axis in the core

}  // namespace

MoffatPsf::MoffatPsf(double fwhm_px, double beta) : fwhm_(fwhm_px), beta_(beta) {
  if (!(fwhm_px > 0.3) || !(beta > 1.5)) throw std::invalid_argument("Moffat PSF needs FWHM > 0.3 px and beta > 1.5");
  alpha_ = fwhm_px / (2.0 * std::sqrt(std::pow(2.0, 1.0 / beta) - 1.0));
  inv_alpha2_ = 1.0 / (alpha_ * alpha_);
  norm_ = (beta - 1.0) / (std::numbers::pi * alpha_ * alpha_);
  core_r2_ = 4.0 * fwhm_px * fwhm_px;
  integer_part_ = static_cast<int>(std::floor(beta));
  const double frac = beta - integer_part_;
  if (frac > 1e-12) {
    table_.resize(kTableSize + 2);
    for (int i = 0; i <= kTableSize + 1; ++i) table_[i] = std::pow(static_cast<double>(i) / kTableSize, frac);
  }
}

double MoffatPsf::power(double t) const {
  double r = 1.0;
  for (int i = 0; i < integer_part_; ++i) r *= t;
  if (table_.empty()) return r;
  const double f = t * kTableSize;
  const int i = static_cast<int>(f);
  const double w = f - i;
  return r * (table_[i] + w * (table_[i + 1] - table_[i]));
}

double MoffatPsf::pixel_fraction(double dx, double dy) const {
  const double r2 = dx * dx + dy * dy;
  if (r2 >= core_r2_) return cell_mean(r2, 1.0 / 6.0);
  constexpr double kSubH2Over6 = 1.0 / (kSub * kSub * 6.0);
  double sum = 0.0;
  for (int j = 0; j < kSub; ++j) {
    const double sy = dy + (j + 0.5) / kSub - 0.5;
    for (int i = 0; i < kSub; ++i) {
      const double sx = dx + (i + 0.5) / kSub - 0.5;
      sum += cell_mean(sx * sx + sy * sy, kSubH2Over6);
    }
  }
  return sum / (kSub * kSub);
}

double MoffatPsf::flux_outside(double r) const { return std::pow(1.0 + r * r * inv_alpha2_, 1.0 - beta_); }

int MoffatPsf::stamp_radius(double flux) const {
  // Lost-flux criterion: (1 + R^2/alpha^2)^(1-beta) = kLostFraction.
  const double r_loss = alpha_ * std::sqrt(std::pow(kLostFraction, 1.0 / (1.0 - beta_)) - 1.0);
  // Wing criterion: flux * norm * (1 + R^2/alpha^2)^-beta = kWingFloorAdu.
  double r_wing = 0.0;
  const double peak = std::fabs(flux) * norm_;
  if (peak > kWingFloorAdu) r_wing = alpha_ * std::sqrt(std::pow(peak / kWingFloorAdu, 1.0 / beta_) - 1.0);
  const double r = std::max(r_loss, r_wing);
  return std::clamp(static_cast<int>(std::ceil(r)), 2, kMaxRadius);
}

}  // namespace zm::sim
