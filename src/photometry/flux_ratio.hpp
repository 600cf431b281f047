// Gain between two co-registered images of the same sky from background-subtracted source fluxes (aperture sums).
//
// Why not a pixel-wise regression: with per-pixel noise comparable to the signal (stacked master tiles: ~50 ADU
// on a ~900 ADU sky), noise in the regressor attenuates the slope, and a PSF or resampling blur that differs
// between the two tiles moves flux from star cores to wings, which a pixel-wise fit reads as a gain change.
// A flux sum over an aperture that holds the whole source is invariant to blur, and noise enters it with zero
// mean, so the ratio of sums is unbiased to first order.
//
// Method (one catalogue for all channels):
// 1. detection map: per pixel, the sum over channels of (x - median x) / sigma_x + (y - median y) / sigma_y,
//    box-smoothed 3x3; cores are pixels above median + detect_sigma * robust sigma of that map. Both images
//    enter symmetrically, so selection favours neither image's noise.
// 2. PSF matching (psf_match.hpp): the sharper image is blurred by the Gaussian fitted on the bright sources'
//    stamps; a mismatch left in reads, in a crowded field, as a gain that changes with the source's flux.
// 3. photometry, by default on fixed discs (disc_fwhms x the wider half-maximum width, at least 3 px) centred on
//    each source's peak: disc sum minus its area times the mean of an annulus 2-5 px outside it, the same pixels in
//    both images. Sums and means are linear, so y = a x + b carries over to every source whatever its neighbours,
//    the nebulosity or the noise (measured against the simulator: per-source ratios flat in flux, where grown-core
//    apertures over block-median backgrounds read faint sources several percent off). Sources whose disc or
//    annulus meets an invalid pixel or the grid edge are left out. disc_fwhms = 0 selects the older apertures:
//    cores dilated by max(aperture_grow, aperture_psf_sigmas x the wider PSF sigma), block-median background.
// 4. per channel: F_x, F_y per source; ratio r = F_y / F_x with a relative variance from the pixel noise
//    (aperture + background median) plus `systematic`^2 (interpolation phase, residual blur); iterative clipping
//    of |r / a - 1| / sd against clip_sigma times the robust scale of those normalised residuals; then
//    a = sum(w F_y) / sum(w F_x), w = 1 / (v F^), which is the inverse-variance mean of the ratios with weights
//    that do not depend on F_x's noise (no ratio-of-noisy-denominator bias).
// 5. offset: b = median(y - a x) over the sky pixels (outside every aperture): the signal cancels pixel by pixel,
//    so only symmetric noise is left and the median is unbiased even over nebulosity.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace zm {

struct FluxRatioOptions {
  double detect_sigma = 5.0;   // core threshold on the smoothed detection map, in its robust sigma
  int aperture_grow = 2;       // px added around each core (square dilation), at least ...
  double aperture_psf_sigmas = 2.0;  // ... this many PSF sigmas of the wider of the two images' PSFs
  bool psf_match = true;       // blur the sharper image to the other's PSF before measuring
  double disc_fwhms = 1.5;     // disc radius in FWHMs of the wider PSF; 0 = grown-core apertures
  int ring_width = 3;          // local background annulus, px
  int min_ring_pixels = 12;
  double min_snr = 5.0;        // per source, in each image
  double systematic = 0.01;    // relative per-source error floor
  double clip_sigma = 3.0;
  int min_sources = 3;
  int min_sky_pixels = 64;
};

// Per channel: y ~ a x + b.
struct ChannelFluxRatio {
  bool ok = false;
  double a = 1.0, b = 0.0;
  double a_rel_sigma = 0.0;  // relative 1-sigma of a (from the pixel noise, scaled up by the ratios' scatter)
  double sky_x = 0.0;        // median x over the sky pixels: the level the offset is matched at
  int sources = 0;           // used for a
  int rejected = 0;          // candidates clipped
  long long sky_pixels = 0;  // used for b
  double pixel_a = 0.0;       // robust_line_fit slope on the PSF-matched planes (0 = failed)
  double pixel_lambda = 1.0;  // its noise attenuation: noise^2 / sample variance, x plus y
};

// A set of C planes of one image, each w x h, row-major.
struct PlaneSet {
  std::vector<const float*> planes;
  std::vector<double> sigma;  // per-pixel noise per channel (> 0)
};

// x, y: C planes each; valid: w x h (1 = usable in both). Deterministic (serial, fixed order).
std::vector<ChannelFluxRatio> flux_ratio(const PlaneSet& x, const PlaneSet& y, std::span<const std::uint8_t> valid,
                                         int width, int height, const FluxRatioOptions& options = {});

// Robust per-pixel noise of one plane: 1.4826 MAD of differences between pixels two columns apart, / sqrt(2)
// (lag 2 because resampled images have correlated neighbours). NaN pixels are skipped; 0 when too few pairs.
double plane_noise_sigma(const float* plane, int width, int height);

}  // namespace zm
