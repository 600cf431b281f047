// Nebulosity: analytic clouds sampled onto a coarse raster, then read back with Catmull-Rom interpolation.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <tbb/parallel_for.h>

#include "sim/rng.hpp"
#include "sim/sky_model.hpp"

namespace zm::sim {
namespace {

constexpr int kWaves = 8;
constexpr int kMarginNodes = 3;  // nodes beyond the truth grid on each side

// Catmull-Rom weights for the 4 nodes around a fractional position t in [0, 1).
inline void cubic_weights(double t, double w[4]) {
  const double t2 = t * t;
  const double t3 = t2 * t;
  w[0] = 0.5 * (-t3 + 2.0 * t2 - t);
  w[1] = 0.5 * (3.0 * t3 - 5.0 * t2 + 2.0);
  w[2] = 0.5 * (-3.0 * t3 + 4.0 * t2 + t);
  w[3] = 0.5 * (t3 - t2);
}

}  // namespace

Nebula Nebula::generate(const SkyConfig& sky, double exposure_s, std::uint64_t seed, const TanGrid& truth) {
  Nebula n;
  Rng rng(seed, RngDomain::Nebula);
  const double scale_deg = std::hypot(truth.cd[0], truth.cd[2]);
  const double width_deg = truth.width * scale_deg;
  const double height_deg = truth.height * scale_deg;
  const double exposure_scale = exposure_s / 10.0;
  for (int k = 0; k < sky.nebula_clouds; ++k) {
    NebulaCloud c;
    // Centres within the central 70 % of the grid, so the clouds show in the mosaic.
    const PixelCoord centre{(0.15 + 0.7 * rng.uniform()) * truth.width, (0.15 + 0.7 * rng.uniform()) * truth.height};
    const auto st = truth.pixel_to_standard(centre);
    c.xi = st[0];
    c.eta = st[1];
    const double size = std::min(width_deg, height_deg);
    c.sigma_major = size * rng.uniform(0.08, 0.25);
    c.sigma_minor = c.sigma_major * rng.uniform(0.3, 0.7);
    c.angle_rad = rng.uniform(0.0, std::numbers::pi);
    c.amplitude = sky.nebula_peak_adu * exposure_scale * rng.uniform(0.4, 1.0);
    const bool reflection = rng.uniform() < 0.25;
    c.colour = reflection ? std::array<double, 3>{0.45, 0.65, 1.0}
                          : std::array<double, 3>{1.0, rng.uniform(0.22, 0.38), rng.uniform(0.18, 0.32)};
    n.clouds_.push_back(c);
  }
  for (int k = 0; k < kWaves; ++k) {
    // Wavelengths of 3'..20': structure inside the clouds, far broader than a star.
    const double wavelength_deg = rng.uniform(0.05, 0.33);
    const double dir = rng.uniform(0.0, 2.0 * std::numbers::pi);
    const double k_mag = 2.0 * std::numbers::pi / wavelength_deg;
    n.waves_.push_back({k_mag * std::cos(dir), k_mag * std::sin(dir), rng.uniform(0.0, 2.0 * std::numbers::pi)});
  }
  if (!n.clouds_.empty()) n.fill_raster(truth);
  return n;
}

std::array<double, 3> Nebula::evaluate(double xi, double eta) const {
  double wave = 0.0;
  for (const auto& w : waves_) wave += std::cos(w.k_xi * xi + w.k_eta * eta + w.phase);
  const double modulation = 1.0 + modulation_ * wave / static_cast<double>(std::max<std::size_t>(waves_.size(), 1));
  std::array<double, 3> v{};
  for (const auto& c : clouds_) {
    const double dx = xi - c.xi;
    const double dy = eta - c.eta;
    const double a = (dx * std::cos(c.angle_rad) + dy * std::sin(c.angle_rad)) / c.sigma_major;
    const double b = (-dx * std::sin(c.angle_rad) + dy * std::cos(c.angle_rad)) / c.sigma_minor;
    const double q = a * a + b * b;
    if (q > 64.0) continue;  // beyond 8 sigma: < 1e-13 of the peak
    const double g = c.amplitude * std::exp(-0.5 * q) * modulation;
    for (int ch = 0; ch < 3; ++ch) v[ch] += g * c.colour[ch];
  }
  return v;
}

void Nebula::fill_raster(const TanGrid& truth) {
  x0_ = -kMarginNodes * kStep;
  y0_ = -kMarginNodes * kStep;
  const int inner_x = (truth.width - 1 + 2 * kMarginNodes * kStep) / kStep + 2;
  const int inner_y = (truth.height - 1 + 2 * kMarginNodes * kStep) / kStep + 2;
  nx_ = inner_x + 2 * kPad;
  ny_ = inner_y + 2 * kPad;
  for (auto& r : raster_) r.assign(static_cast<std::size_t>(nx_) * ny_, 0.0f);
  // Rows are independent: parallel and still bit-identical.
  tbb::parallel_for(0, inner_y, [&](int j) {
    for (int i = 0; i < inner_x; ++i) {
      const auto st = truth.pixel_to_standard({x0_ + i * kStep, y0_ + j * kStep});
      const auto v = evaluate(st[0], st[1]);
      const std::size_t k = static_cast<std::size_t>(j + kPad) * nx_ + i + kPad;
      for (int c = 0; c < 3; ++c) raster_[c][k] = static_cast<float>(v[c]);
    }
  });
  // Replicate the edge nodes into the padding, so a stencil never needs per-tap clamping.
  for (auto& r : raster_) {
    for (int j = kPad; j < kPad + inner_y; ++j) {
      float* row = r.data() + static_cast<std::size_t>(j) * nx_;
      for (int p = 0; p < kPad; ++p) {
        row[p] = row[kPad];
        row[nx_ - 1 - p] = row[nx_ - 1 - kPad];
      }
    }
    for (int p = 0; p < kPad; ++p) {
      std::copy_n(r.data() + static_cast<std::size_t>(kPad) * nx_, nx_, r.data() + static_cast<std::size_t>(p) * nx_);
      std::copy_n(r.data() + static_cast<std::size_t>(ny_ - 1 - kPad) * nx_, nx_,
                  r.data() + static_cast<std::size_t>(ny_ - 1 - p) * nx_);
    }
  }
}

std::size_t Nebula::stencil(double X, double Y, double wx[4], double wy[4]) const {
  // Position in padded node units; clamping the base keeps the 4x4 stencil inside the padded raster (beyond the
  // edge the surface is then flat at the edge value, which only matters outside every frame).
  const double fx = std::clamp((X - x0_) / kStep + kPad, 1.0, nx_ - 2.000001);
  const double fy = std::clamp((Y - y0_) / kStep + kPad, 1.0, ny_ - 2.000001);
  const int ix = static_cast<int>(fx);
  const int iy = static_cast<int>(fy);
  cubic_weights(fx - ix, wx);
  cubic_weights(fy - iy, wy);
  return static_cast<std::size_t>(iy - 1) * nx_ + (ix - 1);
}

float Nebula::sample(int c, double X, double Y) const {
  if (nx_ == 0) return 0.0f;
  double wx[4], wy[4];
  const float* p = raster_[c].data() + stencil(X, Y, wx, wy);
  double sum = 0.0;
  for (int j = 0; j < 4; ++j, p += nx_) sum += wy[j] * (wx[0] * p[0] + wx[1] * p[1] + wx[2] * p[2] + wx[3] * p[3]);
  return static_cast<float>(sum);
}

void Nebula::sample_rgb(double X, double Y, float out[3]) const {
  if (nx_ == 0) {
    out[0] = out[1] = out[2] = 0.0f;
    return;
  }
  double wx[4], wy[4];
  const std::size_t base = stencil(X, Y, wx, wy);
  for (int c = 0; c < 3; ++c) {
    const float* p = raster_[c].data() + base;
    double sum = 0.0;
    for (int j = 0; j < 4; ++j, p += nx_) sum += wy[j] * (wx[0] * p[0] + wx[1] * p[1] + wx[2] * p[2] + wx[3] * p[3]);
    out[c] = static_cast<float>(sum);
  }
}

}  // namespace zm::sim
