// Grid mode's tile layout: the global grid cut into a regular layout of overlapping tiles.
//
// Side = grid_size_factor x the median frame side on the grid, where a frame's side is sqrt(width x height) x its
// pixel scale / the grid's (a Seestar frame, 1080 x 1920, gives 1440 px at the native scale, so the default 4.0 makes
// ~5760 px tiles). Step = side x (1 - batch_overlap_pct / 100); along each axis the tiles are spread evenly so that
// the first starts at 0 and the last ends at the grid's edge (overlaps are therefore >= the requested one). A grid
// smaller than one tile is one tile. Tiles are cropped to the frames' union and tiles no frame touches are dropped.
#pragma once

#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "reproject/transform.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct GridTile {
  int id = 0;
  PixelRect rect;            // on the global grid
  std::vector<int> members;  // indices into the frame list, ascending (= plan order)
};

struct GridLayout {
  int tile_side = 0;         // px on the global grid, before cropping
  int step = 0;
  double frame_side_px = 0;  // median frame side on the grid
  int cols = 0, rows = 0;    // of the regular layout (before empty tiles are dropped)
  std::vector<GridTile> tiles;
};

// Deterministic. size_factor > 0, overlap_pct in [0, 90].
GridLayout plan_grid_tiles(const std::vector<FrameRecord>& frames, const OutputGrid& grid, double size_factor,
                           double overlap_pct);

// The grid of one tile: the global grid's TAN WCS with CRPIX shifted by the rectangle's origin, sized to it.
OutputGrid tile_grid(const OutputGrid& grid, const PixelRect& rect);

}  // namespace zm
