// 2-D affine transforms between pixel frames, and weighted least-squares fits of similarity / affine models.
#pragma once

#include <optional>
#include <span>

namespace zm {

struct Point2 {
  double x = 0.0;
  double y = 0.0;
};

// x' = a x + b y + c,  y' = d x + e y + f.
struct Affine2D {
  double a = 1.0, b = 0.0, c = 0.0;
  double d = 0.0, e = 1.0, f = 0.0;

  static Affine2D identity() { return {}; }
  static Affine2D translation(double tx, double ty) { return {1.0, 0.0, tx, 0.0, 1.0, ty}; }
  // p' = scale * R(rotation) * F * p + (tx, ty) with R = [[cos, -sin], [sin, cos]] (the +x axis turns towards +y)
  // and F = diag(1, -1) when `flip` (y mirrored first), else the identity.
  static Affine2D similarity(double scale, double rotation_rad, bool flip, double tx, double ty);

  Point2 apply(Point2 p) const { return {a * p.x + b * p.y + c, d * p.x + e * p.y + f}; }
  // Throws std::domain_error when the matrix is singular.
  Affine2D inverse() const;
  // (this ∘ inner)(p) = this->apply(inner.apply(p)).
  Affine2D compose(const Affine2D& inner) const;

  double determinant() const { return a * e - b * d; }
  bool is_flipped() const { return determinant() < 0.0; }
  // Similarity view of the linear part (exact for similarities, a best fit otherwise):
  // scale = sqrt(|det|); rotation is the angle of the similarity that, after the flip (if any), matches best.
  double scale() const;
  double rotation() const;  // radians in (-pi, pi]
  // Largest deviation of the linear part from a (possibly flipped) similarity, relative to its scale.
  double shear() const;
};

enum class FlipMode {
  NoFlip,  // proper similarity (rotation + scale)
  Flip,    // mirrored similarity
  Either,  // fit both, keep the lower weighted residual
};

// Weighted least-squares fits mapping src[i] -> dst[i]. `weights` empty means all ones; otherwise one
// non-negative weight per pair. nullopt when the problem is degenerate (too few pairs with weight, all src points
// coincident, singular normal equations). Noise-free input gives the exact transform.
std::optional<Affine2D> fit_similarity(std::span<const Point2> src, std::span<const Point2> dst,
                                       std::span<const double> weights = {}, FlipMode flip = FlipMode::NoFlip);
std::optional<Affine2D> fit_affine(std::span<const Point2> src, std::span<const Point2> dst,
                                   std::span<const double> weights = {});

// sqrt(sum w |T(src) - dst|^2 / sum w); weights empty means all ones.
double weighted_rms(const Affine2D& t, std::span<const Point2> src, std::span<const Point2> dst,
                    std::span<const double> weights = {});

}  // namespace zm
