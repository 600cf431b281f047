// find_optimal_grid: tangent point, gnomonic projection of the footprint edges, minimum-area box by rotating
// calipers over the convex hull, then the TAN grid around it.
#include "wcs/optimal_grid.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "wcs/geometry.hpp"

namespace zm {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;
constexpr double kRad = 180.0 / std::numbers::pi;
constexpr int kEdgeStepPx = 32;   // edge sampling step; distortion is smooth on that scale
constexpr int kMinEdgeSegments = 4;

struct Vec2 {
  double x = 0, y = 0;
};

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

Vec3 unit_vector(SkyCoord s) {
  const double ra = s.ra * kDeg, dec = s.dec * kDeg;
  return {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
}

SkyCoord to_sky(const Vec3& v) {
  double ra = std::atan2(v.y, v.x) * kRad;
  if (ra < 0) ra += 360.0;
  if (ra >= 360.0) ra -= 360.0;
  return {ra, std::atan2(v.z, std::hypot(v.x, v.y)) * kRad};
}

// Outer-edge points of one footprint (corners included), walked around the border.
void edge_pixels(int w, int h, std::vector<double>& xs, std::vector<double>& ys) {
  const double x0 = -0.5, y0 = -0.5, x1 = w - 0.5, y1 = h - 0.5;
  const int nx = std::max(kMinEdgeSegments, (w + kEdgeStepPx - 1) / kEdgeStepPx);
  const int ny = std::max(kMinEdgeSegments, (h + kEdgeStepPx - 1) / kEdgeStepPx);
  for (int i = 0; i < nx; ++i) xs.push_back(x0 + (x1 - x0) * i / nx), ys.push_back(y0);
  for (int i = 0; i < ny; ++i) xs.push_back(x1), ys.push_back(y0 + (y1 - y0) * i / ny);
  for (int i = 0; i < nx; ++i) xs.push_back(x1 - (x1 - x0) * i / nx), ys.push_back(y1);
  for (int i = 0; i < ny; ++i) xs.push_back(x0), ys.push_back(y1 - (y1 - y0) * i / ny);
}

struct SkyPoints {
  std::vector<SkyCoord> points;
  std::vector<double> scales;  // arcsec/px per footprint
};

SkyPoints footprint_points(const std::vector<ImageFootprint>& inputs) {
  SkyPoints out;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const ImageFootprint& f = inputs[k];
    if (f.width <= 0 || f.height <= 0)
      throw std::invalid_argument("find_optimal_grid: footprint " + std::to_string(k) + " has no size");
    Wcs wcs = f.wcs;
    wcs.set_size(f.width, f.height);
    std::vector<double> xs, ys;
    edge_pixels(f.width, f.height, xs, ys);
    std::vector<double> ra(xs.size()), dec(xs.size());
    wcs.pixel_to_world(xs, ys, ra, dec);
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (std::isfinite(ra[i]) && std::isfinite(dec[i])) out.points.push_back({ra[i], dec[i]});
    out.scales.push_back(pixel_scale_arcsec(wcs));
  }
  return out;
}

// Mean direction of the footprints: each footprint's points averaged first, so dense edges do not dominate.
SkyCoord mean_direction(const std::vector<ImageFootprint>& inputs) {
  Vec3 sum;
  for (const ImageFootprint& f : inputs) {
    Wcs wcs = f.wcs;
    wcs.set_size(f.width, f.height);
    std::vector<double> xs, ys;
    edge_pixels(f.width, f.height, xs, ys);
    std::vector<double> ra(xs.size()), dec(xs.size());
    wcs.pixel_to_world(xs, ys, ra, dec);
    Vec3 local;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!std::isfinite(ra[i]) || !std::isfinite(dec[i])) continue;
      const Vec3 v = unit_vector({ra[i], dec[i]});
      local.x += v.x, local.y += v.y, local.z += v.z;
    }
    const double n = std::sqrt(local.x * local.x + local.y * local.y + local.z * local.z);
    if (n > 0) sum.x += local.x / n, sum.y += local.y / n, sum.z += local.z / n;
  }
  if (std::sqrt(sum.x * sum.x + sum.y * sum.y + sum.z * sum.z) < 1e-12)
    throw std::invalid_argument("find_optimal_grid: footprints have no defined mean direction");
  return to_sky(sum);
}

// Gnomonic standard coordinates (degrees; xi east, eta north) about c. Throws for the far hemisphere.
Vec2 standard_coords(SkyCoord c, SkyCoord s) {
  const double da = (s.ra - c.ra) * kDeg;
  const double d0 = c.dec * kDeg, d = s.dec * kDeg;
  const double cosc = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(da);
  if (cosc <= 1e-6) throw std::invalid_argument("find_optimal_grid: footprints span more than a hemisphere");
  return {std::cos(d) * std::sin(da) / cosc * kRad,
          (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(da)) / cosc * kRad};
}

double cross(const Vec2& o, const Vec2& a, const Vec2& b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// Andrew's monotone chain, counter-clockwise, collinear points dropped.
std::vector<Vec2> convex_hull(std::vector<Vec2> p) {
  std::sort(p.begin(), p.end(), [](const Vec2& a, const Vec2& b) { return a.x < b.x || (a.x == b.x && a.y < b.y); });
  if (p.size() < 3) return p;
  std::vector<Vec2> h(2 * p.size());
  std::size_t k = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  for (std::size_t i = p.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i - 1]) <= 0) --k;
    h[k++] = p[i - 1];
  }
  h.resize(k - 1);
  return h;
}

// Grid pixel offsets (u, v) from the tangent point for a grid whose +Y axis has position angle theta (east left):
// (xi, eta) = s * [[-c, n], [n, c]] (u, v), a matrix that is its own inverse up to s^2.
Vec2 to_grid(const Vec2& p, double theta_rad, double scale_deg) {
  const double c = std::cos(theta_rad), n = std::sin(theta_rad);
  return {(-c * p.x + n * p.y) / scale_deg, (n * p.x + c * p.y) / scale_deg};
}

double box_area(const std::vector<Vec2>& hull, double theta_rad) {
  double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
  for (const Vec2& p : hull) {
    const Vec2 g = to_grid(p, theta_rad, 1.0);
    umin = std::min(umin, g.x), umax = std::max(umax, g.x);
    vmin = std::min(vmin, g.y), vmax = std::max(vmax, g.y);
  }
  return (umax - umin) * (vmax - vmin);
}

// Folds an angle (radians) into (-pi/4, pi/4]: the four 90-degree rotations give the same box.
double fold_quarter(double a) {
  const double q = std::numbers::pi / 2;
  a = std::fmod(a, q);
  if (a <= -q / 2) a += q;
  if (a > q / 2) a -= q;
  return a;
}

double min_area_rotation(const std::vector<Vec2>& hull) {
  if (hull.size() < 3) return 0.0;
  double best = 0.0, best_area = box_area(hull, 0.0);
  for (std::size_t i = 0; i < hull.size(); ++i) {
    const Vec2& a = hull[i];
    const Vec2& b = hull[(i + 1) % hull.size()];
    // The grid's +Y axis direction in (xi, eta) is (sin theta, cos theta); align it with the edge.
    const double theta = fold_quarter(std::atan2(b.x - a.x, b.y - a.y));
    const double area = box_area(hull, theta);
    if (area < best_area * (1.0 - 1e-12)) best_area = area, best = theta;
  }
  return best;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

OutputGrid find_optimal_grid(const std::vector<ImageFootprint>& inputs, const OptimalGridOptions& options) {
  if (inputs.empty()) throw std::invalid_argument("find_optimal_grid: no inputs");
  const SkyPoints sky = footprint_points(inputs);
  if (sky.points.empty()) throw std::invalid_argument("find_optimal_grid: no footprint point maps to the sky");
  const SkyCoord centre = mean_direction(inputs);

  const double scale_arcsec = options.pixel_scale_arcsec > 0 ? options.pixel_scale_arcsec : median(sky.scales);
  if (!(scale_arcsec > 0) || !std::isfinite(scale_arcsec))
    throw std::invalid_argument("find_optimal_grid: no valid pixel scale");
  const double scale_deg = scale_arcsec / 3600.0;

  std::vector<Vec2> plane;
  plane.reserve(sky.points.size());
  for (const SkyCoord& s : sky.points) plane.push_back(standard_coords(centre, s));
  const std::vector<Vec2> hull = convex_hull(plane);
  const double theta = options.north_up ? 0.0 : min_area_rotation(hull);

  double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
  for (const Vec2& p : hull.size() >= 3 ? hull : plane) {
    const Vec2 g = to_grid(p, theta, scale_deg);
    umin = std::min(umin, g.x), umax = std::max(umax, g.x);
    vmin = std::min(vmin, g.y), vmax = std::max(vmax, g.y);
  }
  const int pad = std::max(0, options.pad_px);
  const double span_u = umax - umin, span_v = vmax - vmin;
  const int width = std::max(1, static_cast<int>(std::ceil(span_u + 2.0 * pad - 1e-9)));
  const int height = std::max(1, static_cast<int>(std::ceil(span_v + 2.0 * pad - 1e-9)));
  // Points land at x = u + crpix; the box [umin, umax] is centred in [-0.5, W - 0.5].
  const PixelCoord crpix{-umin + 0.5 * (width - span_u) - 0.5, -vmin + 0.5 * (height - span_v) - 0.5};

  const double c = std::cos(theta), n = std::sin(theta);
  const std::array<double, 4> cd{-scale_deg * c, scale_deg * n, scale_deg * n, scale_deg * c};
  double rotation = theta * kRad;
  if (rotation == 0.0) rotation = 0.0;  // no -0
  return OutputGrid{Wcs::make_tan(centre, crpix, cd, width, height), width, height, scale_arcsec, rotation, centre};
}

}  // namespace zm
