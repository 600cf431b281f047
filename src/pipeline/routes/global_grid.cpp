#include "pipeline/routes/global_grid.hpp"

#include <algorithm>

namespace zm {

namespace {

double pick_scale(const std::vector<FrameRecord>& frames, const std::string& mode) {
  std::vector<double> s;
  for (const auto& f : frames)
    if (f.scale_arcsec > 0) s.push_back(f.scale_arcsec);
  if (s.empty()) return 0.0;  // find_optimal_grid takes the median of the WCS scales
  std::sort(s.begin(), s.end());
  if (mode == "min") return s.front();
  if (mode == "max") return s.back();
  return s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
}

}  // namespace

OutputGrid global_grid(const GlobalGridOptions& options, const std::vector<FrameRecord>& frames) {
  std::vector<ImageFootprint> footprints;
  footprints.reserve(frames.size());
  for (const auto& f : frames) footprints.push_back({f.make_wcs(), f.width, f.height});
  OptimalGridOptions o;
  o.pixel_scale_arcsec = pick_scale(frames, options.scale_mode);
  o.north_up = options.north_up;
  o.pad_px = options.pad_px;
  return find_optimal_grid(footprints, o);
}

}  // namespace zm
