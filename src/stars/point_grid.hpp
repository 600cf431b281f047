// Uniform bucket grid over a fixed point set for nearest-neighbour look-ups within a bounded radius.
#pragma once

#include <span>
#include <vector>

#include "stars/transform.hpp"

namespace zm {

class PointGrid {
 public:
  // `max_radius` is the largest radius later queries may use. Non-finite points are left out.
  PointGrid(std::span<const Point2> points, double max_radius);

  // Index of the nearest point within `radius` (<= max_radius) of q, or -1; equal distances go to the lower index.
  int nearest(Point2 q, double radius) const;
  // Same, with the squared distance to it.
  int nearest(Point2 q, double radius, double& dist2) const;

 private:
  std::vector<Point2> pts_;
  std::vector<int> cell_start_, ids_;
  double x0_ = 0.0, y0_ = 0.0, cell_ = 1.0;
  int nx_ = 0, ny_ = 0;
};

}  // namespace zm
