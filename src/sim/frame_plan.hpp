// Per-frame observing plan of a simulated dataset: geometry (its exact TAN WCS), conditions and injected defects.
//
// Sequence: for each night, each pointing of the grid in row-major order gets frames_per_pointing consecutive
// exposures (a Seestar mosaic panel at a time), cadence exposure + gap, plus a slew between pointings.
// Pointings sit on a cols x rows grid on the reference tangent plane, spaced by (1 - overlap) frame sizes along
// the frame axes at the base position angle. Each frame's centre is its pointing centre dithered by (dx, dy) frame
// pixels; its position angle is base + roll (+ the alt-az field rotation, linear from -max to +max over a night).
// Every random choice comes from a stream keyed by (seed, purpose, frame or night), never from a shared engine.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "sim/sim_config.hpp"
#include "sim/sim_time.hpp"
#include "sim/tan_plane.hpp"

namespace zm::sim {

// A satellite (continuous) or aircraft (dashed: blinking lights) trail, a straight line across the frame.
struct Trail {
  double x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0;  // 0-based pixel endpoints on the frame border
  double peak_adu = 0.0;                          // added sky signal on the line (before vignetting/transparency)
  double sigma_px = 1.0;                          // Gaussian cross-section
  bool dashed = false;
  double dash_period_px = 0.0;  // on for the first half of each period along the line
};

// A fixed sensor defect: extra signal (dark current) at the same pixel of every frame, independent of the sky.
struct HotPixel {
  int x = 0;
  int y = 0;
  double adu = 0.0;
};

struct FramePlan {
  int index = 0;  // global, in time order
  int night = 0;
  int pointing = 0;  // row-major: pointing_row * cols + pointing_col
  int pointing_col = 0;
  int pointing_row = 0;
  int index_in_night = 0;
  TanGrid geometry;  // the frame's true WCS (CRPIX at the centre)
  SkyCoord pointing_centre;
  double position_angle_deg = 0.0;  // of +Y, East of North
  double roll_deg = 0.0;
  double field_rotation_deg = 0.0;
  double dither_x_px = 0.0;
  double dither_y_px = 0.0;
  double transparency = 1.0;
  double sky_level_adu = 0.0;  // green, at the frame centre, before transparency and vignetting
  std::array<double, 3> sky_colour{};
  double gradient_x = 0.0;  // ADU/px added to the green level per pixel from the centre
  double gradient_y = 0.0;
  std::array<double, 3> gradient_colour{};  // channel / green ratios of the gradient (the light pollution's colour)
  double fwhm_px = 0.0;
  bool has_wcs = true;
  std::vector<Trail> trails;
  SkyCoord hint;  // header RA/DEC: the target the mount was sent to, not the frame centre
  MicrosUtc time = 0;
  std::string date_obs;
  std::string file_name;
};

std::vector<FramePlan> plan_frames(const SimConfig& config);
// North-up TAN grid at the frame scale, tangent at the layout centre, covering every frame plus kTruthMargin px.
TanGrid plan_truth_grid(const SimConfig& config, const std::vector<FramePlan>& frames);
std::vector<HotPixel> plan_hot_pixels(const SimConfig& config);  // sorted by (y, x)
// Seestar-style name: Light_<OBJECT>_<exp>s_IRCUT_<YYYYMMDD-HHMMSS>.fit
std::string light_file_name(const std::string& object, double exposure_s, MicrosUtc t);

constexpr int kTruthMargin = 16;

}  // namespace zm::sim
