// Star triangles and their similarity-invariant shape descriptors (side ratios), for asterism matching.
#pragma once

#include <span>
#include <vector>

#include "stars/transform.hpp"

namespace zm {

// Vertices are ordered by the side they face: v[0] faces the shortest side, v[1] the middle one, v[2] the
// longest. That order and the ratios survive any rotation, uniform scale, translation and mirror image; the
// orientation of v[0] -> v[1] -> v[2] flips under a mirror image.
struct Triangle {
  int v[3] = {0, 0, 0};  // indices into the point list the triangle was built from
  double mid_ratio = 0.0;    // middle side / longest side, in [0.5, 1]
  double short_ratio = 0.0;  // shortest side / longest side, in (0, 1]
  bool counter_clockwise = false;
};

// Triangles formed by each point with every pair of its `neighbours` nearest points (each triangle once,
// in a deterministic order). Triangles whose shortest side is below `min_side` px are left out: their ratios
// are dominated by centroid noise.
std::vector<Triangle> build_triangles(std::span<const Point2> pts, int neighbours, double min_side);

}  // namespace zm
