// Footprint overlap of master tiles on the sky, and the groups of heavily overlapping tiles Phase 4.5 merges.
#pragma once

#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

struct PlanePoint {
  double x = 0.0;
  double y = 0.0;
};

// Shoelace area (absolute) of a simple polygon.
double polygon_area(const std::vector<PlanePoint>& polygon);

// Intersection of two convex polygons (Sutherland-Hodgman; either orientation, degenerate inputs give empty).
std::vector<PlanePoint> clip_convex(const std::vector<PlanePoint>& subject, const std::vector<PlanePoint>& clip);

// area(a & b) / min(area a, area b) of two convex quadrilaterals (0 when either has no area).
double quad_overlap_fraction(const std::vector<PlanePoint>& a, const std::vector<PlanePoint>& b);

// The same for two images' outer footprints (pixel corners -0.5 .. W - 0.5), projected gnomonically about the
// mean direction of their 8 corners. 0 when the footprints do not fit on one hemisphere around that point.
double footprint_overlap_fraction(const Wcs& a, const Wcs& b);

// Connected components of the graph "overlap >= threshold" over `footprints` (index order), keeping those with
// >= min_size members; a component larger than max_group is cut into ceil(n / max_group) near-equal chunks of
// consecutive breadth-first order from its lowest index (neighbours stay together). Chunks below min_size are
// dropped. Each group is sorted ascending; groups are ordered by their first index. Deterministic.
std::vector<std::vector<int>> overlap_groups(const std::vector<Wcs>& footprints, double threshold, int min_size,
                                             int max_group);

}  // namespace zm
