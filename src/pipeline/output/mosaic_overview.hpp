// A block-averaged, low-resolution copy of the assembled mosaic, built in one streamed pass: the preview PNG and
// the aesthetic hole fill read it instead of the full canvas.
#pragma once

#include <cstdint>
#include <vector>

#include "image/image.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"

namespace zm {

struct MosaicOverview {
  ImageF image;  // C x h x w, mean of the valid full-resolution pixels of each block, NaN where none
  int factor = 1;  // full-resolution pixels per overview pixel along each axis
};

// factor = ceil(max(W, H) / max_side) (at least 1). Streams the mosaic in bands of `band_rows` rows.
MosaicOverview build_overview(const MosaicArtifacts& mosaic, int max_side, int band_rows);

// Normalised Gaussian smoothing (sigma in overview pixels) that also extends values into NaN areas: the value at
// a hole is the weighted mean of the valid pixels around it; stays NaN where no valid pixel is within 3 sigma.
ImageF smooth_fill(const ImageF& image, double sigma);

// Distance (overview pixels, chamfer 3-4 approximation of Euclidean) from each pixel to the nearest pixel whose
// channels are all finite; 0 on valid pixels, a large value where the image has no valid pixel at all.
std::vector<float> distance_to_valid(const ImageF& image);

// 8-bit RGBA preview: per channel, black point = max(p_low percentile, median - 1.25 sigma) (a dark, neutral sky); one white
// point for all channels = p_high percentile of the largest channel above its black point (colours keep their
// ratios); then asinh(a v) / asinh(a). Alpha 0 where the overview has no data (the colour there is 0). Mono
// overviews give grey.
std::vector<std::uint8_t> stretch_rgba(const ImageF& overview, double p_low, double p_high, double asinh_a);

}  // namespace zm
