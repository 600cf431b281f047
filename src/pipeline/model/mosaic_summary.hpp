// Where a mosaic came from, for the output headers and file names: route, tiles, frames, exposure, dates.
#pragma once

#include <string>
#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "pipeline/model/route.hpp"
#include "pipeline/model/tile_set.hpp"

namespace zm {

struct MosaicSummary {
  Route route = Route::classic;
  int master_tiles = 0;           // tiles (classic, grid) or mega-tiles (sds); 0 for mosaic_first
  int frames_found = 0;           // input FITS files scanned
  int frames_used = 0;            // frames stacked into the mosaic
  double exposure_s = 0.0;
  std::string date_beg;
  std::string date_end;
  double sky_kept_fraction = 1.0;  // of the union of the usable frames' footprints (output/sky_kept.hpp)
};

// frames_used = the frames the tiles hold (a frame left out of its tile is not used).
MosaicSummary summarize_tiles(const std::vector<TileInfo>& tiles, int frames_found);
MosaicSummary summarize_frames(const std::vector<FrameRecord>& frames, int frames_found, Route route);

}  // namespace zm
