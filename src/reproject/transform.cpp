#include "reproject/transform.hpp"

#include <cmath>
#include <span>
#include <stdexcept>

namespace zm {

Affine2x3 inverse(const Affine2x3& m) {
  const double det = m.a * m.e - m.b * m.d;
  if (!std::isfinite(det) || std::fabs(det) < 1e-300) throw std::invalid_argument("affine matrix is singular");
  Affine2x3 r;
  r.a = m.e / det;
  r.b = -m.b / det;
  r.d = -m.d / det;
  r.e = m.a / det;
  r.c = -(r.a * m.c + r.b * m.f);
  r.f = -(r.d * m.c + r.e * m.f);
  return r;
}

WcsPixelTransform::WcsPixelTransform(const Wcs& from, const Wcs& to) : from_(from), to_(to) {}

void WcsPixelTransform::map(const double* x, const double* y, int n, double* xo, double* yo) {
  if (n <= 0) return;
  const std::size_t len = static_cast<std::size_t>(n);
  if (ra_.size() < len) {
    ra_.resize(len);
    dec_.resize(len);
  }
  from_.pixel_to_world({x, len}, {y, len}, {ra_.data(), len}, {dec_.data(), len});
  to_.world_to_pixel({ra_.data(), len}, {dec_.data(), len}, {xo, len}, {yo, len});
}

std::unique_ptr<PixelTransform> WcsPixelTransform::clone() const {
  return std::make_unique<WcsPixelTransform>(from_, to_);
}

void AffinePixelTransform::map(const double* x, const double* y, int n, double* xo, double* yo) {
  for (int i = 0; i < n; ++i) {
    const double xi = x[i];
    const double yi = y[i];
    xo[i] = m_.a * xi + m_.b * yi + m_.c;
    yo[i] = m_.d * xi + m_.e * yi + m_.f;
  }
}

std::unique_ptr<PixelTransform> AffinePixelTransform::clone() const {
  return std::make_unique<AffinePixelTransform>(m_);
}

}  // namespace zm
