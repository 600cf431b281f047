// Phase 2: grouping frames into master-tile groups (connected components of nearby frame centres).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

// What clustering needs to know about one frame.
struct FrameSummary {
  SkyCoord centre;
  double position_angle_deg = 0.0;  // of the image +Y axis, E of N
  double time_s = 0.0;              // observation time (any epoch; only the order matters)
};

struct ClusterParams {
  double threshold_deg = 0.05;         // cluster_panel_threshold
  double orientation_split_deg = 0.0;  // cluster_orientation_split_deg (0 = off)
  int target_groups = 0;               // cluster_target_groups (0 = off)
  int max_per_group = 0;               // max_raw_per_master_tile (0 = unlimited)
  double field_of_view_deg = 0.0;      // frame diagonal; decides spatial vs chronological splits (0 = unknown)
};

struct ClusterResult {
  // Indices into the input; every index appears exactly once. Groups ordered by their smallest member,
  // members ascending, so the result depends only on the inputs.
  std::vector<std::vector<int>> groups;
  double threshold_used_deg = 0.0;
  std::vector<std::string> notes;  // what was relaxed, bisected or split, for the event stream
};

ClusterResult cluster_frames(std::span<const FrameSummary> frames, const ClusterParams& params);

// Connected components of frames closer than `threshold_deg` (and, when orientation_split_deg > 0, whose position
// angles differ by no more than it). Grid-hashed: linear in the number of frames.
std::vector<std::vector<int>> connected_groups(std::span<const FrameSummary> frames, double threshold_deg,
                                               double orientation_split_deg);

}  // namespace zm
