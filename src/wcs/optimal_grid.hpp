// Phase 4 output grid: the smallest TAN canvas (optionally north-up) that holds every master tile's footprint.
//
// Algorithm (a sturdier find_optimal_celestial_wcs):
// - Each footprint's outer edge (x = -0.5 .. W - 0.5, y = -0.5 .. H - 0.5) is sampled, corners included, so
//   distorted (SIP) edges are followed too.
// - Tangent point = normalised mean of the unit vectors of those points (each footprint weighted equally):
//   no RA wrap problem at 0/360 and no cos(Dec) singularity at the pole.
// - The points are projected gnomonically about the tangent point. A TAN grid at that tangent point is a
//   linear map of that plane, so the bounding box in pixels is the box of the projected points rotated into
//   the grid's axes. The minimum-area box has one side on an edge of the convex hull (rotating calipers), so
//   every hull edge direction is tried and the smallest area wins (first one on exact ties: deterministic).
//   Of the four equivalent 90-degree rotations, the one in (-45, 45] (closest to north-up) is kept.
// - Output parity is always the standard sky view (east left, det CD < 0), whatever the inputs' parity.
// - Size = box + pad on every side (the ceil slack split evenly), CRPIX so every point lands inside.
#pragma once

#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

struct ImageFootprint {
  Wcs wcs;
  int width = 0;
  int height = 0;
};

struct OptimalGridOptions {
  double pixel_scale_arcsec = 0.0;  // 0 = median of the inputs' scales
  bool north_up = false;            // false: rotation chosen to minimise the canvas area
  int pad_px = 2;                   // margin around the union of footprints
};

struct OutputGrid {
  Wcs wcs;  // TAN, sized width x height
  int width = 0;
  int height = 0;
  double pixel_scale_arcsec = 0.0;
  double rotation_deg = 0.0;  // position angle of the grid's +Y axis, degrees East of North
  SkyCoord centre;            // tangent point (CRVAL)
};

// Throws std::invalid_argument when inputs is empty, a footprint has no size, or the footprints do not fit on
// one hemisphere around their centre (no gnomonic grid can hold them).
OutputGrid find_optimal_grid(const std::vector<ImageFootprint>& inputs, const OptimalGridOptions& options = {});

}  // namespace zm
