#include "pipeline/classic/group_split.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "pipeline/classic/master_tile.hpp"
#include "pipeline/classic/tile_geometry.hpp"
#include "wcs/geometry.hpp"

namespace zm {

namespace {

// The union of outlines on one reference grid, grown member by member.
struct UnionBox {
  double xmin, ymin, xmax, ymax;
  explicit UnionBox(const FrameRecord& ref)
      : xmin(-0.5), ymin(-0.5), xmax(ref.width - 0.5), ymax(ref.height - 0.5) {}
  UnionBox with(const std::vector<std::array<double, 2>>& outline) const {
    UnionBox b = *this;
    for (const auto& p : outline) {
      b.xmin = std::min(b.xmin, p[0]);
      b.xmax = std::max(b.xmax, p[0]);
      b.ymin = std::min(b.ymin, p[1]);
      b.ymax = std::max(b.ymax, p[1]);
    }
    return b;
  }
  double area_ratio(const FrameRecord& ref) const {
    return (xmax - xmin) * (ymax - ymin) / (static_cast<double>(ref.width) * ref.height);
  }
};

// One pointing around the most central of `remaining`: its members, ascending; they leave `remaining`.
std::vector<int> take_pointing(std::vector<int>& remaining, const std::vector<FrameRecord>& frames) {
  const int ref = remaining[static_cast<std::size_t>(choose_reference(frames, remaining))];
  const FrameRecord& r = frames[static_cast<std::size_t>(ref)];
  Wcs ref_wcs = r.make_wcs();
  struct Candidate {
    int index;
    double distance;
    std::vector<std::array<double, 2>> outline;
  };
  std::vector<Candidate> near;
  for (int m : remaining) {
    if (m == ref) continue;
    const FrameRecord& f = frames[static_cast<std::size_t>(m)];
    if (shared_footprint(f, r) < kMinSharedFootprint) continue;
    Wcs w = f.make_wcs();
    near.push_back({m, angular_distance_deg(f.centre, r.centre), outline_on(f, w, ref_wcs)});
  }
  std::stable_sort(near.begin(), near.end(), [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  std::vector<int> taken = {ref};
  UnionBox box(r);
  for (const Candidate& c : near) {
    const UnionBox grown = box.with(c.outline);
    if (grown.area_ratio(r) > kMaxTileAreaRatio) continue;
    box = grown;
    taken.push_back(c.index);
  }
  std::sort(taken.begin(), taken.end());
  std::vector<int> rest;
  std::set_difference(remaining.begin(), remaining.end(), taken.begin(), taken.end(), std::back_inserter(rest));
  remaining = std::move(rest);
  return taken;
}

// The group is one pointing already (the common case: one check per member, no split).
bool is_one_pointing(const std::vector<int>& group, const std::vector<FrameRecord>& frames) {
  if (group.size() < 2) return true;
  const FrameRecord& r = frames[static_cast<std::size_t>(group[static_cast<std::size_t>(choose_reference(frames, group))])];
  std::vector<const FrameRecord*> members;
  for (int m : group) {
    const FrameRecord& f = frames[static_cast<std::size_t>(m)];
    if (shared_footprint(f, r) < kMinSharedFootprint) return false;
    members.push_back(&f);
  }
  return tile_geometry(r, members).area_ratio(r) <= kMaxTileAreaRatio;
}

}  // namespace

std::vector<std::vector<int>> split_into_pointings(const std::vector<std::vector<int>>& groups,
                                                   const std::vector<FrameRecord>& frames,
                                                   std::vector<std::string>& notes) {
  std::vector<std::vector<int>> out;
  for (const auto& g : groups) {
    if (is_one_pointing(g, frames)) {
      out.push_back(g);
      continue;
    }
    std::vector<int> remaining = g;
    std::size_t parts = 0;
    while (!remaining.empty()) {
      out.push_back(take_pointing(remaining, frames));
      ++parts;
    }
    notes.push_back(fmt::format("a group of {} frames spread over {} pointings (a member shares < {:.0f}% of the "
                                "reference's footprint, or the tile would exceed {:.1f} frames): split into {}",
                                g.size(), parts, kMinSharedFootprint * 100, kMaxTileAreaRatio, parts));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return out;
}

}  // namespace zm
