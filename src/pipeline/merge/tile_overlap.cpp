// Pairs are compared with their corners' unit vectors computed once per tile, so the n^2 pair loop is pure
// arithmetic; a pair whose bounding caps do not meet is skipped before any projection.
#include "pipeline/merge/tile_overlap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <queue>

#include "wcs/geometry.hpp"

namespace zm {

namespace {

using Vec3 = std::array<double, 3>;

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

Vec3 unit_vector(const SkyCoord& s) {
  const double ra = s.ra * M_PI / 180.0, dec = s.dec * M_PI / 180.0;
  return {std::cos(dec) * std::cos(ra), std::cos(dec) * std::sin(ra), std::sin(dec)};
}

Vec3 normalised(Vec3 v) {
  const double n = std::sqrt(dot(v, v));
  for (double& c : v) c /= n;
  return v;
}

// Corners as unit vectors plus the cap (centre direction, cosine of its radius) that holds them.
struct SkyQuad {
  std::array<Vec3, 4> corners;
  Vec3 centre{};
  double cos_radius = 1.0;
  bool valid = false;
};

SkyQuad sky_quad(const Wcs& wcs) {
  Wcs w(wcs);
  SkyQuad q;
  const auto corners = footprint_corners(w);
  Vec3 sum{0, 0, 0};
  for (int k = 0; k < 4; ++k) {
    if (!std::isfinite(corners[k].ra) || !std::isfinite(corners[k].dec)) return q;
    q.corners[k] = unit_vector(corners[k]);
    for (int i = 0; i < 3; ++i) sum[i] += q.corners[k][i];
  }
  q.centre = normalised(sum);
  for (const auto& c : q.corners) q.cos_radius = std::min(q.cos_radius, dot(c, q.centre));
  q.valid = true;
  return q;
}

// Gnomonic projection of both quads about the mean direction of their corners.
double sky_overlap(const SkyQuad& a, const SkyQuad& b) {
  if (!a.valid || !b.valid) return 0.0;
  const double ra = std::acos(std::clamp(a.cos_radius, -1.0, 1.0));
  const double rb = std::acos(std::clamp(b.cos_radius, -1.0, 1.0));
  if (std::acos(std::clamp(dot(a.centre, b.centre), -1.0, 1.0)) > ra + rb) return 0.0;
  Vec3 sum{0, 0, 0};
  for (const auto* q : {&a, &b})
    for (const auto& c : q->corners)
      for (int i = 0; i < 3; ++i) sum[i] += c[i];
  const Vec3 c = normalised(sum);
  // East and north unit vectors of the tangent plane at c (any orthonormal pair works for areas).
  Vec3 east{-c[1], c[0], 0.0};
  if (dot(east, east) < 1e-24) east = {1.0, 0.0, 0.0};
  east = normalised(east);
  const Vec3 north{c[1] * east[2] - c[2] * east[1], c[2] * east[0] - c[0] * east[2], c[0] * east[1] - c[1] * east[0]};
  auto project = [&](const SkyQuad& q, std::vector<PlanePoint>& out) {
    for (const auto& p : q.corners) {
      const double d = dot(p, c);
      if (d <= 1e-9) return false;
      out.push_back({dot(p, east) / d, dot(p, north) / d});
    }
    return true;
  };
  std::vector<PlanePoint> pa, pb;
  if (!project(a, pa) || !project(b, pb)) return 0.0;
  return quad_overlap_fraction(pa, pb);
}

double signed_area(const std::vector<PlanePoint>& p) {
  double s = 0.0;
  for (std::size_t i = 0, n = p.size(); i < n; ++i) {
    const PlanePoint& u = p[i];
    const PlanePoint& v = p[(i + 1) % n];
    s += u.x * v.y - v.x * u.y;
  }
  return 0.5 * s;
}

std::vector<PlanePoint> counter_clockwise(std::vector<PlanePoint> p) {
  if (signed_area(p) < 0) std::reverse(p.begin(), p.end());
  return p;
}

// Splits a component (breadth-first order) into near-equal consecutive chunks.
void add_chunks(const std::vector<int>& order, int min_size, int max_group, std::vector<std::vector<int>>& out) {
  const int n = static_cast<int>(order.size());
  const int chunks = (n + max_group - 1) / max_group;
  int begin = 0;
  for (int k = 0; k < chunks; ++k) {
    const int size = n / chunks + (k < n % chunks ? 1 : 0);
    std::vector<int> g(order.begin() + begin, order.begin() + begin + size);
    begin += size;
    if (static_cast<int>(g.size()) < min_size) continue;
    std::sort(g.begin(), g.end());
    out.push_back(std::move(g));
  }
}

}  // namespace

double polygon_area(const std::vector<PlanePoint>& polygon) { return std::abs(signed_area(polygon)); }

std::vector<PlanePoint> clip_convex(const std::vector<PlanePoint>& subject, const std::vector<PlanePoint>& clip) {
  if (subject.size() < 3 || clip.size() < 3 || polygon_area(clip) <= 0.0) return {};
  std::vector<PlanePoint> out = subject;
  const std::vector<PlanePoint> c = counter_clockwise(clip);
  for (std::size_t e = 0; e < c.size() && !out.empty(); ++e) {
    const PlanePoint p0 = c[e], p1 = c[(e + 1) % c.size()];
    // > 0: left of the edge, i.e. inside a counter-clockwise polygon.
    auto side = [&](const PlanePoint& q) { return (p1.x - p0.x) * (q.y - p0.y) - (p1.y - p0.y) * (q.x - p0.x); };
    std::vector<PlanePoint> in = std::move(out);
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
      const PlanePoint& cur = in[i];
      const PlanePoint& prev = in[(i + in.size() - 1) % in.size()];
      const double sc = side(cur), sp = side(prev);
      if ((sc >= 0) != (sp >= 0)) {
        const double t = sp / (sp - sc);
        out.push_back({prev.x + t * (cur.x - prev.x), prev.y + t * (cur.y - prev.y)});
      }
      if (sc >= 0) out.push_back(cur);
    }
  }
  return out.size() >= 3 ? out : std::vector<PlanePoint>{};
}

double quad_overlap_fraction(const std::vector<PlanePoint>& a, const std::vector<PlanePoint>& b) {
  const double area_a = polygon_area(a), area_b = polygon_area(b);
  const double smaller = std::min(area_a, area_b);
  if (!(smaller > 0.0)) return 0.0;
  return std::min(1.0, polygon_area(clip_convex(a, b)) / smaller);
}

double footprint_overlap_fraction(const Wcs& a, const Wcs& b) { return sky_overlap(sky_quad(a), sky_quad(b)); }

std::vector<std::vector<int>> overlap_groups(const std::vector<Wcs>& footprints, double threshold, int min_size,
                                             int max_group) {
  const int n = static_cast<int>(footprints.size());
  std::vector<SkyQuad> quads;
  quads.reserve(n);
  for (const auto& w : footprints) quads.push_back(sky_quad(w));
  std::vector<std::vector<int>> adjacent(n);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j)
      if (sky_overlap(quads[i], quads[j]) >= threshold) {
        adjacent[i].push_back(j);
        adjacent[j].push_back(i);
      }
  std::vector<std::vector<int>> groups;
  std::vector<char> seen(n, 0);
  for (int s = 0; s < n; ++s) {
    if (seen[s]) continue;
    std::vector<int> order;
    std::queue<int> q;
    q.push(s);
    seen[s] = 1;
    while (!q.empty()) {
      const int u = q.front();
      q.pop();
      order.push_back(u);
      for (int v : adjacent[u])  // ascending: j > i pushed in order, i < j too
        if (!seen[v]) {
          seen[v] = 1;
          q.push(v);
        }
    }
    if (static_cast<int>(order.size()) >= min_size) add_chunks(order, min_size, std::max(2, max_group), groups);
  }
  std::sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) { return x.front() < y.front(); });
  return groups;
}

}  // namespace zm
