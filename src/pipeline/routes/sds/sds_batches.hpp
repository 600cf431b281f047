// SDS batching: frames grouped into complete sweeps of the field, each of which becomes one mega-tile.
//
// Frames in input order (or, with sds_batch_by_night, night by night from their DATE-OBS, a night ending at a gap >
// sds_night_gap_h) are appended to the current batch, which closes once it holds >= sds_min_batch frames and covers
// >= sds_coverage_target of the area ALL frames cover (or at sds_max_batch frames). Coverage is measured on a coarse
// raster (<= 256 px a side) of the canvas. Relative to the union rather than to the canvas because a north-up
// bounding canvas of a rotated or ragged layout is never fully covered. A trailing batch smaller than sds_min_batch
// joins the previous batch (of the same night).
#pragma once

#include <algorithm>
#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct SdsBatchOptions {
  double coverage_target = 0.92;
  int min_batch = 5;
  int max_batch = 0;  // 0 = no cap
  bool by_night = false;
  double night_gap_s = 4 * 3600.0;
};

struct SdsBatch {
  std::vector<int> members;  // indices into the frame list, in input order
  double coverage = 0.0;     // of the union of all frames' footprints
  int night = 0;             // 0 unless batching by night
};

// Deterministic; every frame lands in exactly one batch (frames off the canvas too: the coadd reports them).
std::vector<SdsBatch> plan_sds_batches(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                       const SdsBatchOptions& options);

// How many batches' frames cover each cell of the coarse canvas raster (a cell counts for a batch when the centre
// of the cell is inside one of the batch's frames): the coverage expected at each place, which the SDS mask is
// relative to.
struct BatchCoverage {
  int factor = 1;        // grid pixels per cell along each axis
  int width = 0;         // cells
  int height = 0;
  std::vector<int> batches;
  // Batches expected at grid pixel (x, y) (pixels past the last cell take the last cell's).
  int at(int x, int y) const {
    const int i = std::min(width - 1, x / factor), j = std::min(height - 1, y / factor);
    return batches[static_cast<std::size_t>(j) * width + i];
  }
};
BatchCoverage batch_coverage(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                             const std::vector<SdsBatch>& batches);

}  // namespace zm
