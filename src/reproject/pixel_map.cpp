#include "reproject/pixel_map.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace zm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Below this many points a job runs serially on the caller's transform (cloning a Wcs costs more).
constexpr long long kParallelMinPoints = 8192;
// A region needing more nodes than this is evaluated exactly rather than holding a huge node grid.
constexpr long long kMaxNodes = 4'000'000;

using resample::floor_div;

// Runs body(transform, r0, r1) over row ranges of [0, nrows); in parallel on per-thread clones when the job
// is big enough. Each row's result depends only on the row, so the split never shows in the output.
template <class Body>
void for_row_ranges(PixelTransform& proto, int nrows, long long points, Body&& body) {
  if (nrows <= 0) return;
  if (nrows < 2 || points < kParallelMinPoints) {
    body(proto, 0, nrows);
    return;
  }
  std::mutex clone_mutex;
  tbb::enumerable_thread_specific<std::unique_ptr<PixelTransform>> local([&] {
    std::lock_guard<std::mutex> lock(clone_mutex);
    return proto.clone();
  });
  tbb::parallel_for(tbb::blocked_range<int>(0, nrows), [&](const tbb::blocked_range<int>& range) {
    body(*local.local(), range.begin(), range.end());
  });
}

// Exact transforms of the nodes (i*step, j*step) for i in [kx0, kx0+nx), j in [ky0, ky0+ny).
using NodeGrid = MapNodes;

long long node_count(const PixelRect& r, int step) {
  const long long nx = floor_div(r.x0 + r.cols - 1, step) - floor_div(r.x0, step) + 4;
  const long long ny = floor_div(r.y0 + r.rows - 1, step) - floor_div(r.y0, step) + 4;
  return nx * ny;
}

// Nodes covering every pixel of `r` with one ring to spare (bicubic reads k-1 .. k+2).
NodeGrid build_nodes(PixelTransform& t, const PixelRect& r, int step, MapInterp interp) {
  NodeGrid g;
  g.step = step;
  g.interp = interp;
  g.kx0 = floor_div(r.x0, step) - 1;
  g.ky0 = floor_div(r.y0, step) - 1;
  g.nx = static_cast<int>(floor_div(r.x0 + r.cols - 1, step) + 2 - g.kx0 + 1);
  g.ny = static_cast<int>(floor_div(r.y0 + r.rows - 1, step) + 2 - g.ky0 + 1);
  const std::size_t total = static_cast<std::size_t>(g.nx) * g.ny;
  g.x.assign(total, kNaN);
  g.y.assign(total, kNaN);
  for_row_ranges(t, g.ny, static_cast<long long>(total), [&](PixelTransform& tr, int j0, int j1) {
    std::vector<double> px(g.nx);
    std::vector<double> py(g.nx);
    for (int j = j0; j < j1; ++j) {
      const double yv = static_cast<double>((g.ky0 + j) * step);
      for (int i = 0; i < g.nx; ++i) {
        px[i] = static_cast<double>((g.kx0 + i) * step);
        py[i] = yv;
      }
      const std::size_t off = static_cast<std::size_t>(j) * g.nx;
      tr.map(px.data(), py.data(), g.nx, g.x.data() + off, g.y.data() + off);
    }
  });
  return g;
}

// Node-axis position of pixel coordinate v: index of the first tap in the grid and the tap weights.
inline int axis_weights(const NodeGrid& g, long long v, long long k0, double* w) {
  return resample::node_axis(v, g.step, g.interp == MapInterp::Bicubic, k0, w);
}

// Column sums of one node row band (resample::node_column_sum): the row path shares them between pixels, the
// point path (interp_point, the GPU) computes them per pixel, with the same bits.
inline double column_sum(const std::vector<double>& nodes, const NodeGrid& g, int j0, const double* wy, int i) {
  return resample::node_column_sum(nodes.data(), g.nx, j0, wy, g.taps(), i);
}

// Interpolated coordinates of one pixel (used by the error check).
void interp_point(const NodeGrid& g, long long px, long long py, double& xo, double& yo) {
  resample::interp_nodes(g.view(), px, py, xo, yo);
}

// Per-column node index and weights of a band, shared by all its rows (the x weights repeat on every row).
struct ColumnWeights {
  std::vector<int> i0;
  std::vector<std::array<double, 4>> w;
  ColumnWeights(const NodeGrid& g, const PixelRect& band) : i0(band.cols), w(band.cols) {
    for (int c = 0; c < band.cols; ++c) {
      i0[c] = axis_weights(g, static_cast<long long>(band.x0) + c, g.kx0, w[c].data());
    }
  }
};

// Interpolates one output row. Returns false when some pixel came out non-finite (a NaN node in its support).
bool interp_row(const NodeGrid& g, const ColumnWeights& cw, const PixelRect& band, int r, double* xo, double* yo,
                std::vector<double>& cx, std::vector<double>& cy) {
  const long long y = static_cast<long long>(band.y0) + r;
  double wy[4];
  const int j0 = axis_weights(g, y, g.ky0, wy);
  cx.resize(g.nx);
  cy.resize(g.nx);
  // Only the node columns this band's pixels read.
  const int lo = static_cast<int>(floor_div(band.x0, g.step) - g.lead() - g.kx0);
  const int hi = static_cast<int>(floor_div(band.x0 + band.cols - 1, g.step) - g.lead() - g.kx0) + g.taps();
  for (int i = lo; i < hi; ++i) {
    cx[i] = column_sum(g.x, g, j0, wy, i);
    cy[i] = column_sum(g.y, g, j0, wy, i);
  }
  bool finite = true;
  for (int c = 0; c < band.cols; ++c) {
    xo[c] = resample::node_row_sum(cx.data() + cw.i0[c], cw.w[c].data(), g.taps());
    yo[c] = resample::node_row_sum(cy.data() + cw.i0[c], cw.w[c].data(), g.taps());
    finite = finite && std::isfinite(xo[c]) && std::isfinite(yo[c]);
  }
  return finite;
}

// Replaces the non-finite entries of one row by exact evaluations (they may stay NaN).
void exact_fallback(PixelTransform& t, const PixelRect& band, int r, double* xo, double* yo) {
  std::vector<int> idx;
  for (int c = 0; c < band.cols; ++c)
    if (!std::isfinite(xo[c]) || !std::isfinite(yo[c])) idx.push_back(c);
  const int n = static_cast<int>(idx.size());
  std::vector<double> px(n), py(n, static_cast<double>(band.y0 + r)), ex(n), ey(n);
  for (int k = 0; k < n; ++k) px[k] = static_cast<double>(band.x0 + idx[k]);
  t.map(px.data(), py.data(), n, ex.data(), ey.data());
  for (int k = 0; k < n; ++k) {
    xo[idx[k]] = ex[k];
    yo[idx[k]] = ey[k];
  }
}

std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Selected cell indices along one axis: all of them, or every stride-th plus the last.
std::vector<long long> pick_cells(long long k_first, long long k_last, long long stride) {
  std::vector<long long> out;
  for (long long k = k_first; k <= k_last; k += stride) out.push_back(k);
  if (out.back() != k_last) out.push_back(k_last);
  return out;
}

struct CheckResult {
  double max_error = 0.0;
  long long points = 0;
};

// Largest interpolation error over the check points of every (selected) cell of `r`.
CheckResult check_grid(const NodeGrid& g, PixelTransform& t, const PixelRect& r, long long max_cells) {
  const long long s = g.step;
  const long long kx_first = floor_div(r.x0, s);
  const long long kx_last = floor_div(r.x0 + r.cols - 1, s);
  const long long ky_first = floor_div(r.y0, s);
  const long long ky_last = floor_div(r.y0 + r.rows - 1, s);
  const long long cells = (kx_last - kx_first + 1) * (ky_last - ky_first + 1);
  long long stride = 1;
  if (max_cells > 0 && cells > max_cells) {
    stride = static_cast<long long>(std::ceil(std::sqrt(static_cast<double>(cells) / max_cells)));
  }
  const std::vector<long long> kxs = pick_cells(kx_first, kx_last, stride);
  const std::vector<long long> kys = pick_cells(ky_first, ky_last, stride);
  const int nrows = static_cast<int>(kys.size());
  std::vector<double> row_max(nrows, 0.0);
  std::vector<long long> row_points(nrows, 0);
  const long long xmax = r.x0 + r.cols - 1;
  const long long ymax = r.y0 + r.rows - 1;
  const long long work = static_cast<long long>(kxs.size()) * nrows * 4;
  for_row_ranges(t, nrows, work, [&](PixelTransform& tr, int a, int b) {
    std::vector<double> px, py, ex, ey;
    for (int jr = a; jr < b; ++jr) {
      const long long ky = kys[jr];
      px.clear();
      py.clear();
      for (long long kx : kxs) {
        const std::uint64_t h = mix64(static_cast<std::uint64_t>(kx) * 0x100000001b3ULL ^
                                      mix64(static_cast<std::uint64_t>(ky) ^ (static_cast<std::uint64_t>(s) << 40)));
        const long long bx = kx * s;
        const long long by = ky * s;
        const long long offs[4][2] = {{s / 2, s / 2},
                                      {s / 2, 0},
                                      {0, s / 2},
                                      {static_cast<long long>(h % s), static_cast<long long>((h >> 32) % s)}};
        for (const auto& o : offs) {
          px.push_back(static_cast<double>(std::clamp<long long>(bx + o[0], r.x0, xmax)));
          py.push_back(static_cast<double>(std::clamp<long long>(by + o[1], r.y0, ymax)));
        }
      }
      const int n = static_cast<int>(px.size());
      ex.resize(n);
      ey.resize(n);
      tr.map(px.data(), py.data(), n, ex.data(), ey.data());
      double m = 0.0;
      for (int k = 0; k < n; ++k) {
        double ix = 0.0;
        double iy = 0.0;
        interp_point(g, static_cast<long long>(px[k]), static_cast<long long>(py[k]), ix, iy);
        if (!std::isfinite(ix) || !std::isfinite(iy)) continue;  // evaluated exactly in the map anyway
        if (!std::isfinite(ex[k]) || !std::isfinite(ey[k])) {
          m = std::numeric_limits<double>::infinity();
          continue;
        }
        m = std::max(m, std::hypot(ix - ex[k], iy - ey[k]));
      }
      row_max[jr] = m;
      row_points[jr] = n;
    }
  });
  CheckResult res;
  for (int j = 0; j < nrows; ++j) {
    res.max_error = std::max(res.max_error, row_max[j]);
    res.points += row_points[j];
  }
  return res;
}

}  // namespace

MapGrid choose_map_grid(PixelTransform& out_to_in, const PixelRect& region, const PixelMapOptions& options) {
  MapGrid grid;
  grid.interp = options.interp;
  if (options.mode == MapMode::Exact || region.empty()) return grid;
  const int floor_step = std::max(2, options.min_step);
  for (int step = options.initial_step; step >= floor_step; step /= 2) {
    if (node_count(region, step) > kMaxNodes) break;
    const NodeGrid g = build_nodes(out_to_in, region, step, options.interp);
    const CheckResult c = check_grid(g, out_to_in, region, options.max_check_cells);
    grid.checked_points += c.points;
    grid.max_error_px = c.max_error;
    if (c.max_error <= options.tolerance_px) {
      grid.step = step;
      return grid;
    }
    ++grid.halvings;
  }
  grid.step = 0;
  grid.max_error_px = 0.0;
  return grid;
}

resample::NodeGridView MapNodes::view() const {
  return resample::NodeGridView{step, interp == MapInterp::Bicubic, kx0, ky0, nx, ny, x.data(), y.data()};
}

bool MapNodes::all_finite() const {
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) return false;
  return true;
}

MapNodes map_nodes(PixelTransform& out_to_in, const PixelRect& band, const MapGrid& grid) {
  if (grid.exact() || band.empty()) throw std::invalid_argument("map_nodes: needs an interpolation grid and a band");
  return build_nodes(out_to_in, band, grid.step, grid.interp);
}

PixelMap compute_pixel_map(PixelTransform& out_to_in, const PixelRect& band, const MapGrid& grid) {
  PixelMap map;
  map.band = band;
  map.grid = grid;
  if (band.empty()) return map;
  const std::size_t total = static_cast<std::size_t>(band.area());
  map.x.resize(total);
  map.y.resize(total);
  const std::size_t cols = static_cast<std::size_t>(band.cols);
  if (grid.exact()) {
    for_row_ranges(out_to_in, band.rows, band.area(), [&](PixelTransform& t, int r0, int r1) {
      std::vector<double> px(cols);
      std::vector<double> py(cols);
      for (std::size_t c = 0; c < cols; ++c) px[c] = static_cast<double>(band.x0 + static_cast<long long>(c));
      for (int r = r0; r < r1; ++r) {
        std::fill(py.begin(), py.end(), static_cast<double>(band.y0 + r));
        t.map(px.data(), py.data(), band.cols, map.x.data() + r * cols, map.y.data() + r * cols);
      }
    });
    return map;
  }
  const NodeGrid g = build_nodes(out_to_in, band, grid.step, grid.interp);
  const ColumnWeights cw(g, band);
  std::vector<std::uint8_t> row_ok(band.rows, 1);
  tbb::parallel_for(tbb::blocked_range<int>(0, band.rows), [&](const tbb::blocked_range<int>& range) {
    std::vector<double> cx, cy;
    for (int r = range.begin(); r < range.end(); ++r)
      row_ok[r] = interp_row(g, cw, band, r, map.x.data() + r * cols, map.y.data() + r * cols, cx, cy);
  });
  std::vector<int> redo;
  for (int r = 0; r < band.rows; ++r)
    if (!row_ok[r]) redo.push_back(r);
  for_row_ranges(out_to_in, static_cast<int>(redo.size()), static_cast<long long>(redo.size()) * band.cols,
                 [&](PixelTransform& t, int a, int b) {
                   for (int k = a; k < b; ++k)
                     exact_fallback(t, band, redo[k], map.x.data() + redo[k] * cols, map.y.data() + redo[k] * cols);
                 });
  return map;
}

MapGrid choose_map_grid(const Wcs& output, const Wcs& input, const PixelRect& region,
                        const PixelMapOptions& options) {
  WcsPixelTransform t(output, input);
  return choose_map_grid(t, region, options);
}

PixelMap compute_pixel_map(const Wcs& output, const Wcs& input, const PixelRect& band, const MapGrid& grid) {
  WcsPixelTransform t(output, input);
  return compute_pixel_map(t, band, grid);
}

PixelMap compute_pixel_map(const Wcs& output, const Wcs& input, const PixelRect& band,
                           const PixelMapOptions& options) {
  WcsPixelTransform t(output, input);
  const MapGrid grid = choose_map_grid(t, band, options);
  return compute_pixel_map(t, band, grid);
}

PixelMap affine_pixel_map(const Affine2x3& out_to_in, const PixelRect& band) {
  AffinePixelTransform t(out_to_in);
  return compute_pixel_map(t, band, MapGrid{});
}

}  // namespace zm
