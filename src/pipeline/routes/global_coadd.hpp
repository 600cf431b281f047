// The engine of Mosaic-First and of each SDS batch: frames reprojected straight onto a global grid and combined per
// output pixel with rejection, streamed by output row bands.
//
// Per band, only the frames whose output bounding box meets the band are read (only the input rows the band needs)
// and warped onto their part of the band; each output pixel then gathers its samples (in frame order, after the
// frame's gain/offset) and combines them with combine_pixel. A pixel's value depends only on its own samples and
// each frame's pixel-map grid is chosen once over the frame's whole bounding box, so the result is bit-identical for
// any band height and any worker count. Memory is what one band's contributions hold, never the whole frame set.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "image/sensor_flat.hpp"
#include "pipeline/model/coadd_frame.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "reproject/kernels.hpp"
#include "reproject/transform.hpp"
#include "sched/cancel_token.hpp"
#include "stack/combine_band.hpp"
#include "stack/rejection.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct GlobalCoaddOptions {
  RejectParams reject;
  Kernel kernel = Kernel::Lanczos3;
  int band_rows = 0;                     // 0 = the most rows whose band fits memory_budget_bytes
  std::uint64_t memory_budget_bytes = 0;  // for band_rows = 0 (0 = whole canvas in one band)
  int workers = 1;
  const CancelToken* cancel = nullptr;
  std::function<void(int done, int total)> progress;  // after each band
};

struct GlobalCoaddStats {
  RejectStats reject;
  int band_rows = 0;
  int bands = 0;
  int frames_used = 0;                  // frames that landed on the canvas
  std::vector<int> frames_off_canvas;   // indices of frames whose footprint misses the canvas
  long long covered_pixels = 0;
  std::uint64_t peak_band_bytes = 0;    // largest measured band footprint (contributions + transients + output)
  std::uint64_t estimated_band_bytes = 0;  // the bound the band height was chosen against
  double seconds = 0.0;
  bool cancelled = false;
};

// Output bounding boxes of the frames on the grid (empty rect for frames off the canvas).
std::vector<PixelRect> coadd_frame_boxes(std::vector<CoaddFrame>& frames, const OutputGrid& grid);

// Upper bound of the bytes one band of `rows` rows holds (over every band of that height).
std::uint64_t coadd_band_bytes_bound(const std::vector<PixelRect>& boxes, const std::vector<CoaddFrame>& frames,
                                     int out_w, int out_h, int channels, int rows);

// The most rows (>= 1) whose band bound fits `budget`.
int coadd_rows_for_budget(const std::vector<PixelRect>& boxes, const std::vector<CoaddFrame>& frames, int out_w,
                          int out_h, int channels, std::uint64_t budget);

// Writes out.image/weight/coverage (dimensions from `out`) atomically. weight = sum of the weights (green channel)
// of the frames with data at the pixel, coverage = their number; image NaN where no frame has data.
GlobalCoaddStats global_coadd(std::vector<CoaddFrame>& frames, const OutputGrid& grid, const MosaicArtifacts& out,
                              const GlobalCoaddOptions& options);

}  // namespace zm
