#include "solve/grouping.hpp"

#include <cmath>

#include "wcs/geometry.hpp"

namespace zm {

std::vector<std::vector<int>> group_for_solving(const std::vector<SolveGroupItem>& items, double radius_deg,
                                                double max_gap_s) {
  std::vector<std::vector<int>> groups;
  auto close = [&](const SolveGroupItem& a, const SolveGroupItem& b) {
    if (a.position.has_value() != b.position.has_value()) return false;
    if (a.position && angular_distance_deg(*a.position, *b.position) > radius_deg) return false;
    if (a.time_s != 0.0 && b.time_s != 0.0 && std::fabs(a.time_s - b.time_s) > max_gap_s) return false;
    return true;
  };
  for (int i = 0; i < static_cast<int>(items.size()); ++i) {
    bool placed = false;
    for (auto& g : groups) {
      for (int j : g)
        if (close(items[i], items[j])) {
          placed = true;
          break;
        }
      if (placed) {
        g.push_back(i);
        break;
      }
    }
    if (!placed) groups.push_back({i});
  }
  return groups;
}

}  // namespace zm
