// Rendering the simulated sky into a frame's own geometry: noise-free RGB for any WCS (registration tests),
// the expected raw CFA signal, and the final uint16 Bayer frame with noise and defects.
//
// Raw signal model per pixel (x, y) of colour c = CFA channel of GRBG at (x, y), in ADU:
//   S = V(x,y) * T * (sky_c(x,y) + trail(x,y) + colour_c * (level + gx (x - cx) + gy (y - cy))) + hot(x,y)
// with sky_c = stars (Moffat, pixel-integrated) + nebulosity, V = 1 - v r^2 / r_corner^2 (vignetting, 1 at the
// centre), T the frame's transparency. Hot pixels are dark signal, untouched by optics and atmosphere.
// Then electrons = Poisson(S * gain), ADU = (electrons + read_noise * N(0,1)) / gain, rounded and clipped to
// [0, 65535] (saturation). Noise comes from one stream per (seed, frame, row), so row bands render in parallel
// and the result never depends on the thread count.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "image/image.hpp"
#include "sim/frame_plan.hpp"
#include "sim/psf.hpp"
#include "sim/sky_model.hpp"

namespace zm::sim {

// A star placed on one frame: pixel position, flux and the stamp radius it is drawn with.
struct PlacedStar {
  std::uint32_t id = 0;
  double x = 0.0;
  double y = 0.0;
  std::array<double, 3> flux{};
  int radius = 0;
};

// One frame's view of the sky, prepared once (stars projected through the WCS, a coarse frame->truth pixel map
// for the nebulosity), then rendered by independent row bands.
class FrameScene {
 public:
  static constexpr int kMapStep = 32;  // px between exact WCS evaluations of the nebula map (bilinear between)

  FrameScene(const SkyModel& sky, const Wcs& wcs, double fwhm_px);

  int width() const { return width_; }
  int height() const { return height_; }
  const MoffatPsf& psf() const { return psf_; }
  const std::vector<PlacedStar>& stars() const { return stars_; }

  // Adds stars + nebulosity for rows [row0, row0 + rows) into planar rgb (3 x rows x width).
  void add_rgb_rows(int row0, int rows, float* rgb) const;
  // Same into a one-plane CFA band: pixel (x, y) gets channel site_channel[(y & 1) * 2 + (x & 1)].
  void add_cfa_rows(const std::array<int, 4>& site_channel, int row0, int rows, float* out) const;

 private:
  template <class Sink>
  void add_rows(int row0, int rows, Sink&& sink) const;
  void map_row(int y, std::vector<double>& node_x, std::vector<double>& node_y) const;

  const SkyModel* sky_;
  MoffatPsf psf_;
  int width_;
  int height_;
  std::vector<PlacedStar> stars_;
  int map_nx_ = 0;
  int map_ny_ = 0;
  std::vector<double> map_x_;  // truth pixel coordinates at frame nodes (i * kMapStep, j * kMapStep)
  std::vector<double> map_y_;
};

// Noise-free sky (stars + nebulosity) in ADU per exposure on the pixel grid of `wcs` (size from wcs.width/height),
// planar RGB; transparency 1, no background, no vignetting. fwhm_px <= 0 uses the model's nominal FWHM.
ImageF render_sky_rgb(const SkyModel& sky, const Wcs& wcs, double fwhm_px = 0.0);

// What the raw renderer needs to know about one frame.
struct FrameInputs {
  const SimConfig& config;
  const SkyModel& sky;
  const FramePlan& frame;
  const std::vector<HotPixel>& hot_pixels;
};

// The CFA channel (0=R, 1=G, 2=B) of each site of a 2x2 cell, index (y & 1) * 2 + (x & 1), for GRBG.
std::array<int, 4> grbg_site_channels();

// Expected signal S (ADU, before noise, rounding and clipping), width x height, row-major.
std::vector<float> render_expected_cfa(const FrameInputs& in);
// The frame as written: uint16 GRBG mosaic with noise (or just rounded S when config.observing.noise is false).
std::vector<std::uint16_t> render_raw_frame(const FrameInputs& in);

}  // namespace zm::sim
