// Output-pixel -> input-pixel coordinate maps for a band of an output grid: exact, affine, or interpolated from a
// coarse grid of exact evaluations whose step adapts until the interpolation error is below a tolerance.
//
// Algorithm (after SWarp's projapprox and the engineering anchors §1.10 item 10):
// - Nodes sit at output pixels (i*step, j*step), anchored at the grid origin, not at the band. A node's value is
//   the exact transform of its position, so a given output pixel gets the same interpolated coordinates in
//   every band: maps, and hence warped pixels, do not depend on how the output was banded.
// - Between nodes, Catmull-Rom (Keys a = -0.5) bicubic interpolation on the 4x4 surrounding nodes (or bilinear
//   on 2x2). Both reproduce an affine map exactly, so a TAN->TAN map with small distortion needs few nodes.
// - choose_map_grid() fixes the step for a whole region before any band is computed: starting at
//   initial_step, it compares interpolated against exact coordinates at every cell's centre, two edge midpoints
//   and one pseudo-random point (hashed from the cell index, so deterministic), and halves the step until the
//   largest error (Euclidean, input pixels) is at most tolerance_px. Below min_step it switches to exact mode.
//   Very large regions check a strided subset of cells (always including the outermost ones).
// - Where a node is NaN (the transform is undefined there, e.g. beyond a TAN horizon) the pixels that would
//   use it are evaluated exactly instead; a point whose exact value is NaN stays NaN.
#pragma once

#include <cstddef>
#include <vector>

#include "reproject/resample_core.hpp"
#include "reproject/transform.hpp"
#include "wcs/wcs.hpp"

namespace zm {

enum class MapMode { Adaptive, Exact };
enum class MapInterp { Bicubic, Bilinear };

struct PixelMapOptions {
  MapMode mode = MapMode::Adaptive;
  MapInterp interp = MapInterp::Bicubic;
  int initial_step = 64;
  int min_step = 4;
  double tolerance_px = 0.01;
  long long max_check_cells = 20000;  // above this, a strided subset of cells is checked
};

// The interpolation grid chosen for a region; step == 0 means exact evaluation of every pixel.
struct MapGrid {
  int step = 0;
  MapInterp interp = MapInterp::Bicubic;
  double max_error_px = 0.0;   // largest error measured at the check points for this step
  long long checked_points = 0;
  int halvings = 0;            // how many times the initial step was halved
  bool exact() const { return step <= 0; }
};

// Input pixel coordinates for every pixel of an output band, row-major (band.rows x band.cols), NaN where the
// transform is undefined. Points outside the input image are kept as they are (the kernels reject them).
struct PixelMap {
  PixelRect band;
  std::vector<double> x;
  std::vector<double> y;
  MapGrid grid;

  const double* x_row(int r) const { return x.data() + static_cast<std::size_t>(r) * band.cols; }
  const double* y_row(int r) const { return y.data() + static_cast<std::size_t>(r) * band.cols; }
};

// Bytes a PixelMap holds per output pixel (two doubles); the planner budgets bands with it.
inline constexpr std::size_t kPixelMapBytesPerPixel = 2 * sizeof(double);

// Chooses the grid for `region` of the output (usually the output bounding box of one input image).
// Mode Exact returns step 0 straight away.
MapGrid choose_map_grid(PixelTransform& out_to_in, const PixelRect& region, const PixelMapOptions& options = {});

// Computes the map of `band` with a fixed grid (from choose_map_grid over a region containing the band).
// Rows are evaluated in parallel on clones of `out_to_in`; the result does not depend on the thread count.
PixelMap compute_pixel_map(PixelTransform& out_to_in, const PixelRect& band, const MapGrid& grid);

// WCS conveniences: output pixel -> sky -> input pixel.
MapGrid choose_map_grid(const Wcs& output, const Wcs& input, const PixelRect& region,
                        const PixelMapOptions& options = {});
PixelMap compute_pixel_map(const Wcs& output, const Wcs& input, const PixelRect& band, const MapGrid& grid);
// One shot: chooses the grid on the band itself, then computes it (band-dependent; use the two-step form when
// the output is split into bands).
PixelMap compute_pixel_map(const Wcs& output, const Wcs& input, const PixelRect& band,
                           const PixelMapOptions& options = {});

// The exact nodes an interpolated map of `band` is computed from, for back ends that interpolate elsewhere (the
// GPU): node (i, j) is output pixel ((kx0 + i) * step, (ky0 + j) * step), row-major nx x ny. Interpolating them
// with resample::interp_nodes (compute_pixel_map's arithmetic) gives its values bit for bit wherever every node is
// finite.
struct MapNodes {
  int step = 0;
  MapInterp interp = MapInterp::Bicubic;
  long long kx0 = 0;
  long long ky0 = 0;
  int nx = 0;
  int ny = 0;
  std::vector<double> x;
  std::vector<double> y;
  bool all_finite() const;
  resample::NodeGridView view() const;  // borrows x and y
  int taps() const { return interp == MapInterp::Bicubic ? 4 : 2; }  // nodes per axis a pixel reads
  int lead() const { return interp == MapInterp::Bicubic ? 1 : 0; }  // of them, before the pixel's cell
};
// Requires a grid that is not exact (grid.step > 0).
MapNodes map_nodes(PixelTransform& out_to_in, const PixelRect& band, const MapGrid& grid);

// Exact affine map (cheap enough to need no grid): output pixel (x, y) -> out_to_in(x, y).
PixelMap affine_pixel_map(const Affine2x3& out_to_in, const PixelRect& band);

}  // namespace zm
