// PSF matching of two co-registered images of the same sky: the Gaussian blur that, applied to the sharper one,
// makes the two point-spread functions alike, so that aperture fluxes lose the same fraction in both.
//
// Why fitted rather than computed from two measured FWHMs: a width read from the area above half the peak is
// quantised to whole pixels (3.74 vs 3.91 px for the same stars), and a mismatch of that size, left in, moves the
// flux ratio of faint crowded sources by ~1-4 % (their neighbours' wings cross the aperture edge differently in
// each image) while bright sources, whose apertures hold the whole PSF, stay right: a flux-dependent gain.
//
// Method: on the bright sources' stamps only (where the PSF mismatch dominates the noise), for a signed sigma s
// (> 0 blurs x, < 0 blurs y) the residual of y - a x over the aperture pixels, each stamp's ring median removed and
// a fitted by least squares, minus the noise that residual is expected to hold (which shrinks as the blurred image
// is smoothed, and would otherwise pull s towards blurring the noisier image). A grid of s, then a parabola
// through the best point and its neighbours.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace zm {

// One bright source: its aperture and background-ring pixel indices into a w x h grid (row-major).
struct MatchStamp {
  std::vector<std::size_t> aperture, ring;
};

struct PsfMatch {
  bool ok = false;     // false: fewer than min_stamps usable stamps
  double sigma = 0.0;  // signed Gaussian sigma, px: > 0 blur x, < 0 blur y
  int stamps = 0;
};

struct PsfMatchOptions {
  double max_sigma = 2.5;  // px, searched on both sides
  double step = 0.1;       // px, grid step before the parabola
  int min_stamps = 3;
};

// x, y: one plane each (w x h); noise_x, noise_y: their per-pixel noise sigma. Deterministic.
PsfMatch psf_matching_sigma(const float* x, const float* y, std::span<const std::uint8_t> valid, int width,
                            int height, double noise_x, double noise_y, const std::vector<MatchStamp>& stamps,
                            const PsfMatchOptions& options = {});

// Gaussian blur (sigma px, separable, truncated at 3 sigma) over the valid pixels: each output the weighted mean of
// the valid pixels under the kernel; invalid pixels neither contribute nor change.
std::vector<float> gaussian_blur_valid(const float* in, std::span<const std::uint8_t> valid, int width, int height,
                                       double sigma);

// Per-pixel noise sigma after gaussian_blur_valid of white noise, relative to before (the 2-D kernel's L2 norm).
double blur_noise_factor(double sigma);

}  // namespace zm
