// The tile overlap graph of Phase 4.5: pruning to each tile's strongest neighbours without losing connectivity,
// and connected components.
#pragma once

#include <vector>

namespace zm {

struct OverlapEdge {
  int i = 0, j = 0;      // tile indices, i < j
  double strength = 0;   // larger = better constrained (overlap samples)
};

// Keeps every edge that is among the top `k` (by strength, ties by position in `edges`) of either endpoint, plus
// the edges of a maximum spanning forest (Kruskal), so the kept graph has exactly the components of the input.
// k <= 0 keeps everything. Returns indices into `edges`, ascending.
std::vector<int> prune_edges(const std::vector<OverlapEdge>& edges, int n_nodes, int k);

// Component label of every node (labels are the smallest node index of the component).
std::vector<int> connected_components(const std::vector<OverlapEdge>& edges, const std::vector<int>& used,
                                      int n_nodes);

}  // namespace zm
