// Frame sequence, geometry and per-frame conditions (see frame_plan.hpp).
#include "sim/frame_plan.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <numbers>
#include <set>
#include <unordered_set>

#include "sim/rng.hpp"

namespace zm::sim {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

// Sky directions (xi, eta) of the frame +X and +Y axes at position angle pa (deg).
std::array<double, 4> axis_directions(double pa_deg) {
  const double c = std::cos(pa_deg * kDeg);
  const double s = std::sin(pa_deg * kDeg);
  return {-c, s, s, c};  // X = (-c, s), Y = (s, c)
}

// k distinct indices out of n, from a partial Fisher-Yates shuffle.
std::vector<int> choose(std::uint64_t seed, std::uint64_t purpose, int n, int k) {
  std::vector<int> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  Rng rng(seed, RngDomain::Selection, purpose);
  k = std::clamp(k, 0, n);
  for (int i = 0; i < k; ++i) {
    const int j = i + static_cast<int>(rng.below(static_cast<std::uint64_t>(n - i)));
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

// Clip the infinite line through p with direction d to the frame's outer pixel edges.
bool clip_line(double px, double py, double dx, double dy, int w, int h, Trail& t) {
  double t0 = -1e30, t1 = 1e30;
  const double lo[2] = {-0.5, -0.5};
  const double hi[2] = {w - 0.5, h - 0.5};
  const double p[2] = {px, py};
  const double d[2] = {dx, dy};
  for (int a = 0; a < 2; ++a) {
    if (std::fabs(d[a]) < 1e-12) {
      if (p[a] < lo[a] || p[a] > hi[a]) return false;
      continue;
    }
    double ta = (lo[a] - p[a]) / d[a];
    double tb = (hi[a] - p[a]) / d[a];
    if (ta > tb) std::swap(ta, tb);
    t0 = std::max(t0, ta);
    t1 = std::min(t1, tb);
  }
  if (t0 >= t1) return false;
  t.x0 = px + t0 * dx;
  t.y0 = py + t0 * dy;
  t.x1 = px + t1 * dx;
  t.y1 = py + t1 * dy;
  return true;
}

Trail make_trail(const SimConfig& c, int frame) {
  Rng rng(c.seed, RngDomain::Trails, static_cast<std::uint64_t>(frame));
  const int w = c.layout.width, h = c.layout.height;
  Trail t;
  const double px = w * rng.uniform(0.2, 0.8);
  const double py = h * rng.uniform(0.2, 0.8);
  const double angle = rng.uniform(0.0, std::numbers::pi);
  t.peak_adu = std::exp(rng.uniform(std::log(300.0), std::log(3000.0)));
  t.sigma_px = rng.uniform(0.8, 1.5);
  t.dashed = rng.uniform() < 1.0 / 3.0;
  t.dash_period_px = t.dashed ? rng.uniform(20.0, 60.0) : 0.0;
  clip_line(px, py, std::cos(angle), std::sin(angle), w, h, t);  // p is inside, so this always succeeds
  return t;
}

struct NightConditions {
  double sky_level;
  double gradient_angle;
  double hint_angle;
};

NightConditions night_conditions(const SimConfig& c, int night) {
  Rng rng(c.seed, RngDomain::Night, static_cast<std::uint64_t>(night));
  NightConditions n{};
  const double drawn = rng.uniform(500.0, 950.0);
  const auto& levels = c.observing.sky_levels_adu;
  n.sky_level = night < static_cast<int>(levels.size()) ? levels[night] : drawn;
  n.gradient_angle = rng.uniform(0.0, 2.0 * std::numbers::pi);
  n.hint_angle = rng.uniform(0.0, 2.0 * std::numbers::pi);
  return n;
}

SkyCoord pointing_centre(const SimConfig& c, int col, int row) {
  const auto& l = c.layout;
  const double s = l.pixel_scale_arcsec / 3600.0;
  const double step_x = l.width * s * (1.0 - l.overlap);
  const double step_y = l.height * s * (1.0 - l.overlap);
  const double ox = (col - 0.5 * (l.grid_cols - 1)) * step_x;
  const double oy = (row - 0.5 * (l.grid_rows - 1)) * step_y;
  const auto a = axis_directions(l.position_angle_deg);
  return TangentPlane(l.centre).deproject(ox * a[0] + oy * a[2], ox * a[1] + oy * a[3]);
}

}  // namespace

std::string light_file_name(const std::string& object, double exposure_s, MicrosUtc t) {
  return fmt::format("Light_{}_{:.1f}s_IRCUT_{}.fit", object, exposure_s, format_file_stamp(t));
}

std::vector<FramePlan> plan_frames(const SimConfig& c) {
  const auto& l = c.layout;
  const int per_night = c.pointings() * l.frames_per_pointing;
  const int total = c.frame_count();
  const double scale_deg = l.pixel_scale_arcsec / 3600.0;
  const MicrosUtc start = parse_utc(l.start_utc);
  const auto trail_frames = choose(c.seed, 1, total,
                                   c.defects.trail_fraction > 0.0
                                       ? std::max(1, static_cast<int>(std::lround(c.defects.trail_fraction * total)))
                                       : 0);
  const auto no_wcs_frames = choose(c.seed, 2, total, c.defects.drop_wcs);
  std::vector<FramePlan> frames;
  frames.reserve(total);
  std::set<std::string> names;
  for (int night = 0; night < l.nights; ++night) {
    const NightConditions cond = night_conditions(c, night);
    for (int k = 0; k < per_night; ++k) {
      FramePlan f;
      f.index = static_cast<int>(frames.size());
      f.night = night;
      f.index_in_night = k;
      f.pointing = k / l.frames_per_pointing;
      f.pointing_col = f.pointing % l.grid_cols;
      f.pointing_row = f.pointing / l.grid_cols;
      f.pointing_centre = pointing_centre(c, f.pointing_col, f.pointing_row);

      Rng rng(c.seed, RngDomain::FrameGeometry, static_cast<std::uint64_t>(f.index));
      f.dither_x_px = l.dither_sigma_px * rng.normal();
      f.dither_y_px = l.dither_sigma_px * rng.normal();
      if (l.frames_per_pointing > 1)
        f.dither_x_px += l.drift_px * (static_cast<double>(k % l.frames_per_pointing) / (l.frames_per_pointing - 1) - 0.5);
      f.roll_deg = rng.uniform(-l.roll_deg, l.roll_deg);
      const double progress = per_night > 1 ? static_cast<double>(k) / (per_night - 1) : 0.5;
      f.field_rotation_deg = l.altaz ? l.altaz_rotation_deg * (2.0 * progress - 1.0) : 0.0;
      f.position_angle_deg = std::remainder(
          l.position_angle_deg + night * l.night_rotation_deg + f.roll_deg + f.field_rotation_deg, 360.0);
      f.transparency = rng.uniform(c.observing.transparency_min, c.observing.transparency_max);
      f.fwhm_px = std::clamp(c.sky.fwhm_px * (1.0 + c.sky.seeing_variation * rng.normal()), 0.6 * c.sky.fwhm_px,
                             1.6 * c.sky.fwhm_px);
      // A light dome fixed in azimuth: with alt-az its direction on the sensor turns as the target crosses the sky.
      const double dome_turn = l.altaz ? c.observing.gradient_rotation_deg * (2.0 * progress - 1.0) * kDeg : 0.0;
      const double grad_angle = cond.gradient_angle + dome_turn + rng.uniform(-0.17, 0.17);
      const double grad_amp = c.observing.gradient_fraction * cond.sky_level * rng.uniform(0.7, 1.3);
      const double jitter_s = rng.uniform();

      const auto a = axis_directions(f.position_angle_deg);
      const double ox = scale_deg * f.dither_x_px, oy = scale_deg * f.dither_y_px;
      f.geometry.crval = TangentPlane(f.pointing_centre).deproject(ox * a[0] + oy * a[2], ox * a[1] + oy * a[3]);
      f.geometry.crpix = {0.5 * (l.width - 1), 0.5 * (l.height - 1)};
      f.geometry.cd = cd_for_position_angle(l.pixel_scale_arcsec, f.position_angle_deg);
      f.geometry.width = l.width;
      f.geometry.height = l.height;

      f.sky_level_adu = cond.sky_level;
      f.sky_colour = c.observing.sky_colour;
      f.gradient_colour = c.observing.gradient_colour;
      const double diag = std::hypot(l.width, l.height);
      f.gradient_x = grad_amp * std::cos(grad_angle) / diag;
      f.gradient_y = grad_amp * std::sin(grad_angle) / diag;
      f.has_wcs = !std::binary_search(no_wcs_frames.begin(), no_wcs_frames.end(), f.index);
      if (std::binary_search(trail_frames.begin(), trail_frames.end(), f.index)) f.trails.push_back(make_trail(c, f.index));
      f.hint = TangentPlane(f.pointing_centre)
                   .deproject(l.hint_offset_deg * std::sin(cond.hint_angle), l.hint_offset_deg * std::cos(cond.hint_angle));

      const double offset_s = k * (l.exposure_s + l.cadence_gap_s) + f.pointing * l.slew_s + jitter_s;
      f.time = start + night * 86400LL * 1000000LL + static_cast<MicrosUtc>(std::llround(offset_s * 1e6));
      f.date_obs = format_date_obs(f.time);
      f.file_name = light_file_name(c.object, l.exposure_s, f.time);
      for (int dup = 2; !names.insert(f.file_name).second; ++dup) {
        f.file_name = light_file_name(c.object, l.exposure_s, f.time);
        f.file_name.insert(f.file_name.size() - 4, fmt::format("_{}", dup));
      }
      frames.push_back(std::move(f));
    }
  }
  return frames;
}

TanGrid plan_truth_grid(const SimConfig& c, const std::vector<FramePlan>& frames) {
  const TangentPlane ref(c.layout.centre);
  double lo_xi = 1e300, hi_xi = -1e300, lo_eta = 1e300, hi_eta = -1e300;
  constexpr int kPerEdge = 8;
  for (const auto& f : frames) {
    const double w = f.geometry.width - 0.5, h = f.geometry.height - 0.5;
    for (int i = 0; i <= kPerEdge; ++i) {
      const double u = static_cast<double>(i) / kPerEdge;
      for (const PixelCoord p : {PixelCoord{-0.5 + u * (w + 0.5), -0.5}, PixelCoord{-0.5 + u * (w + 0.5), h},
                                 PixelCoord{-0.5, -0.5 + u * (h + 0.5)}, PixelCoord{w, -0.5 + u * (h + 0.5)}}) {
        const auto st = ref.project(f.geometry.to_sky(p));
        if (!st) continue;
        lo_xi = std::min(lo_xi, (*st)[0]);
        hi_xi = std::max(hi_xi, (*st)[0]);
        lo_eta = std::min(lo_eta, (*st)[1]);
        hi_eta = std::max(hi_eta, (*st)[1]);
      }
    }
  }
  const double s = c.layout.pixel_scale_arcsec / 3600.0;
  TanGrid g;
  g.crval = c.layout.centre;
  g.cd = {-s, 0.0, 0.0, s};
  // Whole pixels: the grid's first pixel edge sits kTruthMargin px beyond the easternmost / southernmost frame edge.
  const double m = kTruthMargin;
  g.width = static_cast<int>(std::ceil((hi_xi - lo_xi) / s + 2.0 * m));
  g.height = static_cast<int>(std::ceil((hi_eta - lo_eta) / s + 2.0 * m));
  g.crpix = {-0.5 + m + hi_xi / s, -0.5 + m - lo_eta / s};
  return g;
}

std::vector<HotPixel> plan_hot_pixels(const SimConfig& c) {
  const int w = c.layout.width, h = c.layout.height;
  const auto n = static_cast<std::size_t>(std::llround(c.observing.hot_pixel_fraction * w * h));
  Rng rng(c.seed, RngDomain::HotPixels, static_cast<std::uint64_t>(w), static_cast<std::uint64_t>(h));
  std::unordered_set<std::uint64_t> used;
  std::vector<HotPixel> hot;
  const double lo = std::log(c.observing.hot_pixel_min_adu), hi = std::log(c.observing.hot_pixel_max_adu);
  while (hot.size() < n) {
    const auto idx = rng.below(static_cast<std::uint64_t>(w) * h);
    const double adu = std::exp(rng.uniform(lo, hi));
    if (!used.insert(idx).second) continue;
    hot.push_back({static_cast<int>(idx % w), static_cast<int>(idx / w), adu});
  }
  std::sort(hot.begin(), hot.end(), [](const HotPixel& a, const HotPixel& b) { return a.y != b.y ? a.y < b.y : a.x < b.x; });
  return hot;
}

}  // namespace zm::sim
