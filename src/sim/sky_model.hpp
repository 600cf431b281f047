// The deterministic simulated sky: a star catalogue and smooth nebulosity, both tied to the reference
// (truth) TAN grid. Frames and truth.fits are renderings of this one model.
//
// Stars: positions uniform on the reference tangent plane, generated per 0.25 deg cell from a stream keyed by the
// cell (so a larger mosaic with the same seed and centre contains the same stars), a Poisson count per cell from
// the requested density, magnitudes from the power-law count N(<m) ~ 10^(slope m) between mag_bright and mag_limit,
// and colours from a blackbody temperature (3200..12600 K, cool stars favoured) evaluated at 600/530/460 nm
// relative to a 5800 K star (which is white). Flux is in ADU per frame exposure, total over the PSF, per channel
// (the value a full-resolution plane of that colour would sum to).
//
// Nebulosity: a few elongated 2-D Gaussian clouds (mostly H-alpha red, some bluish reflection) modulated by
// low-frequency plane waves, evaluated analytically on a raster of nodes every kNebulaStep truth pixels; the sky
// *is* the Catmull-Rom bicubic interpolation of that raster. Frames and truth.fits sample the same surface, so
// the ground truth is exact, and evaluation stays cheap (one bicubic per pixel instead of many exp/cos).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "sim/sim_config.hpp"
#include "sim/tan_plane.hpp"

namespace zm::sim {

struct Star {
  std::uint32_t id = 0;
  SkyCoord pos;
  Vec3 dir;  // unit vector of pos
  double mag = 0.0;
  double temperature_k = 0.0;
  std::array<double, 3> flux{};  // R, G, B total ADU per exposure
  double x_truth = 0.0;          // 0-based pixel position on the truth grid
  double y_truth = 0.0;
};

struct NebulaCloud {
  double xi = 0.0;  // centre, standard coordinates of the truth grid (deg)
  double eta = 0.0;
  double sigma_major = 0.0;  // deg
  double sigma_minor = 0.0;
  double angle_rad = 0.0;    // of the major axis, from +xi towards +eta
  double amplitude = 0.0;    // ADU per exposure in the brightest channel
  std::array<double, 3> colour{};  // channel ratios, max 1
};

struct NebulaWave {
  double k_xi = 0.0;  // radians per degree
  double k_eta = 0.0;
  double phase = 0.0;
};

class Nebula {
 public:
  static constexpr int kStep = 4;  // truth pixels between raster nodes

  Nebula() = default;
  // Clouds placed within the central part of the truth grid; raster covering it plus a margin.
  static Nebula generate(const SkyConfig& sky, double exposure_s, std::uint64_t seed, const TanGrid& truth);

  bool empty() const { return nx_ == 0; }
  // The analytic model at standard coordinates (deg); only used to fill the raster.
  std::array<double, 3> evaluate(double xi, double eta) const;
  // The sky surface at truth-grid pixel (X, Y), channel c (0=R, 1=G, 2=B). Outside the raster the edge
  // nodes extend outwards.
  float sample(int c, double X, double Y) const;
  // All three channels at once (shared weights).
  void sample_rgb(double X, double Y, float out[3]) const;

  const std::vector<NebulaCloud>& clouds() const { return clouds_; }
  const std::vector<NebulaWave>& waves() const { return waves_; }

 private:
  void fill_raster(const TanGrid& truth);
  // Index of the first of the 4x4 nodes around (X, Y) in the padded raster, and the cubic weights.
  std::size_t stencil(double X, double Y, double wx[4], double wy[4]) const;

  std::vector<NebulaCloud> clouds_;
  std::vector<NebulaWave> waves_;
  double modulation_ = 0.6;
  int nx_ = 0;  // nodes per row, including kPad replicated nodes on each side
  int ny_ = 0;
  double x0_ = 0.0;  // truth pixel of the first unpadded node
  double y0_ = 0.0;
  std::array<std::vector<float>, 3> raster_;
  static constexpr int kPad = 2;
};

struct SkyModel {
  TanGrid truth;  // north-up reference grid at the frame pixel scale
  std::vector<Star> stars;
  Nebula nebula;
  double fwhm_px = 3.0;  // nominal PSF (truth.fits uses it)
  double moffat_beta = 3.0;
};

// Stars whose PSF can reach the truth grid (its rectangle grown by margin_px), ordered by cell then draw; ids
// are consecutive in that order.
std::vector<Star> generate_stars(const SkyConfig& sky, double exposure_s, std::uint64_t seed, const TanGrid& truth,
                                 double margin_px);
// Channel ratios (R/G, 1, B/G) of a blackbody at temperature_k, white at 5800 K.
std::array<double, 3> star_colour(double temperature_k);

SkyModel build_sky_model(const SimConfig& config, const TanGrid& truth);

}  // namespace zm::sim
