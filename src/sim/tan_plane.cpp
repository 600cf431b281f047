// Gnomonic projection through unit vectors: cheaper and better conditioned than the spherical trig form.
#include "sim/tan_plane.hpp"

#include <cmath>
#include <numbers>

namespace zm::sim {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

Vec3 normalised(const Vec3& v) {
  const double n = std::sqrt(dot(v, v));
  return {v.x / n, v.y / n, v.z / n};
}

}  // namespace

Vec3 unit_vector(SkyCoord s) {
  const double ra = s.ra * kDeg;
  const double dec = s.dec * kDeg;
  return {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
}

SkyCoord to_sky(const Vec3& v) {
  double ra = std::atan2(v.y, v.x) / kDeg;
  if (ra < 0.0) ra += 360.0;
  if (ra >= 360.0) ra -= 360.0;
  const double dec = std::atan2(v.z, std::hypot(v.x, v.y)) / kDeg;
  return {ra, dec};
}

TangentPlane::TangentPlane(SkyCoord tangent_point) : centre_(tangent_point) {
  const double ra = tangent_point.ra * kDeg;
  const double dec = tangent_point.dec * kDeg;
  n_ = unit_vector(tangent_point);
  east_ = {-std::sin(ra), std::cos(ra), 0.0};
  north_ = {-std::sin(dec) * std::cos(ra), -std::sin(dec) * std::sin(ra), std::cos(dec)};
}

std::optional<std::array<double, 2>> TangentPlane::project(const Vec3& p) const {
  const double w = dot(p, n_);
  if (!(w > 1e-12)) return std::nullopt;
  return std::array<double, 2>{dot(p, east_) / w / kDeg, dot(p, north_) / w / kDeg};
}

SkyCoord TangentPlane::deproject(double xi_deg, double eta_deg) const {
  const double xi = xi_deg * kDeg;
  const double eta = eta_deg * kDeg;
  const Vec3 p{n_.x + xi * east_.x + eta * north_.x, n_.y + xi * east_.y + eta * north_.y,
               n_.z + xi * east_.z + eta * north_.z};
  return to_sky(normalised(p));
}

std::array<double, 4> cd_for_position_angle(double scale_arcsec, double position_angle_deg) {
  const double s = scale_arcsec / 3600.0;
  const double c = std::cos(position_angle_deg * kDeg);
  const double n = std::sin(position_angle_deg * kDeg);
  // Columns are the sky directions of +X and +Y: +Y = (sin t, cos t), +X = (-cos t, sin t) in (xi, eta).
  return {-s * c, s * n, s * n, s * c};
}

std::optional<PixelCoord> TanGrid::standard_to_pixel(double xi, double eta) const {
  const double det = cd[0] * cd[3] - cd[1] * cd[2];
  if (det == 0.0) return std::nullopt;
  const double dx = (cd[3] * xi - cd[1] * eta) / det;
  const double dy = (-cd[2] * xi + cd[0] * eta) / det;
  return PixelCoord{crpix.x + dx, crpix.y + dy};
}

std::optional<PixelCoord> TanGrid::to_pixel(SkyCoord s) const {
  const auto st = plane().project(s);
  if (!st) return std::nullopt;
  return standard_to_pixel((*st)[0], (*st)[1]);
}

std::array<double, 2> TanGrid::pixel_to_standard(PixelCoord p) const {
  const double dx = p.x - crpix.x;
  const double dy = p.y - crpix.y;
  return {cd[0] * dx + cd[1] * dy, cd[2] * dx + cd[3] * dy};
}

SkyCoord TanGrid::to_sky(PixelCoord p) const {
  const auto st = pixel_to_standard(p);
  return plane().deproject(st[0], st[1]);
}

}  // namespace zm::sim
