#include "pipeline/output/sky_kept.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "pipeline/model/frame_cache.hpp"

namespace zm {

namespace {

constexpr int kEdgeSteps = 8;

using Polygon = std::vector<std::array<double, 2>>;

// The frame's pixel edges on the grid's plane (empty when some point cannot be projected).
// The frame's data box (its pixel grid less NaN borders) on the grid's plane (empty when some point cannot be
// projected).
Polygon outline_on_grid(const FrameRecord& f, Wcs& grid_wcs) {
  Wcs w = f.make_wcs();
  std::vector<double> xs, ys;
  const bool box = f.data_box[2] > f.data_box[0];
  const double bx = box ? f.data_box[0] : 0.0, by = box ? f.data_box[1] : 0.0;
  const double W = box ? f.data_box[2] - bx : f.width, H = box ? f.data_box[3] - by : f.height;
  for (int side = 0; side < 4; ++side)
    for (int k = 0; k < kEdgeSteps; ++k) {
      const double t = static_cast<double>(k) / kEdgeSteps;
      xs.push_back(bx + (side == 0 ? t * W : side == 1 ? W : side == 2 ? (1 - t) * W : 0.0) - 0.5);
      ys.push_back(by + (side == 0 ? 0.0 : side == 1 ? t * H : side == 2 ? H : (1 - t) * H) - 0.5);
    }
  std::vector<double> ra(xs.size()), dec(xs.size()), gx(xs.size()), gy(xs.size());
  w.pixel_to_world(xs, ys, ra, dec);
  grid_wcs.world_to_pixel(ra, dec, gx, gy);
  Polygon p;
  for (std::size_t i = 0; i < gx.size(); ++i) {
    if (!std::isfinite(gx[i]) || !std::isfinite(gy[i])) return {};
    p.push_back({gx[i], gy[i]});
  }
  return p;
}

struct Raster {
  double x0 = 0, y0 = 0;  // grid-pixel coordinates of the raster's corner
  int cell = 1, width = 0, height = 0;
  double cx(int i) const { return x0 + (i + 0.5) * cell; }
  double cy(int j) const { return y0 + (j + 0.5) * cell; }
};

Raster raster_of(const std::vector<Polygon>& outlines) {
  double xmin = std::numeric_limits<double>::max(), ymin = xmin, xmax = -xmin, ymax = -xmin;
  for (const auto& p : outlines)
    for (const auto& q : p) {
      xmin = std::min(xmin, q[0]);
      xmax = std::max(xmax, q[0]);
      ymin = std::min(ymin, q[1]);
      ymax = std::max(ymax, q[1]);
    }
  Raster r;
  if (xmax < xmin) return r;
  r.cell = std::max(1, static_cast<int>(std::ceil(std::max(xmax - xmin, ymax - ymin) / kSkyRasterSide)));
  r.x0 = xmin;
  r.y0 = ymin;
  r.width = static_cast<int>(std::ceil((xmax - xmin) / r.cell));
  r.height = static_cast<int>(std::ceil((ymax - ymin) / r.cell));
  return r;
}

// Per raster cell: whether the mosaic has data (all channels finite) at the grid pixel of the cell's centre.
std::vector<char> mosaic_has_data(const Raster& r, const MosaicArtifacts& m) {
  std::vector<char> kept(static_cast<std::size_t>(r.width) * r.height, 0);
  const CachedFrameReader reader(m.image, m.width, m.height, m.channels);
  std::vector<float> row(static_cast<std::size_t>(m.width) * m.channels);
  for (int j = 0; j < r.height; ++j) {
    const long long gy = std::llround(r.cy(j));
    if (gy < 0 || gy >= m.height) continue;
    reader.read_rows(static_cast<int>(gy), 1, row);
    for (int i = 0; i < r.width; ++i) {
      const long long gx = std::llround(r.cx(i));
      if (gx < 0 || gx >= m.width) continue;
      bool all = true;
      for (int c = 0; c < m.channels; ++c) all = all && std::isfinite(row[static_cast<std::size_t>(c) * m.width + gx]);
      kept[static_cast<std::size_t>(j) * r.width + i] = all ? 1 : 0;
    }
  }
  return kept;
}

// Row j of the raster inside polygon p: cells [first, last] per crossing pair of the row's centre line (even-odd).
template <class F>
void for_each_run(const Polygon& p, const Raster& r, int j, F&& run) {
  const double y = r.cy(j);
  std::vector<double> xs;
  for (std::size_t i = 0, k = p.size() - 1; i < p.size(); k = i++) {
    const double yi = p[i][1], yk = p[k][1];
    if ((yi > y) != (yk > y)) xs.push_back(p[i][0] + (p[k][0] - p[i][0]) * (y - yi) / (yk - yi));
  }
  std::sort(xs.begin(), xs.end());
  for (std::size_t q = 0; q + 1 < xs.size(); q += 2) {
    // Cells whose centre x0 + (i + 0.5) cell lies in [xs[q], xs[q + 1]).
    const int first = std::max(0, static_cast<int>(std::ceil((xs[q] - r.x0) / r.cell - 0.5)));
    const int last = std::min(r.width - 1, static_cast<int>(std::ceil((xs[q + 1] - r.x0) / r.cell - 0.5)) - 1);
    if (first <= last) run(first, last);
  }
}

}  // namespace

SkyKept measure_sky_kept(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                         const MosaicArtifacts& mosaic) {
  Wcs grid_wcs = grid.wcs;
  std::vector<Polygon> outlines;
  for (const auto& f : frames) outlines.push_back(outline_on_grid(f, grid_wcs));
  const Raster r = raster_of(outlines);
  SkyKept s;
  s.cell_px = r.cell;
  if (r.width == 0 || r.height == 0) return s;
  const std::vector<char> kept = mosaic_has_data(r, mosaic);
  // Per row: prefix sums of kept cells (a frame's kept cells per run in O(1)) and a difference array of the union.
  const std::size_t stride = static_cast<std::size_t>(r.width) + 1;
  std::vector<long long> prefix(stride * r.height, 0);
  for (int j = 0; j < r.height; ++j)
    for (int i = 0; i < r.width; ++i)
      prefix[j * stride + i + 1] = prefix[j * stride + i] + kept[static_cast<std::size_t>(j) * r.width + i];
  std::vector<int> cover(stride * r.height, 0);
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const Polygon& p = outlines[k];
    if (p.empty()) continue;
    double ymin = p[0][1], ymax = ymin;
    for (const auto& q : p) ymin = std::min(ymin, q[1]), ymax = std::max(ymax, q[1]);
    long long own = 0, own_kept = 0;
    const int j0 = std::max(0, static_cast<int>((ymin - r.y0) / r.cell) - 1);
    const int j1 = std::min(r.height - 1, static_cast<int>((ymax - r.y0) / r.cell) + 1);
    for (int j = j0; j <= j1; ++j)
      for_each_run(p, r, j, [&](int first, int last) {
        own += last - first + 1;
        own_kept += prefix[j * stride + last + 1] - prefix[j * stride + first];
        ++cover[j * stride + first];
        --cover[j * stride + last + 1];
      });
    const double frac = own > 0 ? static_cast<double>(own_kept) / own : 1.0;
    if (frac < kSkyKeptWarnBelow) s.short_frames.push_back({frames[k].path, frac});
  }
  for (int j = 0; j < r.height; ++j) {
    int depth = 0;
    for (int i = 0; i < r.width; ++i) {
      depth += cover[j * stride + i];
      if (depth <= 0) continue;
      ++s.union_cells;
      s.kept_cells += kept[static_cast<std::size_t>(j) * r.width + i];
    }
  }
  s.fraction = s.union_cells > 0 ? static_cast<double>(s.kept_cells) / s.union_cells : 1.0;
  std::stable_sort(s.short_frames.begin(), s.short_frames.end(),
                   [](const SkyKept::Frame& a, const SkyKept::Frame& b) { return a.kept < b.kept; });
  return s;
}

}  // namespace zm
