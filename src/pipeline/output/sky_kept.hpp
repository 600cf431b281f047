// The invariant every route must keep: the mosaic holds every pixel that any usable frame saw. Measured on every
// run as the fraction of the union of the frames' footprints that the mosaic covers with data (all channels finite),
// on a raster of the union, and per frame, to name the frames whose sky was dropped.
#pragma once

#include <string>
#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// A run keeping less than this of the union warns (SKY_LOST).
inline constexpr double kSkyKeptWarnBelow = 0.99;
// The union's raster has at most this many cells on its longer side.
inline constexpr int kSkyRasterSide = 512;

struct SkyKept {
  double fraction = 1.0;          // kept cells / union cells (1 when the union is empty)
  long long union_cells = 0;
  long long kept_cells = 0;
  int cell_px = 1;                // raster cell side in output-grid pixels
  struct Frame {
    std::string path;
    double kept = 1.0;            // of this frame's own footprint
  };
  std::vector<Frame> short_frames;  // frames keeping less than kSkyKeptWarnBelow of their footprint, worst first
};

// Footprints are the frames' data boxes (FrameRecord::data_box: their pixels less NaN borders) (edges sampled, frame WCS -> sky -> the grid's projection, which
// extends beyond the grid: sky outside the grid counts as lost). A cell counts when its centre is inside; a cell is
// kept when the mosaic has data at the grid pixel of its centre. Streams the mosaic once, one row per raster row.
SkyKept measure_sky_kept(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                         const MosaicArtifacts& mosaic);

}  // namespace zm
