// Grouping frames for relative solving: frames pointed at the same hint within a session share one absolute solve.
#pragma once

#include <optional>
#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

struct SolveGroupItem {
  std::optional<SkyCoord> position;  // the frame's WCS centre when known, else its RA/DEC hint
  double time_s = 0.0;               // 0 = unknown
};

// Groups item indices. An item joins the first group (in creation order) holding a member whose position is
// within `radius_deg` (both unknown also counts) and whose time is within `max_gap_s` (unknown times always are).
// Groups and their members keep input order, so the result does not depend on anything but the inputs.
std::vector<std::vector<int>> group_for_solving(const std::vector<SolveGroupItem>& items, double radius_deg,
                                                double max_gap_s);

}  // namespace zm
