// Validation and JSON form of SimConfig (the manifest records the exact config that made a dataset).
#include "sim/sim_config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace zm::sim {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw InputError(InputErrorKind::BadConfig, "simulate", what);
}

}  // namespace

void validate(const SimConfig& c) {
  const auto& l = c.layout;
  require(l.grid_cols >= 1 && l.grid_rows >= 1 && l.grid_cols * l.grid_rows <= 10000, "grid must be 1x1 .. 100x100");
  require(l.frames_per_pointing >= 1 && l.frames_per_pointing <= 100000, "frames per pointing must be >= 1");
  require(l.nights >= 1 && l.nights <= 366, "nights must be 1 .. 366");
  require(l.width >= 16 && l.height >= 16 && l.width <= 20000 && l.height <= 20000,
          "frame size must be 16 .. 20000 px per side");
  require(l.pixel_scale_arcsec >= 0.05 && l.pixel_scale_arcsec <= 60.0, "pixel scale must be 0.05 .. 60 arcsec/px");
  require(std::isfinite(l.centre.ra) && std::fabs(l.centre.dec) <= 85.0, "centre Dec must be within +-85 deg");
  require(l.overlap >= 0.0 && l.overlap < 0.95, "overlap must be in [0, 0.95)");
  require(l.dither_sigma_px >= 0.0 && l.roll_deg >= 0.0 && l.altaz_rotation_deg >= 0.0,
          "dither, roll and alt-az rotation must be >= 0");
  require(l.exposure_s > 0.0 && l.cadence_gap_s >= 0.0 && l.slew_s >= 0.0, "exposure must be > 0");
  require(l.hint_offset_deg >= 0.0 && l.hint_offset_deg < 10.0, "hint offset must be in [0, 10) deg");
  const auto& s = c.sky;
  require(s.star_density_per_deg2 >= 0.0 && s.star_density_per_deg2 <= 1e6, "star density must be 0 .. 1e6 per deg2");
  require(s.mag_bright < s.mag_limit, "bright magnitude must be below the limit");
  require(s.count_slope > 0.0, "count slope must be > 0");
  require(s.fwhm_px >= 0.8 && s.fwhm_px <= 20.0, "FWHM must be 0.8 .. 20 px");
  require(s.moffat_beta >= 2.0 && s.moffat_beta <= 20.0, "Moffat beta must be 2 .. 20");
  require(s.seeing_variation >= 0.0 && s.seeing_variation <= 0.5, "seeing variation must be 0 .. 0.5");
  require(s.nebula_clouds >= 0 && s.nebula_clouds <= 64 && s.nebula_peak_adu >= 0.0, "nebula settings out of range");
  const auto& o = c.observing;
  require(!o.sky_levels_adu.empty(), "at least one sky level is needed");
  for (double v : o.sky_levels_adu) require(v >= 0.0 && v < 60000.0, "sky levels must be 0 .. 60000 ADU");
  for (double v : o.sky_colour) require(v > 0.0 && v <= 10.0, "sky colour ratios must be in (0, 10]");
  for (double v : o.gradient_colour) require(v >= 0.0 && v <= 10.0, "gradient colour ratios must be in [0, 10]");
  require(o.gradient_rotation_deg >= 0.0 && o.gradient_rotation_deg <= 180.0, "gradient rotation must be in [0, 180] deg");
  require(o.gradient_fraction >= 0.0 && o.gradient_fraction < 1.0, "gradient fraction must be in [0, 1)");
  require(o.vignetting >= 0.0 && o.vignetting < 1.0, "vignetting must be in [0, 1)");
  require(o.transparency_min > 0.0 && o.transparency_min <= o.transparency_max && o.transparency_max <= 1.0,
          "transparency range must satisfy 0 < min <= max <= 1");
  require(o.gain_e_per_adu > 0.0 && o.read_noise_e >= 0.0, "gain must be > 0 and read noise >= 0");
  require(o.hot_pixel_fraction >= 0.0 && o.hot_pixel_fraction <= 0.01, "hot pixel fraction must be 0 .. 0.01");
  require(o.hot_pixel_min_adu > 0.0 && o.hot_pixel_min_adu <= o.hot_pixel_max_adu, "hot pixel range is empty");
  const auto& d = c.defects;
  require(d.trail_fraction >= 0.0 && d.trail_fraction <= 1.0, "trail fraction must be 0 .. 1");
  require(d.drop_wcs >= 0 && d.drop_wcs <= c.frame_count(), "drop-wcs must be 0 .. number of frames");
  require(!c.object.empty() && c.object.size() <= 60, "object name must be 1 .. 60 characters");
}

nlohmann::json to_json(const SimConfig& c) {
  const auto& l = c.layout;
  const auto& s = c.sky;
  const auto& o = c.observing;
  const auto& d = c.defects;
  return {
      {"seed", c.seed},
      {"object", c.object},
      {"write_truth", c.write_truth},
      {"layout",
       {{"grid_cols", l.grid_cols}, {"grid_rows", l.grid_rows}, {"frames_per_pointing", l.frames_per_pointing},
        {"nights", l.nights}, {"width", l.width}, {"height", l.height},
        {"pixel_scale_arcsec", l.pixel_scale_arcsec}, {"centre_ra_deg", l.centre.ra},
        {"centre_dec_deg", l.centre.dec}, {"overlap", l.overlap}, {"dither_sigma_px", l.dither_sigma_px},
        {"roll_deg", l.roll_deg}, {"position_angle_deg", l.position_angle_deg}, {"altaz", l.altaz},
        {"altaz_rotation_deg", l.altaz_rotation_deg}, {"night_rotation_deg", l.night_rotation_deg},
        {"drift_px", l.drift_px}, {"exposure_s", l.exposure_s},
        {"cadence_gap_s", l.cadence_gap_s}, {"slew_s", l.slew_s}, {"start_utc", l.start_utc},
        {"hint_offset_deg", l.hint_offset_deg}}},
      {"sky",
       {{"star_density_per_deg2", s.star_density_per_deg2}, {"mag_bright", s.mag_bright},
        {"mag_limit", s.mag_limit}, {"count_slope", s.count_slope}, {"zero_point", s.zero_point},
        {"fwhm_px", s.fwhm_px}, {"moffat_beta", s.moffat_beta}, {"seeing_variation", s.seeing_variation},
        {"nebula", s.nebula}, {"nebula_clouds", s.nebula_clouds}, {"nebula_peak_adu", s.nebula_peak_adu}}},
      {"observing",
       {{"sky_levels_adu", o.sky_levels_adu}, {"sky_colour", o.sky_colour},
        {"gradient_fraction", o.gradient_fraction}, {"gradient_colour", o.gradient_colour},
        {"gradient_rotation_deg", o.gradient_rotation_deg}, {"vignetting", o.vignetting},
        {"transparency_min", o.transparency_min}, {"transparency_max", o.transparency_max},
        {"gain_e_per_adu", o.gain_e_per_adu}, {"read_noise_e", o.read_noise_e}, {"noise", o.noise},
        {"hot_pixel_fraction", o.hot_pixel_fraction}, {"hot_pixel_min_adu", o.hot_pixel_min_adu},
        {"hot_pixel_max_adu", o.hot_pixel_max_adu}}},
      {"defects", {{"trail_fraction", d.trail_fraction}, {"drop_wcs", d.drop_wcs}, {"corrupt", d.corrupt}}},
  };
}

}  // namespace zm::sim
