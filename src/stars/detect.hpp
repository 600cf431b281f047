// Star detection on one float image: background/noise mesh, matched-filter local maxima, sub-pixel centroids.
#pragma once

#include <limits>
#include <vector>

#include "image/debayer.hpp"
#include "stars/star.hpp"

namespace zm {

enum class CfaDetectMode {
  Binned2x2,   // mean of each 2x2 CFA cell: half resolution, colour-blind, 4x fewer pixels (the fast path)
  GreenPlane,  // full resolution: green sites as they are, the others the mean of their 4 green neighbours
};

// Lengths are in pixels of the image that detection runs on.
struct DetectParams {
  double k_sigma = 5.0;        // detection threshold on the smoothed image, in units of its own noise
  double smooth_fwhm = 2.0;    // Gaussian detection filter (about the star FWHM); <= 0 disables smoothing
  double min_threshold = 0.0;  // absolute floor (ADU above background) on that threshold: noise-free images
  int mesh_cell = 64;          // background / noise box size
  double mesh_clip_sigma = 3.0;
  // Point-like defects (hot pixels, cosmic-ray hits): a star needs at least `min_area` 8-connected pixels above
  // area_k_sigma * noise in the unsmoothed image around its peak, and its 4 direct neighbours must average at
  // least `min_neighbour_ratio` of the peak (a hot pixel's neighbours are sky; a star's core is a few px wide).
  int min_area = 3;
  double area_k_sigma = 2.0;
  double min_neighbour_ratio = 0.1;
  float saturation = std::numeric_limits<float>::infinity();  // raw level at or above which a star is saturated
  bool reject_saturated = false;
  double fwhm_guess = 3.0;     // starting width of the adaptive centroid window
  double aperture_fwhm = 2.0;  // flux aperture radius in measured FWHMs ...
  double min_aperture = 3.0;   // ... but at least this many px
  int edge_margin = 2;         // maxima this close to the border are skipped
  double gain = 0.0;           // e-/ADU for the shot-noise part of the SNR; 0 leaves it out
  int max_stars = 0;           // keep the brightest N (0 = all)
};

// Summary numbers of one detection run.
struct DetectInfo {
  float background = 0.0f;  // median of the background mesh (ADU)
  float noise = 0.0f;       // median of the noise mesh (ADU per pixel)
  int candidates = 0;       // local maxima above threshold
  int rejected_defects = 0; // of which refused as point-like defects
  int measured = 0;         // centroids attempted
};

// Stars of a width x height row-major image (NaN pixels allowed: they count as sky), brightest flux first
// (ties by position, so the order is deterministic). Single-threaded: callers parallelise across frames.
std::vector<Star> detect_stars(const float* img, int width, int height, const DetectParams& params = {},
                               DetectInfo* info = nullptr);

// The same detection holding its scratch images between calls, so that a worker going through frame after
// frame allocates (and page-faults) nothing per frame. Results are identical to detect_stars. One per thread.
class StarDetector {
 public:
  explicit StarDetector(const DetectParams& params = {});
  std::vector<Star> detect(const float* img, int width, int height, DetectInfo* info = nullptr);
  // On a Bayer frame, coordinates returned in full-resolution pixels (see cfa_detect.hpp).
  std::vector<Star> detect_cfa(const float* cfa, int width, int height, BayerPattern pattern, CfaDetectMode mode,
                               DetectInfo* info = nullptr);
  const DetectParams& params() const { return params_; }

 private:
  std::vector<Star> run(const float* img, int width, int height, const DetectParams& p, DetectInfo* info);

  DetectParams params_;
  std::vector<float> resid_, tmp_, smoothed_, pad_, detection_image_;
};

// Median FWHM of the stars with snr >= min_snr that are not saturated (0 when there are none).
double median_fwhm(const std::vector<Star>& stars, double min_snr = 20.0);

}  // namespace zm
