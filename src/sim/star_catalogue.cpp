// Star catalogue generation (see sky_model.hpp for the model).
#include <algorithm>
#include <cmath>

#include "sim/psf.hpp"
#include "sim/rng.hpp"
#include "sim/sky_model.hpp"

namespace zm::sim {
namespace {

constexpr double kCellDeg = 0.25;

double planck(double lambda_um, double temperature_k) {
  constexpr double c2 = 14387.77;  // hc/k in um K
  return 1.0 / (std::pow(lambda_um, 5.0) * std::expm1(c2 / (lambda_um * temperature_k)));
}

// Inverse CDF of N(<m) ~ 10^(slope m) on [bright, faint].
double draw_magnitude(Rng& rng, const SkyConfig& sky) {
  const double lo = std::pow(10.0, sky.count_slope * (sky.mag_bright - sky.mag_limit));
  const double u = rng.uniform();
  return sky.mag_limit + std::log10(lo + u * (1.0 - lo)) / sky.count_slope;
}

// Most field stars are cool: log10 T = 3.5 + 0.6 u^1.5.
double draw_temperature(Rng& rng) { return std::pow(10.0, 3.5 + 0.6 * std::pow(rng.uniform(), 1.5)); }

struct Box {
  double lo_xi, hi_xi, lo_eta, hi_eta;
};

Box standard_box(const TanGrid& truth, double margin_px) {
  Box b{1e300, -1e300, 1e300, -1e300};
  const double x0 = -0.5 - margin_px, x1 = truth.width - 0.5 + margin_px;
  const double y0 = -0.5 - margin_px, y1 = truth.height - 0.5 + margin_px;
  for (const PixelCoord p : {PixelCoord{x0, y0}, PixelCoord{x1, y0}, PixelCoord{x1, y1}, PixelCoord{x0, y1}}) {
    const auto st = truth.pixel_to_standard(p);
    b.lo_xi = std::min(b.lo_xi, st[0]);
    b.hi_xi = std::max(b.hi_xi, st[0]);
    b.lo_eta = std::min(b.lo_eta, st[1]);
    b.hi_eta = std::max(b.hi_eta, st[1]);
  }
  return b;
}

}  // namespace

std::array<double, 3> star_colour(double temperature_k) {
  constexpr double kLambda[3] = {0.60, 0.53, 0.46};
  std::array<double, 3> rel{};
  for (int c = 0; c < 3; ++c) rel[c] = planck(kLambda[c], temperature_k) / planck(kLambda[c], 5800.0);
  return {rel[0] / rel[1], 1.0, rel[2] / rel[1]};
}

std::vector<Star> generate_stars(const SkyConfig& sky, double exposure_s, std::uint64_t seed, const TanGrid& truth,
                                 double margin_px) {
  std::vector<Star> stars;
  if (sky.star_density_per_deg2 <= 0.0) return stars;
  const Box box = standard_box(truth, margin_px);
  const auto ix0 = static_cast<long long>(std::floor(box.lo_xi / kCellDeg));
  const auto ix1 = static_cast<long long>(std::floor(box.hi_xi / kCellDeg));
  const auto iy0 = static_cast<long long>(std::floor(box.lo_eta / kCellDeg));
  const auto iy1 = static_cast<long long>(std::floor(box.hi_eta / kCellDeg));
  const double mean_count = sky.star_density_per_deg2 * kCellDeg * kCellDeg;
  const double exposure_scale = exposure_s / 10.0;
  const TangentPlane plane = truth.plane();
  const double x_lo = -0.5 - margin_px, x_hi = truth.width - 0.5 + margin_px;
  const double y_lo = -0.5 - margin_px, y_hi = truth.height - 0.5 + margin_px;
  for (long long iy = iy0; iy <= iy1; ++iy) {
    for (long long ix = ix0; ix <= ix1; ++ix) {
      Rng rng(seed, RngDomain::Stars, static_cast<std::uint64_t>(ix), static_cast<std::uint64_t>(iy));
      const std::uint64_t n = rng.poisson(mean_count);
      for (std::uint64_t k = 0; k < n; ++k) {
        const double xi = (static_cast<double>(ix) + rng.uniform()) * kCellDeg;
        const double eta = (static_cast<double>(iy) + rng.uniform()) * kCellDeg;
        const double mag = draw_magnitude(rng, sky);
        const double temperature = draw_temperature(rng);
        const auto px = truth.standard_to_pixel(xi, eta);
        if (!px || px->x < x_lo || px->x > x_hi || px->y < y_lo || px->y > y_hi) continue;
        Star s;
        s.id = static_cast<std::uint32_t>(stars.size());
        s.pos = plane.deproject(xi, eta);
        s.dir = unit_vector(s.pos);
        s.mag = mag;
        s.temperature_k = temperature;
        const double green = std::pow(10.0, -0.4 * (mag - sky.zero_point)) * exposure_scale;
        const auto colour = star_colour(temperature);
        for (int c = 0; c < 3; ++c) s.flux[c] = green * colour[c];
        s.x_truth = px->x;
        s.y_truth = px->y;
        stars.push_back(s);
      }
    }
  }
  return stars;
}

SkyModel build_sky_model(const SimConfig& config, const TanGrid& truth) {
  SkyModel m;
  m.truth = truth;
  m.fwhm_px = config.sky.fwhm_px;
  m.moffat_beta = config.sky.moffat_beta;
  m.stars = generate_stars(config.sky, config.layout.exposure_s, config.seed, truth, MoffatPsf::kMaxRadius);
  if (config.sky.nebula) m.nebula = Nebula::generate(config.sky, config.layout.exposure_s, config.seed, truth);
  return m;
}

}  // namespace zm::sim
