#include "pipeline/frame_photometry/photometry_pairs.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <tuple>

#include "wcs/geometry.hpp"

namespace zm {
namespace {

constexpr double kDegToRad = 3.14159265358979323846 / 180.0;
// Slack on chord bounds: the unit vectors and the angular distance each round at ~1e-15 rad, so a pair that the
// exact angular ranking keeps must never be pruned by a chord test that is a few ulps short.
constexpr double kSlack = 1e-12;
constexpr int kLeafSize = 8;
constexpr int kSectors = 8;
// Frames nearer than this share of a frame's radius count as dithers of its own pointing for the sector picks.
constexpr double kFarShare = 0.25;

using Vec3 = std::array<double, 3>;

Vec3 unit_vector(SkyCoord c) {
  const double ra = c.ra * kDegToRad, dec = c.dec * kDegToRad;
  return {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
}

double chord2(const Vec3& a, const Vec3& b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

// Squared chord bound (with slack) of an angle in degrees; a half turn or more reaches the whole sphere.
double chord2_bound(double deg) {
  const double chord = deg >= 180.0 ? 2.0 : 2.0 * std::sin(0.5 * std::max(0.0, deg) * kDegToRad);
  return (chord + kSlack) * (chord + kSlack);
}

// bound2 shrunk to chord sqrt(c2) plus the slack.
double tightened(double bound2, double c2) {
  const double c = std::sqrt(c2) + kSlack;
  return std::min(bound2, c * c);
}

// Median-split k-d tree over unit vectors with a bounding box per node; a node whose members all carry one label
// can be skipped as a whole (the component searches of the connection step).
class KdTree {
 public:
  KdTree(const std::vector<Vec3>& pts, std::vector<int> members) : pts_(pts), idx_(std::move(members)) {
    nodes_.reserve(2 * idx_.size() / kLeafSize + 2);
    if (!idx_.empty()) build(0, static_cast<int>(idx_.size()));
  }

  // What a search may know of a node to skip it: squared distances from the query to the box's nearest point and
  // farthest corner, a ball holding the box, and the members' common label (-1 when mixed).
  struct View {
    double near2, far2;
    const Vec3& centre;
    double radius;
    int label;
  };

  // visit(j) for every member of the nodes within sqrt(bound2) of q (bound2 may shrink during the search) that
  // skip(View) does not rule out, nearer nodes first.
  template <class Visit, class Skip>
  void search(const Vec3& q, const double& bound2, Visit&& visit, Skip&& skip) const {
    if (!nodes_.empty()) descend(0, q, bound2, visit, skip);
  }

  void set_labels(const std::vector<int>& label) {
    if (!nodes_.empty()) relabel(0, label);
  }

 private:
  struct Node {
    int lo = 0, hi = 0, left = -1, right = -1;
    Vec3 mn{}, mx{}, centre{};
    double radius = 0.0;
    int label = -1;  // the members' common label, -1 when mixed
  };

  int build(int lo, int hi) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back({});
    Node n;
    n.lo = lo, n.hi = hi;
    n.mn = n.mx = pts_[static_cast<std::size_t>(idx_[static_cast<std::size_t>(lo)])];
    for (int k = lo + 1; k < hi; ++k) {
      const Vec3& p = pts_[static_cast<std::size_t>(idx_[static_cast<std::size_t>(k)])];
      for (int a = 0; a < 3; ++a) n.mn[a] = std::min(n.mn[a], p[a]), n.mx[a] = std::max(n.mx[a], p[a]);
    }
    for (int a = 0; a < 3; ++a) n.centre[a] = 0.5 * (n.mn[a] + n.mx[a]);
    n.radius = 0.5 * std::sqrt(chord2(n.mn, n.mx)) * (1.0 + 1e-12);
    if (hi - lo > kLeafSize) {
      int axis = 0;
      for (int a = 1; a < 3; ++a)
        if (n.mx[a] - n.mn[a] > n.mx[axis] - n.mn[axis]) axis = a;
      const int mid = (lo + hi) / 2;
      std::nth_element(idx_.begin() + lo, idx_.begin() + mid, idx_.begin() + hi, [&](int x, int y) {
        const double px = pts_[static_cast<std::size_t>(x)][axis], py = pts_[static_cast<std::size_t>(y)][axis];
        return px < py || (px == py && x < y);
      });
      n.left = build(lo, mid);
      n.right = build(mid, hi);
    }
    nodes_[static_cast<std::size_t>(id)] = n;
    return id;
  }

  double box_distance2(const Node& n, const Vec3& q) const {
    double d2 = 0.0;
    for (int a = 0; a < 3; ++a) {
      const double d = std::max({0.0, n.mn[a] - q[a], q[a] - n.mx[a]});
      d2 += d * d;
    }
    return d2;
  }

  // Squared distance from q to the box's farthest corner.
  double box_reach2(const Node& n, const Vec3& q) const {
    double d2 = 0.0;
    for (int a = 0; a < 3; ++a) {
      const double d = std::max(std::fabs(q[a] - n.mn[a]), std::fabs(q[a] - n.mx[a]));
      d2 += d * d;
    }
    return d2;
  }

  template <class Visit, class Skip>
  void descend(int id, const Vec3& q, const double& bound2, Visit& visit, Skip& skip) const {
    const Node& n = nodes_[static_cast<std::size_t>(id)];
    const double near2 = box_distance2(n, q);
    if (near2 > bound2 || skip(View{near2, box_reach2(n, q), n.centre, n.radius, n.label})) return;
    if (n.left < 0) {
      for (int k = n.lo; k < n.hi; ++k) visit(idx_[static_cast<std::size_t>(k)]);
      return;
    }
    const bool left_first = box_distance2(nodes_[static_cast<std::size_t>(n.left)], q) <=
                            box_distance2(nodes_[static_cast<std::size_t>(n.right)], q);
    descend(left_first ? n.left : n.right, q, bound2, visit, skip);
    descend(left_first ? n.right : n.left, q, bound2, visit, skip);
  }

  int relabel(int id, const std::vector<int>& label) {
    Node& n = nodes_[static_cast<std::size_t>(id)];
    if (n.left < 0) {
      n.label = label[static_cast<std::size_t>(idx_[static_cast<std::size_t>(n.lo)])];
      for (int k = n.lo + 1; k < n.hi; ++k)
        if (label[static_cast<std::size_t>(idx_[static_cast<std::size_t>(k)])] != n.label) n.label = -1;
      return n.label;
    }
    const int l = relabel(n.left, label), r = relabel(n.right, label);
    n.label = l == r ? l : -1;
    return n.label;
  }

  const std::vector<Vec3>& pts_;
  std::vector<int> idx_;
  std::vector<Node> nodes_;
};

// The frames with a usable centre and radius, their unit vectors and a tree over them.
struct FrameIndex {
  const std::vector<SkyCoord>& centres;
  const std::vector<double>& radii;
  std::vector<char> valid;
  std::vector<Vec3> pts;
  double max_radius = 0.0;
  KdTree tree;

  FrameIndex(const std::vector<SkyCoord>& c, const std::vector<double>& r)
      : centres(c),
        radii(r),
        valid(c.size(), 0),
        pts(c.size(), Vec3{}),
        tree(pts, members(c, r, valid, pts, max_radius)) {}

  static std::vector<int> members(const std::vector<SkyCoord>& c, const std::vector<double>& r,
                                  std::vector<char>& valid, std::vector<Vec3>& pts, double& max_radius) {
    if (c.size() != r.size()) throw std::invalid_argument("photometry pairs: centres and radii differ in size");
    std::vector<int> m;
    for (std::size_t k = 0; k < c.size(); ++k) {
      if (!std::isfinite(c[k].ra) || !std::isfinite(c[k].dec) || !std::isfinite(r[k])) continue;
      valid[k] = 1;
      pts[k] = unit_vector(c[k]);
      max_radius = std::max(max_radius, r[k]);
      m.push_back(static_cast<int>(k));
    }
    return m;
  }

  // The overlap test of the all-pairs loop, and the ranking distance through *deg.
  bool overlap(int i, int j, double* deg) const {
    if (!footprints_overlap(centres, radii, i, j)) return false;
    *deg = centre_distance_deg(centres[static_cast<std::size_t>(i)], centres[static_cast<std::size_t>(j)]);
    return true;
  }
};

std::vector<std::vector<int>> nearest_in(const FrameIndex& fi, int k) {
  const int n = static_cast<int>(fi.centres.size());
  std::vector<std::vector<int>> out(static_cast<std::size_t>(n));
  struct Cand {
    double c2, deg;
    int j;
  };
  std::vector<Cand> cands;
  std::vector<double> heap;  // max-heap of the k smallest squared chords so far
  for (int i = 0; i < n; ++i) {
    if (!fi.valid[static_cast<std::size_t>(i)]) continue;
    cands.clear();
    heap.clear();
    const Vec3& q = fi.pts[static_cast<std::size_t>(i)];
    double bound2 = chord2_bound(fi.radii[static_cast<std::size_t>(i)] + fi.max_radius);
    fi.tree.search(q, bound2, [&](int j) {
      if (j == i) return;
      const double c2 = chord2(q, fi.pts[static_cast<std::size_t>(j)]);
      double deg = 0.0;
      if (c2 > bound2 || !fi.overlap(i, j, &deg)) return;
      cands.push_back({c2, deg, j});
      heap.push_back(c2);
      std::push_heap(heap.begin(), heap.end());
      if (static_cast<int>(heap.size()) > k) {
        std::pop_heap(heap.begin(), heap.end());
        heap.pop_back();
      }
      if (static_cast<int>(heap.size()) == k) bound2 = tightened(bound2, heap.front());
    }, [](const KdTree::View&) { return false; });
    // The chord found the candidates; the angular distance ranks them, so ties and near-ties fall as the exact
    // test would have them.
    std::erase_if(cands, [&](const Cand& c) { return c.c2 > bound2; });
    std::sort(cands.begin(), cands.end(),
              [](const Cand& a, const Cand& b) { return a.deg < b.deg || (a.deg == b.deg && a.j < b.j); });
    auto& chosen = out[static_cast<std::size_t>(i)];
    for (std::size_t m = 0; m < cands.size() && static_cast<int>(m) < k; ++m) chosen.push_back(cands[m].j);
  }
  return out;
}

constexpr double kSectorWidth = 3.14159265358979323846 / 4.0;

// East and north unit vectors of the tangent plane at unit vector q (at a pole, any east will do).
std::array<Vec3, 2> tangent_basis(const Vec3& q) {
  const double en = std::hypot(q[0], q[1]);
  const Vec3 east = en > 1e-12 ? Vec3{-q[1] / en, q[0] / en, 0.0} : Vec3{0.0, 1.0, 0.0};
  const Vec3 north{q[1] * east[2] - q[2] * east[1], q[2] * east[0] - q[0] * east[2], q[0] * east[1] - q[1] * east[0]};
  return {east, north};
}

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// Bearing sector (0 = N, 1 = NE, 2 = E, ... 7 = NW; 45 deg wide, centred on those directions) of point p seen from
// the tangent point of `basis`: comparisons only, no trigonometry per visited frame.
int bearing_sector(const std::array<Vec3, 2>& basis, const Vec3& p) {
  constexpr double kTan22 = 0.41421356237309503;  // tan(22.5 deg)
  const double x = dot(p, basis[0]), y = dot(p, basis[1]);  // q itself projects to the origin
  const double ax = std::fabs(x), ay = std::fabs(y);
  if (ax <= kTan22 * ay) return y >= 0.0 ? 0 : 4;
  if (ay <= kTan22 * ax) return x >= 0.0 ? 2 : 6;
  if (x >= 0.0) return y >= 0.0 ? 1 : 3;
  return y >= 0.0 ? 7 : 5;
}

// The sectors a ball (centre c, radius rho) may reach, as a range lo..hi of sector numbers to take modulo 8; false
// when the ball covers the tangent point's line of sight (every sector). The projection onto the tangent plane
// shrinks distances, so the ball's shadow lies within rho of the projected centre.
bool ball_sectors(const std::array<Vec3, 2>& basis, const Vec3& c, double rho, int* lo, int* hi) {
  const double x = dot(c, basis[0]), y = dot(c, basis[1]);
  const double dist = std::sqrt(x * x + y * y);  // no overflow to guard against: |x|, |y| <= 2
  if (dist <= rho * (1.0 + 1e-9) + 1e-15) return false;
  const double half = std::asin(rho / dist) + 1e-9, bearing = std::atan2(x, y);
  *lo = static_cast<int>(std::floor((bearing - half) / kSectorWidth + 0.5));
  *hi = static_cast<int>(std::floor((bearing + half) / kSectorWidth + 0.5));
  return true;
}

std::vector<std::vector<int>> sectors_in(const FrameIndex& fi, int per_sector) {
  const int n = static_cast<int>(fi.centres.size());
  std::vector<std::vector<int>> out(static_cast<std::size_t>(n));
  struct Pick {
    double c2;
    int j;
    bool operator<(const Pick& o) const { return c2 < o.c2 || (c2 == o.c2 && j < o.j); }
  };
  const auto m = static_cast<std::size_t>(std::max(1, per_sector));
  std::array<std::vector<Pick>, kSectors> best;  // per sector, the m best so far, sorted
  std::array<double, kSectors> worst{};          // per sector, the farthest pick once full, else the reach
  for (int i = 0; i < n; ++i) {
    if (!fi.valid[static_cast<std::size_t>(i)]) continue;
    const Vec3& q = fi.pts[static_cast<std::size_t>(i)];
    const auto basis = tangent_basis(q);
    const double r = fi.radii[static_cast<std::size_t>(i)];
    const double inner = 2.0 * std::sin(0.5 * std::max(0.0, kFarShare * r) * kDegToRad);
    const double inner2 = inner * inner;
    const double reach2 = chord2_bound(r + fi.max_radius);
    double bound2 = reach2;
    for (auto& b : best) b.clear();
    worst.fill(reach2);
    // A node is skipped when all of it lies within the inner radius, or when every sector it may reach already
    // holds m picks nearer than all of it: a dense neighbouring pointing fills its sector at once, and the rest
    // of its frames are never visited.
    auto skip = [&](const KdTree::View& v) {
      if (v.far2 < inner2 * (1.0 - 1e-9)) return true;
      if (std::none_of(worst.begin(), worst.end(), [&](double w) { return w < v.near2; })) return false;  // cheap
      int lo = 0, hi = 0;
      if (!ball_sectors(basis, v.centre, v.radius, &lo, &hi)) return false;
      for (int t = lo; t <= hi; ++t)
        if (!(worst[static_cast<std::size_t>((t % kSectors + kSectors) % kSectors)] < v.near2)) return false;
      return true;
    };
    fi.tree.search(q, bound2, [&](int j) {
      const Vec3& p = fi.pts[static_cast<std::size_t>(j)];
      const double c2 = chord2(q, p);
      if (c2 <= inner2 || c2 > bound2) return;
      const auto sector = static_cast<std::size_t>(bearing_sector(basis, p));
      auto& b = best[sector];
      const Pick pick{c2, j};
      double deg = 0.0;
      if ((b.size() == m && !(pick < b.back())) || !fi.overlap(i, j, &deg)) return;
      if (b.size() == m) b.pop_back();
      b.insert(std::upper_bound(b.begin(), b.end(), pick), pick);
      if (b.size() == m) worst[sector] = b.back().c2;
      bound2 = std::min(reach2, *std::max_element(worst.begin(), worst.end()));
    }, skip);
    auto& chosen = out[static_cast<std::size_t>(i)];
    for (const auto& b : best)  // a frame lies in one sector only: no repeats
      for (const Pick& pick : b) chosen.push_back(pick.j);
  }
  return out;
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(static_cast<std::size_t>(n)) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) {
    while (parent[static_cast<std::size_t>(x)] != x) {
      parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
      x = parent[static_cast<std::size_t>(x)];
    }
    return x;
  }
  void unite(int a, int b) { parent[static_cast<std::size_t>(find(a))] = find(b); }
};

struct Link {
  double deg = std::numeric_limits<double>::infinity();
  int a = -1, b = -1;
  bool operator<(const Link& o) const { return std::tie(deg, a, b) < std::tie(o.deg, o.a, o.b); }
};

// Boruvka rounds: each piece of the pair graph adds its closest overlapping pair to another piece, until no
// overlapping pair joins two pieces. Usually one cheap pass that finds a single piece.
void connect_pieces(FrameIndex& fi, std::vector<std::pair<int, int>>& pairs) {
  const int n = static_cast<int>(fi.centres.size());
  UnionFind uf(n);
  for (const auto& [a, b] : pairs) uf.unite(a, b);
  std::vector<int> label(static_cast<std::size_t>(n), -1);
  for (;;) {
    int pieces = 0;
    for (int i = 0; i < n; ++i) {
      if (!fi.valid[static_cast<std::size_t>(i)]) continue;
      label[static_cast<std::size_t>(i)] = uf.find(i);
      pieces += label[static_cast<std::size_t>(i)] == i ? 1 : 0;
    }
    if (pieces <= 1) return;
    fi.tree.set_labels(label);
    std::vector<Link> best(static_cast<std::size_t>(n));
    for (int u = 0; u < n; ++u) {
      if (!fi.valid[static_cast<std::size_t>(u)]) continue;
      const int lu = label[static_cast<std::size_t>(u)];
      const Vec3& q = fi.pts[static_cast<std::size_t>(u)];
      double bound2 = chord2_bound(fi.radii[static_cast<std::size_t>(u)] + fi.max_radius);
      Link cur;
      fi.tree.search(q, bound2, [&](int v) {
        if (label[static_cast<std::size_t>(v)] == lu) return;
        const double c2 = chord2(q, fi.pts[static_cast<std::size_t>(v)]);
        double deg = 0.0;
        if (c2 > bound2 || !fi.overlap(u, v, &deg)) return;
        const Link cand{deg, std::min(u, v), std::max(u, v)};
        if (cand < cur) {
          cur = cand;
          bound2 = tightened(bound2, c2);
        }
      }, [&](const KdTree::View& v) { return v.label == lu; });
      if (cur < best[static_cast<std::size_t>(lu)]) best[static_cast<std::size_t>(lu)] = cur;
    }
    std::vector<std::pair<int, int>> added;
    for (const Link& l : best)
      if (l.a >= 0) added.emplace_back(l.a, l.b);
    if (added.empty()) return;
    std::sort(added.begin(), added.end());
    added.erase(std::unique(added.begin(), added.end()), added.end());
    for (const auto& [a, b] : added) {
      uf.unite(a, b);
      pairs.emplace_back(a, b);
    }
  }
}

}  // namespace

double centre_distance_deg(SkyCoord a, SkyCoord b) {
  const bool swap = b.ra < a.ra || (b.ra == a.ra && b.dec < a.dec);
  return swap ? angular_distance_deg(b, a) : angular_distance_deg(a, b);
}

bool footprints_overlap(const std::vector<SkyCoord>& centres, const std::vector<double>& radii_deg, int i, int j) {
  const auto lo = static_cast<std::size_t>(std::min(i, j)), hi = static_cast<std::size_t>(std::max(i, j));
  return angular_distance_deg(centres[lo], centres[hi]) <= radii_deg[lo] + radii_deg[hi];
}

std::vector<std::vector<int>> nearest_overlapping(const std::vector<SkyCoord>& centres,
                                                  const std::vector<double>& radii_deg, int k) {
  const FrameIndex fi(centres, radii_deg);
  return nearest_in(fi, std::max(1, k));
}

std::vector<std::vector<int>> sector_overlapping(const std::vector<SkyCoord>& centres,
                                                 const std::vector<double>& radii_deg, int per_sector) {
  const FrameIndex fi(centres, radii_deg);
  return sectors_in(fi, per_sector);
}

std::vector<std::pair<int, int>> photometry_pairs(const std::vector<SkyCoord>& centres,
                                                  const std::vector<double>& radii_deg, int k,
                                                  int all_pairs_max_frames) {
  FrameIndex fi(centres, radii_deg);
  std::vector<std::pair<int, int>> pairs;
  const int n = static_cast<int>(centres.size());
  if (n <= all_pairs_max_frames) {  // every overlapping pair: cheap at this size, and the best tied gains
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (footprints_overlap(centres, radii_deg, i, j)) pairs.emplace_back(i, j);
    return pairs;
  }
  for (const auto& chosen : {nearest_in(fi, std::max(1, k)), sectors_in(fi, kPerSector)})
    for (std::size_t i = 0; i < chosen.size(); ++i)
      for (int j : chosen[i]) pairs.emplace_back(std::min(static_cast<int>(i), j), std::max(static_cast<int>(i), j));
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  connect_pieces(fi, pairs);
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

std::vector<std::pair<int, int>> relink_pairs(const std::vector<SkyCoord>& centres,
                                              const std::vector<double>& radii_deg,
                                              const std::vector<std::pair<int, int>>& measured,
                                              const std::vector<std::pair<int, int>>& tried,
                                              const std::function<bool(int, int)>& measure, int k) {
  const int n = static_cast<int>(centres.size());
  std::vector<int> parent(static_cast<std::size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  const auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x) x = parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    return x;
  };
  int pieces = n;
  const auto join = [&](int a, int b) {
    a = find(a), b = find(b);
    if (a == b) return;
    parent[static_cast<std::size_t>(std::max(a, b))] = std::min(a, b);
    --pieces;
  };
  for (const auto& [i, j] : measured) join(i, j);
  std::vector<std::pair<int, int>> out;
  if (pieces <= 1) return out;
  std::vector<std::pair<int, int>> seen(tried);
  std::sort(seen.begin(), seen.end());
  std::vector<std::tuple<double, int, int>> next;
  const auto near = nearest_overlapping(centres, radii_deg, std::max(1, k));
  for (int i = 0; i < n; ++i)
    for (int j : near[static_cast<std::size_t>(i)]) {
      const std::pair<int, int> q{std::min(i, j), std::max(i, j)};
      if (find(q.first) == find(q.second) || std::binary_search(seen.begin(), seen.end(), q)) continue;
      next.emplace_back(centre_distance_deg(centres[static_cast<std::size_t>(q.first)], centres[static_cast<std::size_t>(q.second)]), q.first, q.second);
    }
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  for (const auto& [d, i, j] : next) {
    if (pieces <= 1) break;
    if (find(i) == find(j)) continue;
    if (!measure(i, j)) continue;
    join(i, j);
    out.emplace_back(i, j);
  }
  return out;
}

}  // namespace zm
