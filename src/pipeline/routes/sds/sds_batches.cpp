#include "pipeline/routes/sds/sds_batches.hpp"

#include <algorithm>
#include <numeric>

#include "reproject/pixel_map.hpp"
#include "photometry/tile_preview.hpp"
#include "reproject/transform.hpp"
#include "reproject/warp.hpp"

namespace zm {

namespace {

constexpr int kCoverageRasterSide = 256;

struct CoarseRaster {
  int factor, width, height;
};

CoarseRaster coarse_raster(const OutputGrid& grid) {
  const int f = std::max(1, (std::max(grid.width, grid.height) + kCoverageRasterSide - 1) / kCoverageRasterSide);
  return {f, std::max(1, grid.width / f), std::max(1, grid.height / f)};
}

// Cells of the coarse canvas raster whose centre falls inside each frame.
std::vector<std::vector<int>> frame_cells(const std::vector<FrameRecord>& frames, const OutputGrid& grid) {
  const auto [f, cw, ch] = coarse_raster(grid);
  const Wcs coarse = scale_wcs(grid.wcs, f, cw, ch);
  std::vector<std::vector<int>> cells(frames.size());
  for (std::size_t k = 0; k < frames.size(); ++k) {
    const Wcs w = frames[k].make_wcs();
    const PixelRect box = output_bbox(w, coarse, 1);
    if (box.empty()) continue;
    const PixelMap map = compute_pixel_map(coarse, w, box);
    const double xmax = frames[k].width - 0.5, ymax = frames[k].height - 0.5;
    for (int r = 0; r < box.rows; ++r)
      for (int c = 0; c < box.cols; ++c) {
        const double x = map.x_row(r)[c], y = map.y_row(r)[c];
        if (x >= -0.5 && x <= xmax && y >= -0.5 && y <= ymax) cells[k].push_back((box.y0 + r) * cw + box.x0 + c);
      }
  }
  return cells;
}

// Consecutive runs of frames (indices) forming the nights, in time order; one run of everything when not by night.
std::vector<std::vector<int>> nights_of(const std::vector<FrameRecord>& frames, const SdsBatchOptions& o) {
  std::vector<int> order(frames.size());
  std::iota(order.begin(), order.end(), 0);
  if (!o.by_night) return {order};
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return frames[a].time_s < frames[b].time_s; });
  std::vector<std::vector<int>> nights;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || frames[order[i]].time_s - frames[order[i - 1]].time_s > o.night_gap_s) nights.emplace_back();
    nights.back().push_back(order[i]);
  }
  return nights;
}

}  // namespace

std::vector<SdsBatch> plan_sds_batches(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                       const SdsBatchOptions& o) {
  const auto cells = frame_cells(frames, grid);
  std::vector<int> all;
  for (const auto& c : cells) all.insert(all.end(), c.begin(), c.end());
  std::sort(all.begin(), all.end());
  const double reachable = static_cast<double>(std::unique(all.begin(), all.end()) - all.begin());
  std::vector<SdsBatch> batches;
  const auto nights = nights_of(frames, o);
  for (std::size_t night = 0; night < nights.size(); ++night) {
    const std::size_t first_of_night = batches.size();
    SdsBatch cur;
    std::vector<int> covered;
    auto coverage = [&] {
      std::sort(covered.begin(), covered.end());
      covered.erase(std::unique(covered.begin(), covered.end()), covered.end());
      return reachable > 0 ? static_cast<double>(covered.size()) / reachable : 1.0;
    };
    for (int k : nights[night]) {
      cur.members.push_back(k);
      covered.insert(covered.end(), cells[static_cast<std::size_t>(k)].begin(), cells[static_cast<std::size_t>(k)].end());
      cur.coverage = coverage();
      const int size = static_cast<int>(cur.members.size());
      if ((size >= o.min_batch && cur.coverage >= o.coverage_target) || (o.max_batch > 0 && size >= o.max_batch)) {
        cur.night = static_cast<int>(night);
        batches.push_back(std::move(cur));
        cur = SdsBatch{};
        covered.clear();
      }
    }
    if (cur.members.empty()) continue;
    if (static_cast<int>(cur.members.size()) < o.min_batch && batches.size() > first_of_night) {
      SdsBatch& prev = batches.back();  // a short tail joins the previous batch of its night
      covered.clear();
      prev.members.insert(prev.members.end(), cur.members.begin(), cur.members.end());
      for (int k : prev.members)
        covered.insert(covered.end(), cells[static_cast<std::size_t>(k)].begin(), cells[static_cast<std::size_t>(k)].end());
      prev.coverage = coverage();
    } else {
      cur.night = static_cast<int>(night);
      batches.push_back(std::move(cur));
    }
  }
  return batches;
}

BatchCoverage batch_coverage(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                             const std::vector<SdsBatch>& batches) {
  const CoarseRaster r = coarse_raster(grid);
  BatchCoverage b{r.factor, r.width, r.height, std::vector<int>(static_cast<std::size_t>(r.width) * r.height, 0)};
  const auto cells = frame_cells(frames, grid);
  std::vector<int> seen_by(b.batches.size(), -1);  // the last batch that counted a cell
  for (std::size_t k = 0; k < batches.size(); ++k)
    for (int m : batches[k].members)
      for (int c : cells[static_cast<std::size_t>(m)])
        if (seen_by[static_cast<std::size_t>(c)] != static_cast<int>(k)) {
          seen_by[static_cast<std::size_t>(c)] = static_cast<int>(k);
          ++b.batches[static_cast<std::size_t>(c)];
        }
  return b;
}

}  // namespace zm
