// Registration. The WCS already places a frame to within a few pixels; star matching turns that into a
// sub-0.15-px affine. Association is nearest neighbour on a uniform grid of the reference stars (stars are
// hundreds, so a simple bucket grid beats a tree); the fit is weighted least squares with 3-sigma clipping.
#include "pipeline/classic/registration.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "stars/match.hpp"

namespace zm {
namespace {

constexpr int kMinMatches = 8;
constexpr int kClipRounds = 4;

long long cell_key(long long cx, long long cy) { return (cx << 32) ^ (cy & 0xffffffffLL); }

struct Bucket {
  double cell;
  std::unordered_map<long long, std::vector<int>> cells;
  long long cell_of(double v) const { return static_cast<long long>(std::floor(v / cell)); }
  long long key(double x, double y) const { return cell_key(cell_of(x), cell_of(y)); }
};

int nearest(const Bucket& b, const std::vector<Star>& stars, Point2 p, double radius) {
  int best = -1;
  double best_d2 = radius * radius;
  const long long cx = b.cell_of(p.x);
  const long long cy = b.cell_of(p.y);
  for (long long dx = -1; dx <= 1; ++dx)
    for (long long dy = -1; dy <= 1; ++dy) {
      auto it = b.cells.find(cell_key(cx + dx, cy + dy));
      if (it == b.cells.end()) continue;
      for (int i : it->second) {
        const double d2 = (stars[i].x - p.x) * (stars[i].x - p.x) + (stars[i].y - p.y) * (stars[i].y - p.y);
        if (d2 < best_d2) {
          best_d2 = d2;
          best = i;
        }
      }
    }
  return best;
}

// Fits frame -> ref on the pairs with iterative clipping; returns matched count and rms.
bool fit_pairs(std::vector<Point2> src, std::vector<Point2> dst, FrameRegistration& out) {
  for (int round = 0; round < kClipRounds; ++round) {
    if (static_cast<int>(src.size()) < kMinMatches) return false;
    auto fit = fit_affine(src, dst);
    if (!fit) return false;
    std::vector<double> r2(src.size());
    for (std::size_t i = 0; i < src.size(); ++i) {
      const Point2 q = fit->apply(src[i]);
      r2[i] = (q.x - dst[i].x) * (q.x - dst[i].x) + (q.y - dst[i].y) * (q.y - dst[i].y);
    }
    std::vector<double> sorted = r2;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    // For a 2-D Gaussian, median(r^2) = 2 ln 2 sigma^2 per axis.
    const double sigma2 = std::max(sorted[sorted.size() / 2] / (2.0 * std::log(2.0)), 1e-6);
    std::vector<Point2> s2, d2;
    for (std::size_t i = 0; i < src.size(); ++i)
      if (r2[i] <= 9.0 * 2.0 * sigma2) {
        s2.push_back(src[i]);
        d2.push_back(dst[i]);
      }
    out.frame_to_ref = *fit;
    out.matched = static_cast<int>(src.size());
    out.rms_px = weighted_rms(*fit, src, dst);
    if (s2.size() == src.size()) return true;
    src = std::move(s2);
    dst = std::move(d2);
  }
  return static_cast<int>(src.size()) >= kMinMatches;
}

}  // namespace

Affine2D wcs_predicted_affine(Wcs& frame_wcs, Wcs& ref_wcs, int width, int height) {
  constexpr int kGrid = 7;
  std::vector<double> fx, fy;
  for (int j = 0; j < kGrid; ++j)
    for (int i = 0; i < kGrid; ++i) {
      fx.push_back((width - 1) * i / double(kGrid - 1));
      fy.push_back((height - 1) * j / double(kGrid - 1));
    }
  std::vector<double> ra(fx.size()), dec(fx.size()), rx(fx.size()), ry(fx.size());
  frame_wcs.pixel_to_world(fx, fy, ra, dec);
  ref_wcs.world_to_pixel(ra, dec, rx, ry);
  std::vector<Point2> src, dst;
  for (std::size_t k = 0; k < fx.size(); ++k)
    if (std::isfinite(rx[k]) && std::isfinite(ry[k])) {
      src.push_back({fx[k], fy[k]});
      dst.push_back({rx[k], ry[k]});
    }
  return fit_affine(src, dst).value_or(Affine2D::identity());
}

FrameRegistration register_frame(const std::vector<Star>& ref_stars, const std::vector<Star>& frame_stars,
                                 const Affine2D& wcs_guess, double radius_px) {
  FrameRegistration out;
  out.ok = true;
  Bucket b{std::max(radius_px, 1.0), {}};
  for (int i = 0; i < static_cast<int>(ref_stars.size()); ++i)
    b.cells[b.key(ref_stars[i].x, ref_stars[i].y)].push_back(i);
  std::vector<Point2> src, dst;
  std::vector<int> used(ref_stars.size(), 0);
  for (const Star& s : frame_stars) {
    const int j = nearest(b, ref_stars, wcs_guess.apply({s.x, s.y}), radius_px);
    if (j < 0 || used[j]++) continue;  // one frame star per reference star
    src.push_back({s.x, s.y});
    dst.push_back({ref_stars[j].x, ref_stars[j].y});
  }
  if (fit_pairs(src, dst, out)) {
    out.method = "stars_wcs";
    return out;
  }
  MatchParams mp;
  mp.model = MatchModel::Affine;
  const MatchResult m = match_stars(ref_stars, frame_stars, mp);
  if (m.ok) {
    out.frame_to_ref = m.transform;
    out.rms_px = m.rms;
    out.matched = m.n_inliers;
    out.method = "stars_triangles";
    return out;
  }
  out.frame_to_ref = wcs_guess;
  out.method = "wcs";
  out.reason = "star matching failed (" + std::to_string(src.size()) + " WCS-guided pairs; triangles: " + m.reason +
               "); using the WCS alone";
  return out;
}

}  // namespace zm
