// Phase 2 clustering. Frames are linked when their centres are closer than a threshold; groups are the connected
// components (union-find). Neighbour search hashes unit vectors into a 3-D grid whose cell is the threshold chord,
// so each frame only looks at 27 cells: millions of frames cluster in linear time.
// On top of the components, as in ZeMosaic (reference §1.3) but never dropping or duplicating a frame:
//  * auto-relax when nearly every frame is alone (threshold raised to 1.2 x P90 nearest-neighbour distance);
//  * bisection of the threshold towards cluster_target_groups;
//  * groups above max_per_group are split spatially (k-means on the sphere) when they are spread over more than a
//    quarter of the field, then chronologically into near-equal chunks.
#include "pipeline/classic/clustering.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "wcs/geometry.hpp"

namespace zm {
namespace {

constexpr double kDeg = M_PI / 180.0;

using Vec3 = std::array<double, 3>;

Vec3 unit_vector(SkyCoord s) {
  const double ra = s.ra * kDeg, dec = s.dec * kDeg;
  return {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
}

double chord_of(double angle_deg) { return 2.0 * std::sin(0.5 * std::min(angle_deg, 180.0) * kDeg); }

double chord2(const Vec3& a, const Vec3& b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

double angle_diff_deg(double a, double b) {
  double d = std::fmod(std::fabs(a - b), 360.0);
  return d > 180.0 ? 360.0 - d : d;
}

struct CellKey {
  long long i, j, k;
  bool operator==(const CellKey&) const = default;
};
struct CellHash {
  std::size_t operator()(const CellKey& c) const {
    return static_cast<std::size_t>(c.i * 73856093LL ^ c.j * 19349663LL ^ c.k * 83492791LL);
  }
};

// Visits every pair (i, j), i < j, whose chord distance is below `chord`.
template <class F>
void for_each_close_pair(const std::vector<Vec3>& v, double chord, F&& visit) {
  const double cell = std::max(chord, 1e-9);
  std::unordered_map<CellKey, std::vector<int>, CellHash> grid;
  grid.reserve(v.size());
  auto key_of = [&](const Vec3& p) {
    return CellKey{static_cast<long long>(std::floor(p[0] / cell)), static_cast<long long>(std::floor(p[1] / cell)),
                   static_cast<long long>(std::floor(p[2] / cell))};
  };
  for (int i = 0; i < static_cast<int>(v.size()); ++i) grid[key_of(v[i])].push_back(i);
  const double c2 = chord * chord;
  for (int i = 0; i < static_cast<int>(v.size()); ++i) {
    const CellKey k = key_of(v[i]);
    for (long long di = -1; di <= 1; ++di)
      for (long long dj = -1; dj <= 1; ++dj)
        for (long long dk = -1; dk <= 1; ++dk) {
          auto it = grid.find({k.i + di, k.j + dj, k.k + dk});
          if (it == grid.end()) continue;
          for (int j : it->second)
            if (j > i && chord2(v[i], v[j]) < c2) visit(i, j);
        }
  }
}

std::vector<std::vector<int>> components(UnionFind& uf, int n) {
  std::vector<std::vector<int>> groups;
  std::vector<int> slot(n, -1);
  for (int i = 0; i < n; ++i) {  // ascending i: groups come out ordered by their smallest member
    const int r = uf.find(i);
    if (slot[r] < 0) {
      slot[r] = static_cast<int>(groups.size());
      groups.emplace_back();
    }
    groups[slot[r]].push_back(i);
  }
  return groups;
}

// 90th percentile of each frame's nearest-neighbour distance (degrees), by brute force on a sample when huge.
double p90_nearest_neighbour_deg(const std::vector<Vec3>& v) {
  const int n = static_cast<int>(v.size());
  if (n < 2) return 0.0;
  const int step = std::max(1, n / 2000);
  std::vector<double> nn;
  for (int i = 0; i < n; i += step) {
    double best = 4.0;
    for (int j = 0; j < n; ++j)
      if (j != i) best = std::min(best, chord2(v[i], v[j]));
    nn.push_back(2.0 * std::asin(std::min(1.0, 0.5 * std::sqrt(best))) / kDeg);
  }
  std::sort(nn.begin(), nn.end());
  return nn[static_cast<std::size_t>(0.9 * (nn.size() - 1))];
}

std::vector<std::vector<int>> kmeans_split(std::span<const FrameSummary> frames, const std::vector<int>& members,
                                           int k) {
  // Farthest-point initialisation from the first member: deterministic, spreads the seeds.
  std::vector<Vec3> p;
  for (int m : members) p.push_back(unit_vector(frames[m].centre));
  std::vector<Vec3> seeds{p[0]};
  std::vector<double> dmin(p.size(), 1e300);
  while (static_cast<int>(seeds.size()) < k) {
    std::size_t far = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      dmin[i] = std::min(dmin[i], chord2(p[i], seeds.back()));
      if (dmin[i] > dmin[far]) far = i;
    }
    seeds.push_back(p[far]);
  }
  std::vector<int> label(p.size(), 0);
  for (int iter = 0; iter < 25; ++iter) {
    for (std::size_t i = 0; i < p.size(); ++i) {
      int best = 0;
      for (int s = 1; s < k; ++s)
        if (chord2(p[i], seeds[s]) < chord2(p[i], seeds[best])) best = s;
      label[i] = best;
    }
    std::vector<Vec3> sum(k, Vec3{0, 0, 0});
    for (std::size_t i = 0; i < p.size(); ++i)
      for (int a = 0; a < 3; ++a) sum[label[i]][a] += p[i][a];
    for (int s = 0; s < k; ++s) {
      const double norm = std::sqrt(chord2(sum[s], Vec3{0, 0, 0}));
      if (norm > 0) seeds[s] = {sum[s][0] / norm, sum[s][1] / norm, sum[s][2] / norm};
    }
  }
  std::vector<std::vector<int>> parts(k);
  for (std::size_t i = 0; i < p.size(); ++i) parts[label[i]].push_back(members[i]);
  std::erase_if(parts, [](const auto& g) { return g.empty(); });
  return parts;
}

// Near-equal chronological chunks of at most `cap` frames (never a tiny remainder group).
std::vector<std::vector<int>> chronological_chunks(std::span<const FrameSummary> frames, std::vector<int> members,
                                                   int cap) {
  std::stable_sort(members.begin(), members.end(),
                   [&](int a, int b) { return frames[a].time_s < frames[b].time_s; });
  const int n = static_cast<int>(members.size());
  const int chunks = (n + cap - 1) / cap;
  std::vector<std::vector<int>> out;
  for (int c = 0; c < chunks; ++c) {
    const int lo = static_cast<int>(static_cast<long long>(n) * c / chunks);
    const int hi = static_cast<int>(static_cast<long long>(n) * (c + 1) / chunks);
    out.emplace_back(members.begin() + lo, members.begin() + hi);
  }
  return out;
}

double max_dispersion_deg(std::span<const FrameSummary> frames, const std::vector<int>& members) {
  Vec3 sum{0, 0, 0};
  for (int m : members) {
    const Vec3 u = unit_vector(frames[m].centre);
    for (int a = 0; a < 3; ++a) sum[a] += u[a];
  }
  const double norm = std::sqrt(chord2(sum, Vec3{0, 0, 0}));
  if (norm == 0) return 180.0;
  const Vec3 c{sum[0] / norm, sum[1] / norm, sum[2] / norm};
  double worst = 0;
  for (int m : members) worst = std::max(worst, chord2(unit_vector(frames[m].centre), c));
  return 2.0 * std::asin(std::min(1.0, 0.5 * std::sqrt(worst))) / kDeg;
}

std::vector<std::vector<int>> split_oversized(std::span<const FrameSummary> frames,
                                              std::vector<std::vector<int>> groups, const ClusterParams& p,
                                              std::vector<std::string>& notes) {
  if (p.max_per_group <= 0) return groups;
  std::vector<std::vector<int>> out;
  for (auto& g : groups) {
    const int n = static_cast<int>(g.size());
    if (n <= p.max_per_group) {
      out.push_back(std::move(g));
      continue;
    }
    const int k = (n + p.max_per_group - 1) / p.max_per_group;
    const std::size_t before = out.size();
    std::vector<std::vector<int>> parts{g};
    if (p.field_of_view_deg > 0 && max_dispersion_deg(frames, g) > 0.25 * p.field_of_view_deg)
      parts = kmeans_split(frames, g, k);
    for (auto& part : parts)
      for (auto& chunk : chronological_chunks(frames, part, p.max_per_group)) out.push_back(std::move(chunk));
    notes.push_back(fmt::format("group of {} frames split into {} parts of at most {}", n,
                                out.size() - before, p.max_per_group));
  }
  for (auto& g : out) std::sort(g.begin(), g.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return out;
}

}  // namespace

std::vector<std::vector<int>> connected_groups(std::span<const FrameSummary> frames, double threshold_deg,
                                               double orientation_split_deg) {
  const int n = static_cast<int>(frames.size());
  std::vector<Vec3> v(n);
  for (int i = 0; i < n; ++i) v[i] = unit_vector(frames[i].centre);
  UnionFind uf(n);
  for_each_close_pair(v, chord_of(threshold_deg), [&](int i, int j) {
    if (orientation_split_deg > 0 &&
        angle_diff_deg(frames[i].position_angle_deg, frames[j].position_angle_deg) > orientation_split_deg)
      return;
    uf.unite(i, j);
  });
  return components(uf, n);
}

ClusterResult cluster_frames(std::span<const FrameSummary> frames, const ClusterParams& params) {
  ClusterResult r;
  const int n = static_cast<int>(frames.size());
  if (n == 0) return r;
  double thr = params.threshold_deg > 0 ? params.threshold_deg : 0.05;
  auto groups = connected_groups(frames, thr, params.orientation_split_deg);

  if (n >= 3 && static_cast<double>(groups.size()) >= std::max(3.0, 0.9 * n)) {
    std::vector<Vec3> v(n);
    for (int i = 0; i < n; ++i) v[i] = unit_vector(frames[i].centre);
    const double relaxed = std::clamp(std::max(thr, 1.2 * p90_nearest_neighbour_deg(v)), 0.01, 1.0);
    if (relaxed > thr) {
      r.notes.push_back(fmt::format("{} groups for {} frames: threshold relaxed {:.4f} -> {:.4f} deg",
                                    groups.size(), n, thr, relaxed));
      thr = relaxed;
      groups = connected_groups(frames, thr, params.orientation_split_deg);
    }
  }

  if (params.target_groups > 0 && static_cast<int>(groups.size()) != params.target_groups) {
    // More threshold -> fewer groups. Bisect on a log scale; keep the closest count seen.
    double lo = 1e-4, hi = 5.0;
    auto best = groups;
    double best_thr = thr;
    for (int it = 0; it < 30; ++it) {
      const double mid = std::sqrt(lo * hi);
      auto g = connected_groups(frames, mid, params.orientation_split_deg);
      const auto count = static_cast<int>(g.size());
      if (std::abs(count - params.target_groups) < std::abs(static_cast<int>(best.size()) - params.target_groups)) {
        best = g;
        best_thr = mid;
      }
      if (count == params.target_groups) break;
      (count > params.target_groups ? lo : hi) = mid;
    }
    r.notes.push_back(fmt::format("target {} groups: threshold {:.4f} deg gives {}", params.target_groups, best_thr,
                                  best.size()));
    groups = std::move(best);
    thr = best_thr;
  }

  r.groups = split_oversized(frames, std::move(groups), params, r.notes);
  r.threshold_used_deg = thr;
  return r;
}

}  // namespace zm
