// manifest.json: everything the simulator injected, so pipeline tests can check against known answers.
#include <cmath>
#include <nlohmann/json.hpp>
#include <numbers>

#include "sim/dataset.hpp"

namespace zm::sim {
namespace {

using nlohmann::json;

json grid_json(const TanGrid& g) {
  const double scale = std::sqrt(std::fabs(g.cd[0] * g.cd[3] - g.cd[1] * g.cd[2])) * 3600.0;
  return {{"width", g.width},
          {"height", g.height},
          {"crval", {g.crval.ra, g.crval.dec}},
          {"crpix_0based", {g.crpix.x, g.crpix.y}},
          {"cd", {g.cd[0], g.cd[1], g.cd[2], g.cd[3]}},
          {"pixel_scale_arcsec", scale}};
}

double separation_deg(SkyCoord a, SkyCoord b) {
  const Vec3 u = unit_vector(a), v = unit_vector(b);
  const Vec3 x{u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x};
  return std::atan2(std::sqrt(dot(x, x)), dot(u, v)) * 180.0 / std::numbers::pi;
}

json trail_json(const Trail& t) {
  return {{"kind", t.dashed ? "aircraft" : "satellite"},
          {"x0", t.x0}, {"y0", t.y0}, {"x1", t.x1}, {"y1", t.y1},
          {"peak_adu", t.peak_adu}, {"sigma_px", t.sigma_px}, {"dash_period_px", t.dash_period_px}};
}

json frame_json(const FramePlan& f, const std::string& file) {
  json trails = json::array();
  for (const Trail& t : f.trails) trails.push_back(trail_json(t));
  json centre_sky = json::array();
  for (int c = 0; c < 3; ++c) centre_sky.push_back(f.transparency * f.sky_colour[c] * f.sky_level_adu);
  json j = grid_json(f.geometry);
  j.update({{"file", file},
            {"index", f.index},
            {"night", f.night},
            {"pointing", f.pointing},
            {"pointing_col", f.pointing_col},
            {"pointing_row", f.pointing_row},
            {"index_in_night", f.index_in_night},
            {"date_obs", f.date_obs},
            {"pointing_centre", {f.pointing_centre.ra, f.pointing_centre.dec}},
            {"position_angle_deg", f.position_angle_deg},
            {"roll_deg", f.roll_deg},
            {"field_rotation_deg", f.field_rotation_deg},
            {"dither_px", {f.dither_x_px, f.dither_y_px}},
            {"transparency", f.transparency},
            {"sky_level_adu", f.sky_level_adu},
            {"sky_colour", {f.sky_colour[0], f.sky_colour[1], f.sky_colour[2]}},
            {"sky_at_centre_adu_rgb", centre_sky},
            {"gradient_adu_per_px", {f.gradient_x, f.gradient_y}},
            {"gradient_colour", {f.gradient_colour[0], f.gradient_colour[1], f.gradient_colour[2]}},
            {"fwhm_px", f.fwhm_px},
            {"has_wcs", f.has_wcs},
            {"hint", {f.hint.ra, f.hint.dec}},
            {"hint_offset_deg", separation_deg(f.hint, f.geometry.crval)},
            {"trails", trails}});
  return j;
}

json nebula_json(const Nebula& n) {
  json clouds = json::array();
  for (const auto& c : n.clouds())
    clouds.push_back({{"xi_deg", c.xi}, {"eta_deg", c.eta}, {"sigma_major_deg", c.sigma_major},
                      {"sigma_minor_deg", c.sigma_minor}, {"angle_deg", c.angle_rad * 180.0 / std::numbers::pi},
                      {"amplitude_adu", c.amplitude}, {"colour", {c.colour[0], c.colour[1], c.colour[2]}}});
  return {{"clouds", clouds},
          {"raster_step_truth_px", Nebula::kStep},
          {"interpolation", "Catmull-Rom bicubic of the raster; the raster nodes hold the analytic clouds"}};
}

}  // namespace

json build_manifest(const DatasetPlan& plan, const DatasetFiles& files) {
  const auto& c = plan.config;
  json frames = json::array();
  for (std::size_t i = 0; i < plan.frames.size(); ++i)
    frames.push_back(frame_json(plan.frames[i], i < files.frames.size() ? files.frames[i] : plan.frames[i].file_name));
  json hot = json::array();
  for (const HotPixel& p : plan.hot_pixels) hot.push_back({{"x", p.x}, {"y", p.y}, {"adu", p.adu}});
  json corrupt = json::array();
  for (const CorruptFile& f : files.corrupt)
    corrupt.push_back({{"file", f.file}, {"defect", f.defect}, {"expected_error", f.expected_error}});
  json truth = grid_json(plan.sky.truth);
  truth["file"] = files.truth;
  truth["units"] = "ADU per frame exposure; planes R, G, B; no background, no vignetting, transparency 1";
  return {
      {"format", "zemosaic-sim-manifest"},
      {"version", 1},
      {"generator", "zemosaic-cpp simulate"},
      {"seed", c.seed},
      {"config", to_json(c)},
      {"signal_model",
       "S = V*T*(stars + nebula + trail + colour_c*level + gradient_colour_c*(gx*(x-cx) + gy*(y-cy))) + hot; "
       "V = 1 - vignetting*r^2/r_corner^2; electrons = Poisson(S*gain); "
       "ADU = round((electrons + read_noise*N)/gain) clipped to [0, 65535]; pixel coordinates 0-based, "
       "c = GRBG channel at (x, y) with row 0 the first stored row"},
      {"detector",
       {{"width", c.layout.width}, {"height", c.layout.height}, {"bayer_pattern", "GRBG"},
        {"gain_e_per_adu", c.observing.gain_e_per_adu}, {"read_noise_e", c.observing.read_noise_e},
        {"saturation_adu", 65535}, {"bitpix", 16}, {"bzero", 32768}, {"vignetting", c.observing.vignetting},
        {"noise", c.observing.noise}}},
      {"psf",
       {{"model", "moffat"}, {"fwhm_px", plan.sky.fwhm_px}, {"beta", plan.sky.moffat_beta},
        {"pixel_integration", "5x5 sub-samples within 2 FWHM of the star, pixel-centre value beyond"}}},
      {"truth", truth},
      {"stars", {{"file", files.stars_csv}, {"count", plan.sky.stars.size()}}},
      {"nebula", nebula_json(plan.sky.nebula)},
      {"frames", frames},
      {"hot_pixels", hot},
      {"corrupt_files", corrupt},
  };
}

}  // namespace zm::sim
