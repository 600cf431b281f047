#include "stars/point_grid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace zm {

PointGrid::PointGrid(std::span<const Point2> points, double max_radius) : pts_(points.begin(), points.end()) {
  double x1 = -std::numeric_limits<double>::infinity(), y1 = x1;
  x0_ = std::numeric_limits<double>::infinity();
  y0_ = x0_;
  int n = 0;
  for (const Point2& p : pts_) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    x0_ = std::min(x0_, p.x);
    y0_ = std::min(y0_, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
    ++n;
  }
  if (n == 0) return;
  // About one point per cell, but never a cell smaller than the search radius (a query then reads 3x3 cells).
  const double area = std::max((x1 - x0_) * (y1 - y0_), 1.0);
  cell_ = std::max({max_radius, std::sqrt(area / n), 1e-6});
  nx_ = static_cast<int>((x1 - x0_) / cell_) + 1;
  ny_ = static_cast<int>((y1 - y0_) / cell_) + 1;
  cell_start_.assign(static_cast<std::size_t>(nx_) * ny_ + 1, 0);
  std::vector<int> cell_of(pts_.size(), -1);
  for (std::size_t i = 0; i < pts_.size(); ++i) {
    const Point2& p = pts_[i];
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    const int cx = std::min(nx_ - 1, static_cast<int>((p.x - x0_) / cell_));
    const int cy = std::min(ny_ - 1, static_cast<int>((p.y - y0_) / cell_));
    cell_of[i] = cy * nx_ + cx;
    ++cell_start_[cell_of[i] + 1];
  }
  for (std::size_t c = 1; c < cell_start_.size(); ++c) cell_start_[c] += cell_start_[c - 1];
  ids_.resize(n);
  std::vector<int> fill(cell_start_.begin(), cell_start_.end() - 1);
  for (std::size_t i = 0; i < pts_.size(); ++i)
    if (cell_of[i] >= 0) ids_[fill[cell_of[i]]++] = static_cast<int>(i);
}

int PointGrid::nearest(Point2 q, double radius) const {
  double d2;
  return nearest(q, radius, d2);
}

int PointGrid::nearest(Point2 q, double radius, double& dist2) const {
  dist2 = std::numeric_limits<double>::infinity();
  if (nx_ == 0 || !std::isfinite(q.x) || !std::isfinite(q.y)) return -1;
  const double fx = std::floor((q.x - x0_) / cell_), fy = std::floor((q.y - y0_) / cell_);
  if (fx < -1.0 || fy < -1.0 || fx > nx_ || fy > ny_) return -1;
  const int cx = static_cast<int>(fx), cy = static_cast<int>(fy);
  const double r2 = radius * radius;
  int best = -1;
  for (int y = std::max(0, cy - 1); y <= std::min(ny_ - 1, cy + 1); ++y) {
    for (int x = std::max(0, cx - 1); x <= std::min(nx_ - 1, cx + 1); ++x) {
      const int c = y * nx_ + x;
      for (int k = cell_start_[c]; k < cell_start_[c + 1]; ++k) {
        const int id = ids_[k];
        const double dx = pts_[id].x - q.x, dy = pts_[id].y - q.y;
        const double d2 = dx * dx + dy * dy;
        if (d2 > r2) continue;
        if (d2 < dist2 || (d2 == dist2 && id < best)) {
          dist2 = d2;
          best = id;
        }
      }
    }
  }
  return best;
}

}  // namespace zm
