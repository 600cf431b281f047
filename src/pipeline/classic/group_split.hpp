// Phase 2's last step: every group becomes one pointing. Clustering links frames by their centres (and auto-relax
// widens the radius when nearly every frame is alone, as in a mosaic of single frames), which can chain many
// pointings into one group; a master tile made on one reference frame would then lose the sky of the others.
//
// A group is kept when every member shares at least kMinSharedFootprint of its footprint with the group's
// reference (the member closest to the group's mean direction, as Phase 3 chooses it) and the union of the
// members' footprints on the reference grid (the tile) covers at most kMaxTileAreaRatio reference frames
// (classic/tile_geometry.hpp). Otherwise it is split spatially: the most central remaining member becomes a
// reference, takes every remaining member that shares enough of its footprint, nearest first while the tile stays
// within the bound, and the rest start over. Time order inside a pointing is left to max_raw_per_master_tile.
#pragma once

#include <string>
#include <vector>

#include "pipeline/model/frame_record.hpp"

namespace zm {

// `groups`: indices into `frames`, each ascending. Returns the groups (members ascending, ordered by their smallest
// member); every index appears exactly once. Appends one note per split group. Deterministic.
std::vector<std::vector<int>> split_into_pointings(const std::vector<std::vector<int>>& groups,
                                                   const std::vector<FrameRecord>& frames,
                                                   std::vector<std::string>& notes);

}  // namespace zm
