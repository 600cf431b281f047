// Everything that defines a simulated Seestar-S50-like dataset; a config plus its seed fixes every output byte.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "wcs/wcs.hpp"

namespace zm::sim {

// Where and how the telescope points.
struct LayoutConfig {
  int grid_cols = 2;
  int grid_rows = 2;
  int frames_per_pointing = 8;  // per pointing and night
  int nights = 1;
  int width = 1080;   // portrait, like the Seestar's IMX462
  int height = 1920;
  double pixel_scale_arcsec = 2.39;
  SkyCoord centre{150.0, 30.0};   // mosaic centre = tangent point of the truth grid
  double overlap = 0.20;          // fraction of a frame shared by neighbouring pointings
  double dither_sigma_px = 15.0;  // per frame and axis
  double roll_deg = 0.3;          // per-frame roll, uniform in +-roll
  double position_angle_deg = 0.0;  // base PA of the frame +Y axis, East of North (real Seestar subs: ~ -178.7)
  bool altaz = false;               // field rotation drifting linearly across each night
  double altaz_rotation_deg = 8.0;  // ... from -this to +this
  double night_rotation_deg = 0.0;  // night k's frames turned by k x this about their pointing (an alt-az mount
                                    // meeting the field at another hour)
  double drift_px = 0.0;            // each pointing's frames drift this far along the frame's x axis over their
                                    // sequence (a mount that does not re-centre), from -drift/2 to +drift/2
  double exposure_s = 10.0;
  double cadence_gap_s = 3.0;  // between exposures of one pointing
  double slew_s = 20.0;        // extra time when moving to the next pointing
  std::string start_utc = "2025-03-27T01:20:00";  // first exposure of night 1; night k starts k days later
  double hint_offset_deg = 0.25;  // header RA/DEC (the target) sits this far from the true pointing
};

// The deterministic sky.
struct SkyConfig {
  double star_density_per_deg2 = 1500.0;  // stars brighter than mag_limit
  double mag_bright = 7.0;
  double mag_limit = 15.0;
  double count_slope = 0.35;  // N(<m) ~ 10^(slope m)
  double zero_point = 21.5;   // green magnitude of a star giving 1 ADU total in a 10 s exposure
  double fwhm_px = 3.0;
  double moffat_beta = 3.0;
  double seeing_variation = 0.0;  // per-frame relative FWHM sigma (0 = all frames at fwhm_px)
  bool nebula = true;
  int nebula_clouds = 4;
  double nebula_peak_adu = 150.0;  // per 10 s, in the cloud's brightest channel
};

// Background, optics and detector.
struct ObservingConfig {
  std::vector<double> sky_levels_adu{900.0, 650.0};  // green-channel sky per night; later nights drawn 500..950
  std::array<double, 3> sky_colour{0.85, 1.0, 0.80};  // channel / green ratios of the sky background
  double gradient_fraction = 0.03;  // change of the sky across the frame diagonal, relative to the level
  // Channel / green ratios of the light-pollution gradient (sodium or LED glow is not the sky's colour); the
  // default is the sky's, so the gradient then only scales the sky.
  std::array<double, 3> gradient_colour{0.85, 1.0, 0.80};
  // With layout.altaz: the gradient's direction on the sensor turns from -this to +this (deg) across each night (a
  // light dome fixed in azimuth while the target crosses the sky); on the sky it turns by the field rotation too.
  double gradient_rotation_deg = 0.0;
  double vignetting = 0.04;         // relative loss at the corners (quadratic in radius); 0 = none
  double transparency_min = 0.85;
  double transparency_max = 1.0;
  double gain_e_per_adu = 0.125;
  double read_noise_e = 1.5;
  bool noise = true;                 // false: expected values, only rounded and clipped
  double hot_pixel_fraction = 1e-4;  // fixed sensor defects, same positions in every frame
  double hot_pixel_min_adu = 1500.0;
  double hot_pixel_max_adu = 60000.0;
};

// Deliberate defects for the pipeline to cope with.
struct DefectConfig {
  double trail_fraction = 0.1;  // of the frames that get a satellite/plane trail (at least one if > 0)
  int drop_wcs = 0;             // number of frames written without WCS (only the RA/DEC hint)
  bool corrupt = false;         // add a truncated FITS, a text file named .fits, an all-NaN frame, a 0-byte .fit
};

struct SimConfig {
  std::uint64_t seed = 1;
  std::string object = "SIM 1";
  bool write_truth = true;
  LayoutConfig layout;
  SkyConfig sky;
  ObservingConfig observing;
  DefectConfig defects;

  int pointings() const { return layout.grid_cols * layout.grid_rows; }
  int frame_count() const { return pointings() * layout.frames_per_pointing * layout.nights; }
};

// Throws InputError(BadConfig) naming the first nonsensical field.
void validate(const SimConfig& config);

nlohmann::json to_json(const SimConfig& config);

}  // namespace zm::sim
