#include "pipeline/routes/grid/grid_layout.hpp"

#include <algorithm>
#include <cmath>

#include "reproject/transform.hpp"
#include "reproject/warp.hpp"

namespace zm {

namespace {

constexpr int kMinTileSide = 64;

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Evenly spread starts of `side`-long intervals covering [0, extent) with steps of at most `step`.
std::vector<int> axis_starts(int extent, int side, int step) {
  if (side >= extent) return {0};
  const int n = (extent - side + step - 1) / step + 1;
  std::vector<int> s(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] =
        static_cast<int>(std::llround(static_cast<double>(i) * (extent - side) / std::max(1, n - 1)));
  return s;
}

PixelRect intersect(const PixelRect& a, const PixelRect& b) {
  const int x0 = std::max(a.x0, b.x0), y0 = std::max(a.y0, b.y0);
  const int x1 = std::min(a.x0 + a.cols, b.x0 + b.cols), y1 = std::min(a.y0 + a.rows, b.y0 + b.rows);
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

GridLayout plan_grid_tiles(const std::vector<FrameRecord>& frames, const OutputGrid& grid, double size_factor,
                           double overlap_pct) {
  GridLayout L;
  std::vector<double> sides;
  std::vector<PixelRect> boxes;
  for (const auto& f : frames) {
    const double ratio = f.scale_arcsec > 0 && grid.pixel_scale_arcsec > 0 ? f.scale_arcsec / grid.pixel_scale_arcsec
                                                                           : 1.0;
    sides.push_back(std::sqrt(static_cast<double>(f.width) * f.height) * ratio);
    boxes.push_back(output_bbox(f.make_wcs(), grid.wcs, 2));
  }
  L.frame_side_px = median_of(sides);
  L.tile_side = std::max(kMinTileSide, static_cast<int>(std::lround(size_factor * L.frame_side_px)));
  L.step = std::max(1, static_cast<int>(std::lround(L.tile_side * (1.0 - std::clamp(overlap_pct, 0.0, 90.0) / 100.0))));
  const std::vector<int> xs = axis_starts(grid.width, L.tile_side, L.step);
  const std::vector<int> ys = axis_starts(grid.height, L.tile_side, L.step);
  L.cols = static_cast<int>(xs.size());
  L.rows = static_cast<int>(ys.size());
  for (int y : ys)
    for (int x : xs) {
      const PixelRect cell{x, y, std::min(L.tile_side, grid.width - x), std::min(L.tile_side, grid.height - y)};
      GridTile t;
      int ux0 = cell.x0 + cell.cols, uy0 = cell.y0 + cell.rows, ux1 = cell.x0, uy1 = cell.y0;
      for (std::size_t k = 0; k < boxes.size(); ++k) {
        const PixelRect part = intersect(boxes[k], cell);
        if (part.empty()) continue;
        t.members.push_back(static_cast<int>(k));
        ux0 = std::min(ux0, part.x0);
        uy0 = std::min(uy0, part.y0);
        ux1 = std::max(ux1, part.x0 + part.cols);
        uy1 = std::max(uy1, part.y0 + part.rows);
      }
      if (t.members.empty()) continue;
      t.rect = {ux0, uy0, ux1 - ux0, uy1 - uy0};
      t.id = static_cast<int>(L.tiles.size());
      L.tiles.push_back(std::move(t));
    }
  return L;
}

OutputGrid tile_grid(const OutputGrid& grid, const PixelRect& rect) {
  OutputGrid g = grid;
  const PixelCoord c = grid.wcs.crpix();
  g.wcs = Wcs::make_tan(grid.wcs.crval(), PixelCoord{c.x - rect.x0, c.y - rect.y0}, grid.wcs.cd(), rect.cols, rect.rows);
  g.width = rect.cols;
  g.height = rect.rows;
  return g;
}

}  // namespace zm
