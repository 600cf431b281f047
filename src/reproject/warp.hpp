// Warping a multi-channel image (or a row band of it) onto an output band through a pixel map, plus the band
// geometry callers need to stream: which input rows an output band reads, and where an input lands on a canvas.
//
// Invariants: every output pixel is computed from its own map entry and the input pixels under the kernel, so
// the result is bit-identical for any thread count and any banding of the output or the input (as long as the
// input band holds input_rows_needed()). Rows run in parallel with tbb::parallel_for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image/image.hpp"
#include "reproject/kernels.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/transform.hpp"
#include "wcs/wcs.hpp"

namespace zm {

// Input rows [begin, end) of an image.
struct RowRange {
  int begin = 0;
  int end = 0;
  bool empty() const { return end <= begin; }
  int count() const { return empty() ? 0 : end - begin; }
};

// An input image band: `rows` holds image rows [row0, row0 + rows.height) of an image `full_height` rows tall
// (0 means rows.height, i.e. the whole image with row0 = 0).
struct InputBand {
  const ImageF* rows = nullptr;
  int row0 = 0;
  int full_height = 0;
  int height() const { return full_height > 0 ? full_height : rows->height; }
};

// C x band.rows x band.cols samples plus a footprint: 1 where every channel's sample is finite, 0 elsewhere
// (outside the input, on NaN input data, or an undefined map entry). Invalid samples are NaN.
struct WarpedBand {
  PixelRect band;
  ImageF image;
  std::vector<std::uint8_t> footprint;
  long long valid_pixels = 0;
};

// Bytes an output band costs per pixel: C floats plus one footprint byte (the pixel map is extra, see
// kPixelMapBytesPerPixel).
inline constexpr std::size_t warped_bytes_per_pixel(int channels) {
  return static_cast<std::size_t>(channels) * sizeof(float) + 1;
}

// Input rows the band's samples read: min/max of the map's y over the points that are inside the input image,
// widened by the kernel support and clipped to [0, input_height). Empty when no point falls inside.
RowRange input_rows_needed(const PixelMap& map, Kernel kernel, int input_width, int input_height);

// Warps `input` through `map`. Throws std::invalid_argument when the input band lacks rows the map needs.
WarpedBand warp_band(const InputBand& input, const PixelMap& map, Kernel kernel);
WarpedBand warp_band(const ImageF& input, const PixelMap& map, Kernel kernel);

// Output pixels an input image can cover: its outer edge (x = -0.5 .. W - 0.5, y = -0.5 .. H - 0.5, sampled
// every edge_step px, corners included) mapped through in_to_out, grown by `pad` and clipped to the output
// grid. Works for any rotation; edge points the transform cannot map are ignored. Empty when nothing lands.
PixelRect output_bbox(PixelTransform& in_to_out, int in_w, int in_h, int out_w, int out_h, int pad = 2,
                      int edge_step = 16);
PixelRect output_bbox(const Wcs& input, const Wcs& output, int pad = 2, int edge_step = 16);

}  // namespace zm
