// Robust straight-line fit y ~ a x + b with iterative sigma clipping, and the robust residual scale.
#pragma once

#include <span>
#include <vector>

namespace zm {

struct LineFit {
  double a = 1.0, b = 0.0;
  double mean_x = 0.0, mean_y = 0.0;  // of the kept samples (mean_y = a mean_x + b)
  double sigma = 0.0;                 // 1.4826 MAD of the kept residuals
  int kept = 0;
  bool ok = false;                    // enough kept samples and a non-degenerate x spread
};

// Ordinary least squares on the kept samples (sums centred, in double), then every sample whose residual
// exceeds clip_sigma * 1.4826 * median|residual of the kept| is dropped and the fit repeated, until the kept
// set stops changing (at most max_iter rounds). Starting from all samples, so bright structure (stars, nebula)
// keeps its leverage on the slope unless it disagrees with the line. Deterministic (fixed summation order).
LineFit robust_line_fit(std::span<const float> x, std::span<const float> y, double clip_sigma, int min_samples,
                        int max_iter = 12);

// sqrt(median(r)^2 + (1.4826 MAD(r))^2), r = y - (a x + b): a robust RMS that counts a systematic offset as
// well as the scatter (sigma for zero-mean Gaussian residuals, |c| for a constant c).
double robust_rms(std::span<const float> x, std::span<const float> y, double a, double b);

// noise^2 / variance of the samples, at most 1: the first-order attenuation of a least-squares slope by noise of
// that sigma in the regressor (1 when fewer than two samples or no spread).
double attenuation(std::span<const float> v, double noise);

// Median of v (reordered in place); the mean of the two middle values for an even size, 0 when empty.
double median_in_place(std::vector<double>& v);

}  // namespace zm
