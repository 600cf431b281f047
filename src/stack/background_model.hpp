// A master tile's sky background as vignetting x level + a plane, fitted to sparse sky samples and divided/subtracted
// out so that the tile's sky is flat: what makes tile edges (where mosaics overlap) match tile centres.
//
// Model, in coordinates normalised by the tile's half-diagonal R (u = (x - cx) / R, v = (y - cy) / R, r2 = u^2 + v^2):
//   B(u, v) = c0 (1 + q r2) + gx u + gy v
// The radial term is optical vignetting, which dims stars and sky alike, so it is divided out; the plane is light
// pollution / moonlight, which only adds, so it is subtracted: flattened = (x - gx u - gy v) / (1 + q r2). The sky
// level c0 (the pedestal at the centre) is kept. A term enters only when the fit finds it significant (|coef| >
// significance x its standard error), so a tile without vignetting or gradient is left bit-for-bit alone.
#pragma once

#include <span>

namespace zm {

struct BackgroundModelOptions {
  double clip_high = 1.0;       // sigmas: stars and nebulosity are positive outliers (faint nebula wings too)
  double clip_low = 3.0;
  int iterations = 6;
  double significance = 4.0;    // a term is applied only above this many standard errors
  double max_vignetting = 0.5;  // |q| beyond this is not vignetting: the radial term is dropped
  int min_samples = 64;
};

struct BackgroundModel {
  bool radial = false;  // q applied
  bool plane = false;   // gx, gy applied
  double c0 = 0.0, q = 0.0, gx = 0.0, gy = 0.0;
  double cx = 0.0, cy = 0.0, radius = 1.0;  // normalisation: centre and half-diagonal, px
  int samples_used = 0;
  bool identity() const { return !radial && !plane; }
  // Flattened value of `value` at pixel (x, y).
  float apply(float value, double x, double y) const {
    const double u = (x - cx) / radius, v = (y - cy) / radius;
    double out = value;
    if (plane) out -= gx * u + gy * v;
    if (radial) out /= 1.0 + q * (u * u + v * v);
    return static_cast<float>(out);
  }
};

// Fits the model to samples (x, y, value) of one channel of a width x height image; NaN values are skipped.
// Deterministic. Returns an identity model when too few samples remain.
BackgroundModel fit_background_model(std::span<const float> xs, std::span<const float> ys,
                                     std::span<const float> values, int width, int height,
                                     const BackgroundModelOptions& options = {});

// Flattens rows [y0, y0 + rows) of a plane of `width` columns in place (NaN stays NaN); the plane's column 0 is
// the model's x0 (a tile larger than the image the model was fitted on).
void apply_background_model(const BackgroundModel& m, float* plane_rows, int width, int y0, int rows, int x0 = 0);

}  // namespace zm
