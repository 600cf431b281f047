// vignetting: the run's sensor profile from the median sky mesh of frames spread over several pointings.
#include "pipeline/ingest/vignetting.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "stack/background_model.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace {

// The most common frame size among frames with a full mesh (ties: the first met).
std::pair<int, int> common_size(const std::vector<FrameRecord>& frames) {
  std::map<std::pair<int, int>, int> count;
  std::pair<int, int> best{0, 0};
  int best_n = 0;
  for (const auto& f : frames) {
    if (f.sky_mesh.size() != static_cast<std::size_t>(kSkyMeshSide) * kSkyMeshSide) continue;
    const int n = ++count[{f.width, f.height}];
    if (n > best_n) best_n = n, best = {f.width, f.height};
  }
  return best;
}

// Largest angular distance (deg) of a frame centre from the first frame's, over the frames used.
double pointing_spread_deg(const std::vector<const FrameRecord*>& used) {
  double spread = 0.0;
  for (const FrameRecord* f : used) spread = std::max(spread, angular_distance_deg(used.front()->centre, f->centre));
  return spread;
}

}  // namespace

VignettingEstimate estimate_vignetting(const std::vector<FrameRecord>& frames, const VignettingOptions& o) {
  VignettingEstimate e;
  const auto [w, h] = common_size(frames);
  std::vector<const FrameRecord*> used;
  for (const auto& f : frames)
    if (f.width == w && f.height == h && f.sky_mesh.size() == static_cast<std::size_t>(kSkyMeshSide) * kSkyMeshSide)
      used.push_back(&f);
  e.frames = static_cast<int>(used.size());
  if (e.frames < o.min_frames) {
    e.reason = fmt::format("{} frame(s) with a sky mesh, {} needed", e.frames, o.min_frames);
    return e;
  }
  const double half_diag_deg = 0.5 * std::hypot(w, h) * used.front()->scale_arcsec / 3600.0;
  const double spread = pointing_spread_deg(used);
  if (!(spread >= o.min_spread * half_diag_deg)) {
    e.reason = fmt::format("pointings spread over {:.3f} deg, {:.3f} needed: a nebula at one sensor position would "
                           "read as vignetting", spread, o.min_spread * half_diag_deg);
    return e;
  }
  // One fit per frame (its own level and plane): vignetting gives every frame the same radial term, while a
  // nebula gives one only to the frames it sits on, each a different one. A per-block median over frames was
  // fooled when half the frames held the nebula somewhere (3 frames at each of 4 pointings: q = -0.078 where the
  // simulator had none).
  BackgroundModelOptions bo;
  bo.min_samples = kSkyMeshSide * kSkyMeshSide / 3;
  std::vector<float> xs, ys;
  for (int by = 0; by < kSkyMeshSide; ++by)
    for (int bx = 0; bx < kSkyMeshSide; ++bx) {
      xs.push_back(static_cast<float>((bx + 0.5) * w / kSkyMeshSide - 0.5));
      ys.push_back(static_cast<float>((by + 0.5) * h / kSkyMeshSide - 0.5));
    }
  // Each frame's significant radial term, by sign.
  std::vector<double> neg, pos;
  for (const FrameRecord* f : used) {
    const BackgroundModel m = fit_background_model(xs, ys, f->sky_mesh, w, h, bo);
    if (m.radial) (m.q < 0 ? neg : pos).push_back(std::fabs(m.q));
  }
  // The run's q: the majority sign's 25th percentile of |q|, the frames least disturbed by sky structure (which
  // mostly adds to |q|: on the demo, frames without nebula read -0.039 for the simulated -0.04, frames under it
  // down to -0.054).
  std::vector<double>& mag = neg.size() >= pos.size() ? neg : pos;
  std::sort(mag.begin(), mag.end());
  e.q = mag.empty() ? 0.0 : (&mag == &neg ? -1.0 : 1.0) * mag[mag.size() / 4];
  if (static_cast<int>(mag.size()) * 4 < e.frames * 3) {
    e.reason = fmt::format("frames disagree: {} of {} show a radial term of one sign (a nebula or gradient, not "
                           "the optics)", mag.size(), e.frames);
    return e;
  }
  if (std::fabs(e.q) < o.min_q) {
    e.reason = fmt::format("no radial term worth correcting (q = {:.4f})", e.q);
    return e;
  }
  e.flat = SensorFlat{e.q, w, h};
  return e;
}

}  // namespace zm
