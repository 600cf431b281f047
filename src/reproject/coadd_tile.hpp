// One tile's share of the coadd (private to reproject): preparation (weight plane, bbox, map grid) and the
// accumulation of its contributions over one output rectangle. Both coadd methods call exactly this code, which
// is what makes them bit-identical.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "gpu/coadd_device.hpp"
#include "reproject/coadd.hpp"
#include "reproject/coadd_io.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "reproject/transform.hpp"

namespace zm::coadd_detail {

// A prepared tile: its scratch planes (weight, then coverage when present, float32 H x W each), where it lands on
// the output and the map grid chosen once over that box.
struct PreparedTile {
  int index = -1;
  int width = 0;
  int height = 0;
  int channels = 0;
  PixelRect bbox;  // output pixels it can touch; empty = skipped
  MapGrid grid;
  bool has_coverage = false;
  std::unique_ptr<coadd_io::ScratchFile> planes;
  bool used() const { return !bbox.empty() && planes != nullptr; }
};

struct CoaddContext {
  const std::vector<CoaddInput>* tiles = nullptr;
  const Wcs* out_wcs = nullptr;
  int out_width = 0;
  int out_height = 0;
  int channels = 0;
  const CoaddOptions* options = nullptr;
  std::filesystem::path scratch_dir;
};

// Reads the tile header and extensions, computes the feathered weight plane and writes it (and the coverage
// plane) to a scratch file; finds the output bbox and the map grid. Skipped tiles come back with an empty bbox.
PreparedTile prepare_tile(const CoaddContext& ctx, int index);

// Accumulators for a region of the output: planes sum_0..sum_{C-1}, weight, coverage, each `plane` doubles apart;
// output pixel (x, y) is element (y - y0) * row_stride + (x - x0) of a plane.
struct AccumView {
  double* base = nullptr;
  std::size_t plane = 0;
  std::size_t row_stride = 0;
  int x0 = 0;
  int y0 = 0;
};

// What one tile needs to contribute to one output rectangle: the pixel map and the tile rows it reads (data with
// no-data as NaN, weight, coverage when the tile has one). Empty when the tile's data does not reach the rectangle.
struct RectInputs {
  PixelMap map;
  RowRange need;
  std::vector<float> data;
  std::vector<float> weight;
  std::vector<float> coverage;
  bool empty() const { return need.empty(); }
};
RectInputs load_rect_inputs(const CoaddContext& ctx, const PreparedTile& tile, const PixelRect& rect);
// Every row of the tile (map left empty): what the GPU holds in device memory.
RectInputs load_whole_tile(const CoaddContext& ctx, const PreparedTile& tile);

// Adds tile `tile`'s contributions over output rectangle `rect` (inside the tile's bbox) to `acc`. Rows run in
// parallel; each pixel is touched by one thread, so the sums do not depend on the thread count.
void accumulate_rect(const CoaddContext& ctx, const PreparedTile& tile, const PixelRect& rect, const AccumView& acc);
// The tile's kernel, gain, offset and weight as the GPU takes them.
gpu::Contribution contribution(const CoaddContext& ctx, const PreparedTile& tile);

// Intersection of two rectangles (empty when they do not meet).
PixelRect intersect(const PixelRect& a, const PixelRect& b);

}  // namespace zm::coadd_detail
