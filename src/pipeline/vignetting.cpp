// vignetting: the run's sensor profile from the median sky mesh of frames spread over several pointings.
#include "pipeline/vignetting.hpp"

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
  std::vector<float> xs, ys, med, column;
  for (int by = 0; by < kSkyMeshSide; ++by)
    for (int bx = 0; bx < kSkyMeshSide; ++bx) {
      column.clear();
      for (const FrameRecord* f : used) {
        const float v = f->sky_mesh[static_cast<std::size_t>(by) * kSkyMeshSide + bx];
        if (std::isfinite(v)) column.push_back(v);
      }
      if (column.size() * 2 < used.size()) continue;
      auto mid = column.begin() + static_cast<std::ptrdiff_t>(column.size() / 2);
      std::nth_element(column.begin(), mid, column.end());
      xs.push_back(static_cast<float>((bx + 0.5) * w / kSkyMeshSide - 0.5));
      ys.push_back(static_cast<float>((by + 0.5) * h / kSkyMeshSide - 0.5));
      med.push_back(*mid);
    }
  BackgroundModelOptions bo;
  bo.min_samples = kSkyMeshSide * kSkyMeshSide / 3;
  const BackgroundModel m = fit_background_model(xs, ys, med, w, h, bo);
  e.q = m.q;
  if (!m.radial || std::fabs(m.q) < o.min_q) {
    e.reason = fmt::format("no radial term worth correcting (q = {:.4f})", m.q);
    return e;
  }
  e.flat = SensorFlat{m.q, w, h};
  return e;
}

}  // namespace zm
