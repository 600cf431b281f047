// Where a master tile lies on its reference frame's pixel grid: the union of its members' footprints (rotated and
// drifting frames included), so that no pixel a member saw is cut away; and how much a member shares the
// reference's footprint, which decides whether it belongs to that reference's group at all.
#pragma once

#include <vector>

#include "pipeline/model/frame_record.hpp"

namespace zm {

// Phase 2 keeps a frame in a group only when at least this fraction of its footprint lies on the group's reference
// frame ("one pointing"), and a group only while its tile (the union) stays within kMaxTileAreaRatio reference
// frames; beyond either, the group is split (classic/group_split.hpp).
inline constexpr double kMinSharedFootprint = 0.5;
inline constexpr double kMaxTileAreaRatio = 2.0;

struct TileGeometry {
  int x0 = 0;       // origin of the tile in reference pixels (<= 0: members reach beyond the reference)
  int y0 = 0;
  int width = 0;    // tile size in pixels (>= the reference's)
  int height = 0;
  double area_ratio(const FrameRecord& ref) const {
    return static_cast<double>(width) * height / (static_cast<double>(ref.width) * ref.height);
  }
};

// A member's outline in the reference frame's pixels (frame pixel edges -> world -> reference pixels), sampled
// along its edges: 4 x kOutlineSteps points, counter-clockwise in the frame's own pixels.
inline constexpr int kOutlineSteps = 8;
std::vector<std::array<double, 2>> outline_on(const FrameRecord& member, Wcs& member_wcs, Wcs& ref_wcs);

// The union of the members' outlines on the reference grid, rounded out to whole pixels; the reference's own
// pixels are always inside. Members whose outline cannot be projected (opposite hemisphere) are ignored.
TileGeometry tile_geometry(const FrameRecord& ref, const std::vector<const FrameRecord*>& members);

// Fraction of `member`'s footprint that lies on `ref`'s pixels (1 for the reference itself, 0 when apart).
double shared_footprint(const FrameRecord& member, const FrameRecord& ref);

}  // namespace zm
