#include "pipeline/classic/tile_geometry.hpp"

#include <algorithm>
#include <cmath>

#include "pipeline/merge/tile_overlap.hpp"

namespace zm {

std::vector<std::array<double, 2>> outline_on(const FrameRecord& member, Wcs& member_wcs, Wcs& ref_wcs) {
  const double w = member.width, h = member.height;
  std::vector<double> xs, ys;
  for (int side = 0; side < 4; ++side)
    for (int k = 0; k < kOutlineSteps; ++k) {
      const double t = static_cast<double>(k) / kOutlineSteps;
      const double x = side == 0 ? t * w : side == 1 ? w : side == 2 ? (1 - t) * w : 0.0;
      const double y = side == 0 ? 0.0 : side == 1 ? t * h : side == 2 ? h : (1 - t) * h;
      xs.push_back(x - 0.5);
      ys.push_back(y - 0.5);
    }
  std::vector<double> ra(xs.size()), dec(xs.size()), rx(xs.size()), ry(xs.size());
  member_wcs.pixel_to_world(xs, ys, ra, dec);
  ref_wcs.world_to_pixel(ra, dec, rx, ry);
  std::vector<std::array<double, 2>> out;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    if (!std::isfinite(rx[i]) || !std::isfinite(ry[i])) return {};
    out.push_back({rx[i], ry[i]});
  }
  return out;
}

TileGeometry tile_geometry(const FrameRecord& ref, const std::vector<const FrameRecord*>& members) {
  Wcs ref_wcs = ref.make_wcs();
  double xmin = -0.5, ymin = -0.5, xmax = ref.width - 0.5, ymax = ref.height - 0.5;
  for (const FrameRecord* m : members) {
    if (m == &ref) continue;
    Wcs w = m->make_wcs();
    for (const auto& p : outline_on(*m, w, ref_wcs)) {
      xmin = std::min(xmin, p[0]);
      xmax = std::max(xmax, p[0]);
      ymin = std::min(ymin, p[1]);
      ymax = std::max(ymax, p[1]);
    }
  }
  // Pixel i covers [i - 0.5, i + 0.5]: every pixel the union touches is in.
  TileGeometry g;
  g.x0 = static_cast<int>(std::floor(xmin + 0.5));
  g.y0 = static_cast<int>(std::floor(ymin + 0.5));
  g.width = static_cast<int>(std::ceil(xmax - 0.5)) - g.x0 + 1;
  g.height = static_cast<int>(std::ceil(ymax - 0.5)) - g.y0 + 1;
  return g;
}

double shared_footprint(const FrameRecord& member, const FrameRecord& ref) {
  if (&member == &ref) return 1.0;
  Wcs mw = member.make_wcs(), rw = ref.make_wcs();
  std::vector<PlanePoint> quad;
  for (const auto& p : outline_on(member, mw, rw)) quad.push_back({p[0], p[1]});
  if (quad.empty()) return 0.0;
  const double own = polygon_area(quad);
  const std::vector<PlanePoint> box = {{-0.5, -0.5},
                                       {ref.width - 0.5, -0.5},
                                       {ref.width - 0.5, ref.height - 0.5},
                                       {-0.5, ref.height - 0.5}};
  return own > 0 ? polygon_area(clip_convex(quad, box)) / own : 0.0;
}

}  // namespace zm
