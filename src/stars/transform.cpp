#include "stars/transform.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace zm {

Affine2D Affine2D::similarity(double scale, double rotation_rad, bool flip, double tx, double ty) {
  const double cs = scale * std::cos(rotation_rad);
  const double sn = scale * std::sin(rotation_rad);
  const double fy = flip ? -1.0 : 1.0;
  return {cs, -sn * fy, tx, sn, cs * fy, ty};
}

Affine2D Affine2D::inverse() const {
  const double det = determinant();
  const double norm = std::abs(a) + std::abs(b) + std::abs(d) + std::abs(e);
  if (!(std::abs(det) > 1e-300) || !(std::abs(det) > 1e-14 * norm * norm))
    throw std::domain_error("Affine2D::inverse: singular transform");
  const double ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return {ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)};
}

Affine2D Affine2D::compose(const Affine2D& in) const {
  return {a * in.a + b * in.d, a * in.b + b * in.e, a * in.c + b * in.f + c,
          d * in.a + e * in.d, d * in.b + e * in.e, d * in.c + e * in.f + f};
}

namespace {

// The linear part with the mirror undone (M * F when flipped), so that it is close to a proper similarity.
void proper_part(const Affine2D& t, double& a, double& b, double& d, double& e) {
  const double fy = t.is_flipped() ? -1.0 : 1.0;
  a = t.a;
  b = t.b * fy;
  d = t.d;
  e = t.e * fy;
}

}  // namespace

double Affine2D::scale() const { return std::sqrt(std::abs(determinant())); }

double Affine2D::rotation() const {
  double pa, pb, pd, pe;
  proper_part(*this, pa, pb, pd, pe);
  return std::atan2(0.5 * (pd - pb), 0.5 * (pa + pe));
}

double Affine2D::shear() const {
  double pa, pb, pd, pe;
  proper_part(*this, pa, pb, pd, pe);
  const double sim = std::hypot(0.5 * (pa + pe), 0.5 * (pd - pb));
  const double anti = std::hypot(0.5 * (pa - pe), 0.5 * (pb + pd));
  return sim > 0.0 ? anti / sim : std::numeric_limits<double>::infinity();
}

namespace {

struct Centred {
  Point2 src_mean, dst_mean;
  double wsum = 0.0;
  int n_weighted = 0;
};

double weight_at(std::span<const double> w, std::size_t i) { return w.empty() ? 1.0 : w[i]; }

bool valid_input(std::span<const Point2> src, std::span<const Point2> dst, std::span<const double> w) {
  return src.size() == dst.size() && (w.empty() || w.size() == src.size());
}

Centred centroids(std::span<const Point2> src, std::span<const Point2> dst, std::span<const double> w) {
  Centred c;
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double wi = weight_at(w, i);
    if (!(wi > 0.0)) continue;
    c.wsum += wi;
    ++c.n_weighted;
    c.src_mean.x += wi * src[i].x;
    c.src_mean.y += wi * src[i].y;
    c.dst_mean.x += wi * dst[i].x;
    c.dst_mean.y += wi * dst[i].y;
  }
  if (c.wsum > 0.0) {
    c.src_mean = {c.src_mean.x / c.wsum, c.src_mean.y / c.wsum};
    c.dst_mean = {c.dst_mean.x / c.wsum, c.dst_mean.y / c.wsum};
  }
  return c;
}

// Proper similarity (p, -q; q, p) fitted on centred coordinates; `ysign` = -1 mirrors the source first.
std::optional<Affine2D> fit_similarity_oriented(std::span<const Point2> src, std::span<const Point2> dst,
                                                std::span<const double> w, double ysign) {
  const Centred c = centroids(src, dst, w);
  if (c.n_weighted < 2) return std::nullopt;
  double sxx = 0.0, num_p = 0.0, num_q = 0.0;
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double wi = weight_at(w, i);
    if (!(wi > 0.0)) continue;
    const double u = src[i].x - c.src_mean.x, v = ysign * (src[i].y - c.src_mean.y);
    const double up = dst[i].x - c.dst_mean.x, vp = dst[i].y - c.dst_mean.y;
    sxx += wi * (u * u + v * v);
    num_p += wi * (u * up + v * vp);
    num_q += wi * (u * vp - v * up);
  }
  if (!(sxx > 1e-18 * c.wsum)) return std::nullopt;
  const double p = num_p / sxx, q = num_q / sxx;
  Affine2D t{p, -q * ysign, 0.0, q, p * ysign, 0.0};
  t.c = c.dst_mean.x - (t.a * c.src_mean.x + t.b * c.src_mean.y);
  t.f = c.dst_mean.y - (t.d * c.src_mean.x + t.e * c.src_mean.y);
  return t;
}

}  // namespace

std::optional<Affine2D> fit_similarity(std::span<const Point2> src, std::span<const Point2> dst,
                                       std::span<const double> weights, FlipMode flip) {
  if (!valid_input(src, dst, weights)) return std::nullopt;
  if (flip == FlipMode::NoFlip) return fit_similarity_oriented(src, dst, weights, 1.0);
  if (flip == FlipMode::Flip) return fit_similarity_oriented(src, dst, weights, -1.0);
  auto proper = fit_similarity_oriented(src, dst, weights, 1.0);
  auto mirrored = fit_similarity_oriented(src, dst, weights, -1.0);
  if (!proper || !mirrored) return proper ? proper : mirrored;
  return weighted_rms(*mirrored, src, dst, weights) < weighted_rms(*proper, src, dst, weights) ? mirrored : proper;
}

std::optional<Affine2D> fit_affine(std::span<const Point2> src, std::span<const Point2> dst,
                                   std::span<const double> weights) {
  if (!valid_input(src, dst, weights)) return std::nullopt;
  const Centred c = centroids(src, dst, weights);
  if (c.n_weighted < 3) return std::nullopt;
  Eigen::Matrix2d normal = Eigen::Matrix2d::Zero();
  Eigen::Matrix2d rhs = Eigen::Matrix2d::Zero();  // column 0 for x', column 1 for y'
  for (std::size_t i = 0; i < src.size(); ++i) {
    const double wi = weight_at(weights, i);
    if (!(wi > 0.0)) continue;
    const Eigen::Vector2d uv(src[i].x - c.src_mean.x, src[i].y - c.src_mean.y);
    const Eigen::Vector2d out(dst[i].x - c.dst_mean.x, dst[i].y - c.dst_mean.y);
    normal += wi * uv * uv.transpose();
    rhs += wi * uv * out.transpose();
  }
  const double tr = normal.trace();
  // Collinear sources leave one direction unconstrained: reject a near-singular normal matrix.
  if (!(tr > 0.0) || !(normal.determinant() > 1e-12 * tr * tr)) return std::nullopt;
  const Eigen::Matrix2d sol = normal.ldlt().solve(rhs);  // rows: coefficient of u, of v
  Affine2D t{sol(0, 0), sol(1, 0), 0.0, sol(0, 1), sol(1, 1), 0.0};
  t.c = c.dst_mean.x - (t.a * c.src_mean.x + t.b * c.src_mean.y);
  t.f = c.dst_mean.y - (t.d * c.src_mean.x + t.e * c.src_mean.y);
  return t;
}

double weighted_rms(const Affine2D& t, std::span<const Point2> src, std::span<const Point2> dst,
                    std::span<const double> weights) {
  double sum = 0.0, wsum = 0.0;
  const std::size_t n = std::min(src.size(), dst.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double wi = weight_at(weights, i);
    if (!(wi > 0.0)) continue;
    const Point2 p = t.apply(src[i]);
    const double dx = p.x - dst[i].x, dy = p.y - dst[i].y;
    sum += wi * (dx * dx + dy * dy);
    wsum += wi;
  }
  return wsum > 0.0 ? std::sqrt(sum / wsum) : 0.0;
}

}  // namespace zm
