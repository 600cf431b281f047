// prune_edges / connected_components (union-find).
#include "photometry/overlap_graph.hpp"

#include <algorithm>
#include <numeric>

namespace zm {
namespace {

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
  bool unite(int a, int b) {
    a = find(a), b = find(b);
    if (a == b) return false;
    if (b < a) std::swap(a, b);
    parent[b] = a;  // the smaller index is the root: labels are component minima
    return true;
  }
};

// Edge indices by strength descending, ties by index (deterministic).
std::vector<int> by_strength(const std::vector<OverlapEdge>& edges, std::vector<int> idx) {
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return edges[a].strength > edges[b].strength; });
  return idx;
}

}  // namespace

std::vector<int> prune_edges(const std::vector<OverlapEdge>& edges, int n_nodes, int k) {
  std::vector<int> all(edges.size());
  std::iota(all.begin(), all.end(), 0);
  if (k <= 0) return all;
  std::vector<char> keep(edges.size(), 0);
  std::vector<std::vector<int>> incident(n_nodes);
  for (int e : all) incident[edges[e].i].push_back(e), incident[edges[e].j].push_back(e);
  for (auto& inc : incident) {
    const std::vector<int> sorted = by_strength(edges, inc);
    for (std::size_t r = 0; r < sorted.size() && static_cast<int>(r) < k; ++r) keep[sorted[r]] = 1;
  }
  UnionFind uf(n_nodes);
  for (int e : by_strength(edges, all))
    if (uf.unite(edges[e].i, edges[e].j)) keep[e] = 1;
  std::vector<int> out;
  for (int e : all)
    if (keep[e]) out.push_back(e);
  return out;
}

std::vector<int> connected_components(const std::vector<OverlapEdge>& edges, const std::vector<int>& used,
                                      int n_nodes) {
  UnionFind uf(n_nodes);
  for (int e : used) uf.unite(edges[e].i, edges[e].j);
  std::vector<int> label(n_nodes);
  for (int v = 0; v < n_nodes; ++v) label[v] = uf.find(v);
  return label;
}

}  // namespace zm
