// Pixel-to-pixel coordinate transforms (WCS to WCS through the sky, or a 2x3 affine) that pixel maps evaluate.
//
// A transform is evaluated in batches (one row of points at a time) and must give the same result for a point
// whatever batch it arrives in: that is what makes pixel maps, and so warped output, independent of banding.
// Transforms keep scratch state (wcslib is not re-entrant per wcsprm), so one instance serves one thread; use
// clone() to fan out.
#pragma once

#include <memory>
#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

// A half-open rectangle of pixels: columns [x0, x0 + cols), rows [y0, y0 + rows).
struct PixelRect {
  int x0 = 0;
  int y0 = 0;
  int cols = 0;
  int rows = 0;
  bool empty() const { return cols <= 0 || rows <= 0; }
  long long area() const { return empty() ? 0 : static_cast<long long>(cols) * rows; }
};

// x' = a*x + b*y + c,  y' = d*x + e*y + f  (0-based pixel coordinates). Phase 3 registration produces
// frame -> reference matrices; a warp needs reference -> frame, i.e. inverse(frame_to_reference).
struct Affine2x3 {
  double a = 1.0, b = 0.0, c = 0.0;
  double d = 0.0, e = 1.0, f = 0.0;
};
// Throws std::invalid_argument when the matrix is singular (|det| < 1e-300) or not finite.
Affine2x3 inverse(const Affine2x3& m);

class PixelTransform {
 public:
  virtual ~PixelTransform() = default;
  // Maps n points (x[i], y[i]) to (xo[i], yo[i]); NaN where the transform is undefined.
  virtual void map(const double* x, const double* y, int n, double* xo, double* yo) = 0;
  virtual std::unique_ptr<PixelTransform> clone() const = 0;
};

// from-pixel -> sky (from's WCS) -> to-pixel (to's WCS). Copies both Wcs, so the arguments may be reused.
class WcsPixelTransform final : public PixelTransform {
 public:
  WcsPixelTransform(const Wcs& from, const Wcs& to);
  void map(const double* x, const double* y, int n, double* xo, double* yo) override;
  std::unique_ptr<PixelTransform> clone() const override;

 private:
  Wcs from_;
  Wcs to_;
  std::vector<double> ra_;
  std::vector<double> dec_;
};

class AffinePixelTransform final : public PixelTransform {
 public:
  explicit AffinePixelTransform(const Affine2x3& m) : m_(m) {}
  void map(const double* x, const double* y, int n, double* xo, double* yo) override;
  std::unique_ptr<PixelTransform> clone() const override;

 private:
  Affine2x3 m_;
};

}  // namespace zm
