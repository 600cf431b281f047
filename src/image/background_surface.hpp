// A smooth sky-background surface fitted to a low-resolution image (the final background extraction's model):
// objects masked, background samples on a grid, a thin-plate spline with smoothing through them.
//
// Algorithm (per call, all channels at once; one sample grid shared by the channels so that one factorisation
// serves them all):
//   1. valid = every channel finite. The first model is each channel's median.
//   2. Rounds: residual = image - model; per channel, median m and sigma = 1.4826 MAD of the residual over the
//      valid pixels not masked last round (the sky alone once objects are out); object mask = residual > m + obj_k
//      sigma in any channel (a nebula bright in one channel stays out of all), dilated by obj_dilate_px (square).
//      Unlike ZeMosaic, which thresholds the raw image once, the mask is taken against the current model, so a
//      20 % gradient does not mask the bright side of the sky, and the soft edge of a large nebula, which stands
//      out only against a flat residual, is masked too.
//   3. Samples: windows of sample_step x sample_step px tile the image; a window with at least a fifth of its
//      pixels valid and unmasked gives one sample per channel, the median of those pixels, at their centroid.
//      More than max_samples windows: the step grows until they fit (the solve is cubic in the sample count).
//      Samples more than 2 sigma above the model (or 4 below; sigma of the samples' residuals) are dropped: the sky
//      is the lower envelope, objects only add light.
//   4. Model: kBaseRounds rounds of a least-squares quadratic in (u, v) (clipped iteratively as above), which
//      carries a light-pollution gradient and a vignetting bowl; the object mask it settles on stays masked; then
//      `iterations` rounds of a thin-plate spline through what the quadratic leaves at the samples,
//      s(u, v) = a0 + a1 u + a2 v + sum_i w_i phi(|p - p_i|), phi(r) = r^2 log r, coordinates normalised by the
//      longest side, solved with (K + N lambda I) w + P a = z, P^T w = 0 (a smoothing spline: lambda = smoothing x
//      kSmoothingScale; N keeps its meaning independent of the sample density), dense LU (Eigen). A flexible
//      surface alone creeps into a nebula covering a third of the image (measured: 46-98 % of its flux eaten
//      whatever the smoothing); the quadratic first, the kept mask and the one-sided clip keep 99 % of it.
//      Fewer than 10 samples: no spline; fewer than 12: a plane; fewer than 3: the median.
//   5. The model is evaluated on a node grid every max(1, step / 4) px and read bilinearly from there (it is
//      smooth on the scale of the sample step, so this costs nothing in accuracy and N x pixels kernel
//      evaluations less).
#pragma once

#include <vector>

#include "image/image.hpp"

namespace zm {

struct SurfaceOptions {
  double obj_k = 3.0;        // object threshold above the background (sigmas of the residual)
  int obj_dilate_px = 3;     // object mask grown by this many pixels
  int sample_step = 24;      // sample window side (pixels of the image fitted)
  double smoothing = 0.6;    // spline smoothing (0 = interpolating)
  int iterations = 2;        // mask / spline rounds after the quadratic's
  int max_samples = 1200;    // the step grows beyond this many windows
};

// The fitted model: node values C x nh x nw, node (i, j) at image coordinate (j x spacing, i x spacing).
struct BackgroundSurface {
  ImageF nodes;
  double spacing = 1.0;
  int width = 0, height = 0;        // of the image it was fitted on
  int samples = 0;                  // sample windows used in the last fit
  int step = 0;                     // sample step actually used (px)
  double masked_fraction = 0.0;     // of the valid pixels, masked as objects in the last round
  std::vector<double> median;       // per channel: median of the model over the valid pixels
  std::vector<double> amplitude;    // per channel: max - min of the model over the valid pixels

  // Bilinear value at image coordinate (x, y) (clamped to the node grid).
  float at(int c, double x, double y) const;
};

BackgroundSurface fit_background_surface(const ImageF& image, const SurfaceOptions& options);

}  // namespace zm
