// Feathered per-pixel weights of a tile from its alpha mask: an exact Euclidean distance ramp from the no-data edge.
//
// Distance convention: d is the Euclidean distance between pixel centres from a data pixel to the nearest pixel
// that is either no-data (alpha == 0) or just outside the image (row/column -1 or W/H). A data pixel on the image
// border therefore has d = 1, and d >= 1 for every data pixel, so weights stay > 0 on data whenever
// floor > 0 or feather_px is finite. The nearest outside pixel is always straight across the nearest edge, so
// d = min(EDT to no-data pixels, x + 1, W - x, y + 1, H - y).
//
// EDT: Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions" (2012): two separable passes of
// the 1-D squared-distance transform (lower envelope of parabolas), O(W*H), exact. Columns and rows run in
// parallel; every line is independent, so the result does not depend on the thread count.
#pragma once

#include <cstdint>
#include <vector>

namespace zm {

// w = clamp(d / feather_px, floor, 1) on data pixels, 0 where alpha == 0 (see the file comment for d).
// feather_px <= 0 gives binary weights (1 inside). Throws std::invalid_argument when alpha.size() != W * H.
std::vector<float> feather_weights(const std::vector<std::uint8_t>& alpha, int width, int height, double feather_px,
                                   double floor);

// Data pixels within this distance of no-data (not of the image border) are resampled from filled values: their
// kernel reaches past the data (reproject/coadd_tile.cpp fills no-data pixels this close to data).
inline constexpr int kEdgeFillRadius = 3;
// Those pixels are last-resort samples: their weight is multiplied by this, so they count where no other tile has
// data and next to nothing where one has: a tile's inner edge keeps its sky without biasing the seams it overlaps.
inline constexpr float kLastResortWeight = 1e-3f;

// Applies kLastResortWeight to the weights of data pixels within kEdgeFillRadius of a no-data pixel.
void mark_last_resort_samples(const std::vector<std::uint8_t>& alpha, int width, int height,
                              std::vector<float>& weights);

// Multiplies each weight by the frames stacked at the pixel over the most in the tile (COVERAGE / its maximum; a
// covered pixel without a count takes 1 / maximum): a tile's thinly covered fringe (its members' dithers and
// rotations beyond the reference) weighs what its depth is worth next to another tile's full depth.
void weigh_by_coverage(const std::vector<float>& coverage, std::vector<float>& weights);

// Squared EDT to the nearest pixel with alpha == 0 (image border not included); +inf-like (1e30) when there is
// none. Exposed for tests and diagnostics.
std::vector<double> squared_distance_to_nodata(const std::vector<std::uint8_t>& alpha, int width, int height);

}  // namespace zm
