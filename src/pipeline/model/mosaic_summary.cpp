#include "pipeline/model/mosaic_summary.hpp"

namespace zm {

namespace {

void widen_dates(MosaicSummary& s, const std::string& beg, const std::string& end) {
  if (!beg.empty() && (s.date_beg.empty() || beg < s.date_beg)) s.date_beg = beg;
  if (!end.empty() && (s.date_end.empty() || end > s.date_end)) s.date_end = end;
}

}  // namespace

MosaicSummary summarize_tiles(const std::vector<TileInfo>& tiles, int frames_found) {
  MosaicSummary s;
  s.master_tiles = static_cast<int>(tiles.size());
  s.frames_found = frames_found;
  for (const auto& t : tiles) {
    s.frames_used += t.frames;  // frames a tile could not register are not in its count
    s.exposure_s += t.exposure_s;
    widen_dates(s, t.date_beg, t.date_end);
  }
  return s;
}

MosaicSummary summarize_frames(const std::vector<FrameRecord>& frames, int frames_found, Route route) {
  MosaicSummary s;
  s.route = route;
  s.frames_found = frames_found;
  s.frames_used = static_cast<int>(frames.size());
  for (const auto& f : frames) {
    s.exposure_s += f.exptime_s;
    widen_dates(s, f.date_obs, f.date_obs);
  }
  return s;
}

}  // namespace zm
