#include "solve/propagate.hpp"

#include <fmt/format.h>

#include "solve/wcs_compose.hpp"

namespace zm {

Propagation propagate_wcs(std::span<const Star> ref_stars, const FitsHeader& ref_wcs,
                          std::span<const Star> target_stars, int width, int height,
                          const PropagationParams& params) {
  Propagation out;
  const MatchResult m = match_stars(ref_stars, target_stars, params.match);
  out.rms_px = m.rms;
  out.weighted_rms_px = m.weighted_rms;
  out.matches = m.n_inliers;
  if (!m.ok) {
    out.reason = "star matching failed: " + m.reason;
    return out;
  }
  if (m.n_inliers < params.min_matches) {
    out.reason = fmt::format("only {} matched stars (need {})", m.n_inliers, params.min_matches);
    return out;
  }
  if (m.weighted_rms > params.max_rms_px) {
    out.reason = fmt::format("match residual {:.3f} px above {:.3f} px", m.weighted_rms, params.max_rms_px);
    return out;
  }
  std::string why;
  auto h = compose_wcs(ref_wcs, m.transform, width, height, &why);
  if (!h) {
    out.reason = "cannot compose WCS: " + why;
    return out;
  }
  out.wcs = std::move(*h);
  out.ok = true;
  return out;
}

}  // namespace zm
