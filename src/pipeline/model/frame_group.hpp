// One master-tile group of Phase 2: the frames (indices into the Phase 1 record list) stacked into one tile.
#pragma once

#include <vector>

namespace zm {

struct FrameGroup {
  int id = 0;
  std::vector<int> members;  // ascending
};

}  // namespace zm
