#include "stars/match.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>

#include "stars/point_grid.hpp"
#include "stars/triangles.hpp"

namespace zm {

namespace {

constexpr double kMedianRayleigh = 1.1774100225154747;  // median of |r| for a 2-D Gaussian of unit sigma per axis
constexpr double kCentroidErrorPerSnr = 0.6;            // sigma_xy ~ 0.6 FWHM / SNR for a Gaussian star

bool finite_star(const Star& s) { return std::isfinite(s.x) && std::isfinite(s.y); }

// Indices of the n brightest stars with finite positions (n <= 0: all), by flux then index.
std::vector<int> brightest(std::span<const Star> s, int n) {
  std::vector<int> idx;
  for (int i = 0; i < static_cast<int>(s.size()); ++i)
    if (finite_star(s[i])) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    const double fa = std::isfinite(s[a].flux) ? s[a].flux : -std::numeric_limits<double>::infinity();
    const double fb = std::isfinite(s[b].flux) ? s[b].flux : -std::numeric_limits<double>::infinity();
    return fa > fb;
  });
  if (n > 0 && idx.size() > static_cast<std::size_t>(n)) idx.resize(n);
  return idx;
}

std::vector<Point2> positions(std::span<const Star> s, const std::vector<int>& idx) {
  std::vector<Point2> p(idx.size());
  for (std::size_t i = 0; i < idx.size(); ++i) p[i] = {s[idx[i]].x, s[idx[i]].y};
  return p;
}

double centroid_error(const Star& s, double floor) {
  if (s.snr > 0.0 && s.fwhm > 0.0 && std::isfinite(s.snr)) return std::hypot(kCentroidErrorPerSnr * s.fwhm / s.snr, floor);
  return std::max(floor, 0.1);
}

MatchResult failure(std::string reason) {
  MatchResult r;
  r.reason = std::move(reason);
  return r;
}

struct Hypothesis {
  Affine2D t;
  int votes = -1;
  double sse = std::numeric_limits<double>::infinity();
};

// Number of target points that land within `radius` of a distinct ref point, and their squared distances.
int count_votes(const Affine2D& t, const std::vector<Point2>& tgt, const PointGrid& ref, double radius,
                std::vector<int>& claimed, int stamp, double& sse) {
  int votes = 0;
  sse = 0.0;
  for (const Point2& p : tgt) {
    double d2;
    const int r = ref.nearest(t.apply(p), radius, d2);
    if (r < 0 || claimed[r] == stamp) continue;
    claimed[r] = stamp;
    ++votes;
    sse += d2;
  }
  return votes;
}

// Every similarity implied by a pair of triangles with equal shapes, scored by how many of the brightest target
// stars it brings onto ref stars. Exhaustive and in a fixed order, so the winner is deterministic.
Hypothesis best_hypothesis(const std::vector<Point2>& ref_pts, const std::vector<Point2>& tgt_pts,
                           const std::vector<Point2>& verify_pts, const MatchParams& p, int& tried) {
  std::vector<Triangle> rt = build_triangles(ref_pts, p.neighbours, p.min_side);
  const std::vector<Triangle> tt = build_triangles(tgt_pts, p.neighbours, p.min_side);
  std::stable_sort(rt.begin(), rt.end(), [](const Triangle& a, const Triangle& b) { return a.mid_ratio < b.mid_ratio; });
  const PointGrid grid(verify_pts, p.vote_radius);
  std::vector<int> claimed(verify_pts.size(), -1);
  Hypothesis best;
  tried = 0;
  for (const Triangle& t : tt) {
    auto it = std::lower_bound(rt.begin(), rt.end(), t.mid_ratio - p.ratio_tolerance,
                               [](const Triangle& a, double v) { return a.mid_ratio < v; });
    for (; it != rt.end() && it->mid_ratio <= t.mid_ratio + p.ratio_tolerance; ++it) {
      if (std::abs(it->short_ratio - t.short_ratio) > p.ratio_tolerance) continue;
      const bool flip = it->counter_clockwise != t.counter_clockwise;
      if (flip && !p.allow_flip) continue;
      const Point2 src[3] = {tgt_pts[t.v[0]], tgt_pts[t.v[1]], tgt_pts[t.v[2]]};
      const Point2 dst[3] = {ref_pts[it->v[0]], ref_pts[it->v[1]], ref_pts[it->v[2]]};
      const auto sim = fit_similarity(src, dst, {}, flip ? FlipMode::Flip : FlipMode::NoFlip);
      if (!sim) continue;
      const double scale = sim->scale();
      if (scale < p.min_scale || scale > p.max_scale) continue;
      double sse;
      const int votes = count_votes(*sim, tgt_pts, grid, p.vote_radius, claimed, tried, sse);
      ++tried;
      if (votes > best.votes || (votes == best.votes && sse < best.sse)) best = {*sim, votes, sse};
    }
  }
  return best;
}

struct Pairing {
  int ref = -1, target = -1;  // indices into the refinement subsets
  double dist2 = 0.0;
};

// Nearest ref point for every mapped target point; a ref point claimed twice keeps its closer target.
std::vector<Pairing> associate(const Affine2D& t, const std::vector<Point2>& tgt, const PointGrid& ref, int n_ref,
                               double radius) {
  std::vector<Pairing> owner(n_ref);
  for (int i = 0; i < static_cast<int>(tgt.size()); ++i) {
    double d2;
    const int r = ref.nearest(t.apply(tgt[i]), radius, d2);
    if (r < 0) continue;
    if (owner[r].target < 0 || d2 < owner[r].dist2) owner[r] = {r, i, d2};
  }
  std::vector<Pairing> out;
  for (const Pairing& o : owner)
    if (o.target >= 0) out.push_back(o);
  std::sort(out.begin(), out.end(), [](const Pairing& a, const Pairing& b) { return a.target < b.target; });
  return out;
}

struct Refinement {
  Affine2D t;
  std::vector<Pairing> inliers;
  bool ok = false;
};

class Refiner {
 public:
  Refiner(std::span<const Star> ref, std::span<const Star> target, const MatchParams& p)
      : p_(p), ridx_(brightest(ref, p.refine_stars)), tidx_(brightest(target, p.refine_stars)),
        rpts_(positions(ref, ridx_)), tpts_(positions(target, tidx_)), grid_(rpts_, p.vote_radius) {
    for (int i : ridx_) rerr_.push_back(centroid_error(ref[i], p.position_error_floor));
    for (int i : tidx_) terr_.push_back(centroid_error(target[i], p.position_error_floor));
  }

  Refinement run(const Affine2D& start) const {
    Refinement r{start, {}, false};
    const FlipMode flip = start.is_flipped() ? FlipMode::Flip : FlipMode::NoFlip;
    for (int it = 0; it < std::max(1, p_.refine_iterations); ++it) {
      std::vector<Pairing> pairs = associate(r.t, tpts_, grid_, static_cast<int>(rpts_.size()), p_.vote_radius);
      auto t = fit(pairs, flip);
      if (!t) return r;
      pairs = clip(*t, std::move(pairs));
      t = fit(pairs, flip);
      if (!t) return r;
      const bool same = same_pairs(pairs, r.inliers);
      r.t = *t;
      r.inliers = std::move(pairs);
      r.ok = true;
      if (same) break;
    }
    return r;
  }

  double pair_weight(const Pairing& q) const {
    return p_.weighted ? 1.0 / (rerr_[q.ref] * rerr_[q.ref] + terr_[q.target] * terr_[q.target]) : 1.0;
  }
  int ref_index(int k) const { return ridx_[k]; }
  int target_index(int k) const { return tidx_[k]; }
  const Point2& ref_point(int k) const { return rpts_[k]; }
  const Point2& target_point(int k) const { return tpts_[k]; }

 private:
  std::optional<Affine2D> fit(const std::vector<Pairing>& pairs, FlipMode flip) const {
    std::vector<Point2> src, dst;
    std::vector<double> w;
    for (const Pairing& q : pairs) {
      src.push_back(tpts_[q.target]);
      dst.push_back(rpts_[q.ref]);
      if (p_.weighted) w.push_back(pair_weight(q));
    }
    if (p_.model == MatchModel::Affine) return fit_affine(src, dst, w);
    return fit_similarity(src, dst, w, flip);
  }

  // Drops pairs further than clip_sigma robust sigmas (per axis, from the median distance) from the fit.
  std::vector<Pairing> clip(const Affine2D& t, std::vector<Pairing> pairs) const {
    std::vector<double> d(pairs.size());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      const Point2 m = t.apply(tpts_[pairs[i].target]);
      pairs[i].dist2 = std::pow(m.x - rpts_[pairs[i].ref].x, 2) + std::pow(m.y - rpts_[pairs[i].ref].y, 2);
      d[i] = std::sqrt(pairs[i].dist2);
    }
    if (d.empty()) return pairs;
    const auto mid = d.begin() + static_cast<std::ptrdiff_t>(d.size() / 2);
    std::nth_element(d.begin(), mid, d.end());
    const double limit = std::max(p_.clip_sigma * *mid / kMedianRayleigh, p_.min_match_radius);
    std::erase_if(pairs, [&](const Pairing& q) { return q.dist2 > limit * limit; });
    return pairs;
  }

  static bool same_pairs(const std::vector<Pairing>& a, const std::vector<Pairing>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const Pairing& x, const Pairing& y) { return x.ref == y.ref && x.target == y.target; });
  }

  const MatchParams& p_;
  std::vector<int> ridx_, tidx_;
  std::vector<Point2> rpts_, tpts_;
  std::vector<double> rerr_, terr_;
  PointGrid grid_;
};

}  // namespace

MatchResult match_stars(std::span<const Star> ref, std::span<const Star> target, const MatchParams& p) {
  const std::vector<int> ridx = brightest(ref, p.max_stars), tidx = brightest(target, p.max_stars);
  if (ridx.size() < 3 || tidx.size() < 3)
    return failure("too few stars to form triangles: " + std::to_string(ridx.size()) + " ref, " +
                   std::to_string(tidx.size()) + " target (need 3 each)");
  const std::vector<Point2> rpts = positions(ref, ridx), tpts = positions(target, tidx);
  const std::vector<Point2> verify = positions(ref, brightest(ref, std::max(p.verify_ref_stars, p.max_stars)));

  int tried = 0;
  const Hypothesis best = best_hypothesis(rpts, tpts, verify, p, tried);
  MatchResult res;
  res.hypotheses = tried;
  res.votes = std::max(best.votes, 0);
  if (best.votes < p.min_votes) {
    res.reason = "no consistent asterism: best of " + std::to_string(tried) + " triangle hypotheses brings " +
                 std::to_string(res.votes) + " stars together (need " + std::to_string(p.min_votes) + ")";
    return res;
  }

  const Refiner refiner(ref, target, p);
  const Refinement fin = refiner.run(best.t);
  res.transform = fin.t;
  if (!fin.ok) {
    res.reason = "refinement fit is degenerate";
    return res;
  }
  double sum2 = 0.0, wsum2 = 0.0, wsum = 0.0;
  for (const Pairing& q : fin.inliers) {
    res.pairs.push_back({refiner.ref_index(q.ref), refiner.target_index(q.target)});
    const Point2 m = fin.t.apply(refiner.target_point(q.target));
    const double d2 = std::pow(m.x - refiner.ref_point(q.ref).x, 2) + std::pow(m.y - refiner.ref_point(q.ref).y, 2);
    const double w = refiner.pair_weight(q);
    sum2 += d2;
    wsum2 += w * d2;
    wsum += w;
  }
  res.n_inliers = static_cast<int>(res.pairs.size());
  res.rms = res.n_inliers > 0 ? std::sqrt(sum2 / res.n_inliers) : 0.0;
  res.weighted_rms = wsum > 0.0 ? std::sqrt(wsum2 / wsum) : 0.0;
  if (res.n_inliers < p.min_inliers) {
    res.reason = "only " + std::to_string(res.n_inliers) + " inliers after refinement (need " +
                 std::to_string(p.min_inliers) + ")";
  } else if (!(res.rms <= p.max_rms)) {
    res.reason = "residual RMS " + std::to_string(res.rms) + " px above " + std::to_string(p.max_rms) + " px";
  } else {
    res.ok = true;
  }
  return res;
}

}  // namespace zm
