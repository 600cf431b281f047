#include "stars/triangles.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace zm {

namespace {

std::vector<int> nearest_neighbours(std::span<const Point2> pts, int i, int k) {
  std::vector<std::pair<double, int>> d;
  d.reserve(pts.size());
  for (int j = 0; j < static_cast<int>(pts.size()); ++j) {
    if (j == i) continue;
    d.emplace_back(std::hypot(pts[j].x - pts[i].x, pts[j].y - pts[i].y), j);
  }
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n), d.end());
  std::vector<int> out(n);
  for (std::size_t m = 0; m < n; ++m) out[m] = d[m].second;
  return out;
}

bool make_triangle(std::span<const Point2> pts, int i, int j, int k, double min_side, Triangle& t) {
  const std::array<int, 3> id = {i, j, k};
  // side[m] faces vertex id[m]
  std::array<double, 3> side;
  for (int m = 0; m < 3; ++m) {
    const Point2& p = pts[id[(m + 1) % 3]];
    const Point2& q = pts[id[(m + 2) % 3]];
    side[m] = std::hypot(p.x - q.x, p.y - q.y);
  }
  std::array<int, 3> order = {0, 1, 2};
  std::sort(order.begin(), order.end(), [&](int a, int b) { return side[a] < side[b] || (side[a] == side[b] && a < b); });
  if (!(side[order[0]] >= min_side) || !(side[order[2]] > 0.0)) return false;
  for (int m = 0; m < 3; ++m) t.v[m] = id[order[m]];
  t.short_ratio = side[order[0]] / side[order[2]];
  t.mid_ratio = side[order[1]] / side[order[2]];
  const Point2 &a = pts[t.v[0]], &b = pts[t.v[1]], &c = pts[t.v[2]];
  t.counter_clockwise = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) > 0.0;
  return true;
}

}  // namespace

std::vector<Triangle> build_triangles(std::span<const Point2> pts, int neighbours, double min_side) {
  const int n = static_cast<int>(pts.size());
  std::vector<std::array<int, 3>> triples;
  for (int i = 0; i < n; ++i) {
    const std::vector<int> nb = nearest_neighbours(pts, i, neighbours);
    for (std::size_t a = 0; a < nb.size(); ++a) {
      for (std::size_t b = a + 1; b < nb.size(); ++b) {
        std::array<int, 3> t = {i, nb[a], nb[b]};
        std::sort(t.begin(), t.end());
        triples.push_back(t);
      }
    }
  }
  std::sort(triples.begin(), triples.end());
  triples.erase(std::unique(triples.begin(), triples.end()), triples.end());
  std::vector<Triangle> out;
  out.reserve(triples.size());
  for (const auto& t : triples) {
    Triangle tri;
    if (make_triangle(pts, t[0], t[1], t[2], min_side, tri)) out.push_back(tri);
  }
  return out;
}

}  // namespace zm
