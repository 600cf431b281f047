#include "pipeline/routes/sds/megatile_stack.hpp"

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "image/image.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/model/raw_planes.hpp"
#include "stack/combine_band.hpp"
#include "sched/worker_arena.hpp"

namespace zm {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Readers {
  std::vector<std::unique_ptr<CachedFrameReader>> image, weight, coverage;
};

Readers open_readers(const std::vector<MosaicArtifacts>& tiles, int W, int H, int C) {
  Readers r;
  for (const auto& t : tiles) {
    r.image.push_back(std::make_unique<CachedFrameReader>(t.image, W, H, C));
    r.weight.push_back(std::make_unique<CachedFrameReader>(t.weight, W, H, 1));
    r.coverage.push_back(std::make_unique<CachedFrameReader>(t.coverage, W, H, 1));
  }
  return r;
}

// One band of every mega-tile's planes.
struct Band {
  std::vector<std::vector<float>> image, weight, coverage;
};

Band read_band(const Readers& rd, int y0, int nr, std::size_t np, int C) {
  const std::size_t n = rd.image.size();
  Band b{std::vector<std::vector<float>>(n, std::vector<float>(np * C)),
         std::vector<std::vector<float>>(n, std::vector<float>(np)),
         std::vector<std::vector<float>>(n, std::vector<float>(np))};
  for (std::size_t k = 0; k < n; ++k) {
    rd.image[k]->read_rows(y0, nr, b.image[k]);
    rd.weight[k]->read_rows(y0, nr, b.weight[k]);
    rd.coverage[k]->read_rows(y0, nr, b.coverage[k]);
  }
  return b;
}

struct StackScratch {
  RejectScratch reject;
  std::vector<float> samples, weights;
};

// The output pixel i of a band (every channel): sums of weight and coverage, then the rejection combine.
struct PixelStacker {
  const Band& band;
  const std::vector<TileCorrection>& corr;
  const RejectParams& params;
  std::size_t np;
  int C;
  double keep_fraction;

  // `expected`: batches whose frames cover the pixel. Returns false when masked: covered, but by fewer mega-tiles
  // than keep_fraction x expected.
  bool stack(std::size_t i, int expected, StackScratch& s, ImageF& o, float& ow, float& oc, RejectStats& rs) const {
    const int n = static_cast<int>(band.image.size());
    double csum = 0.0, wsum = 0.0;
    int seen = 0;
    for (int k = 0; k < n; ++k) {
      csum += band.coverage[k][i];
      wsum += band.weight[k][i];
      seen += band.coverage[k][i] > 0.0f ? 1 : 0;
    }
    oc = static_cast<float>(csum);
    ow = static_cast<float>(wsum);
    if (csum <= 0.0) return true;
    if (seen < keep_fraction * expected) return false;
    for (int c = 0; c < C; ++c) {
      int m = 0;
      for (int k = 0; k < n; ++k) {
        const float v = band.image[k][c * np + i];
        if (!std::isfinite(v) || band.coverage[k][i] <= 0.0f) continue;
        s.samples[m] = static_cast<float>(corr[k].gain[c] * v + corr[k].offset[c]);
        s.weights[m] = band.coverage[k][i];
        ++m;
      }
      const PixelResult pr = combine_pixel(s.samples.data(), s.weights.data(), m, params, s.reject);
      o.plane(c)[i] = pr.value;
      ++rs.pixels;
      rs.samples += static_cast<std::uint64_t>(m);
      rs.kept += static_cast<std::uint64_t>(pr.kept);
      rs.rejected_low += static_cast<std::uint64_t>(pr.rejected_low);
      rs.rejected_high += static_cast<std::uint64_t>(pr.rejected_high);
      if (m == 0) ++rs.empty_pixels;
    }
    return true;
  }
};

}  // namespace

std::uint64_t megatile_stack_row_bytes(int width, int channels, int megatiles) {
  return static_cast<std::uint64_t>(width) * sizeof(float) *
         (static_cast<std::uint64_t>(megatiles) * (channels + 2) + channels + 2);
}

MegatileStackStats stack_megatiles(const std::vector<MosaicArtifacts>& tiles, const std::vector<TileCorrection>& corr,
                                   const RejectParams& params, double keep_fraction, const BatchCoverage& expected,
                                   int band_rows, int workers, const MosaicArtifacts& out) {
  const int W = out.width, H = out.height, C = out.channels, n = static_cast<int>(tiles.size());
  const Readers rd = open_readers(tiles, W, H, C);
  MegatileStackStats stats;
  MosaicWriters writers(out);
  WorkerArena arena(workers);
  tbb::enumerable_thread_specific<StackScratch> scratch;
  for (int y0 = 0; y0 < H; y0 += band_rows) {
    const int nr = std::min(band_rows, H - y0);
    const std::size_t np = static_cast<std::size_t>(W) * nr;
    const Band band = read_band(rd, y0, nr, np, C);
    stats.peak_band_bytes = std::max(stats.peak_band_bytes, megatile_stack_row_bytes(W, C, n) * nr);
    ImageF o(C, W, nr, kNaN);
    std::vector<float> ow(np, 0.0f), oc(np, 0.0f);
    std::vector<RejectStats> row_stats(static_cast<std::size_t>(nr));
    std::vector<long long> row_masked(static_cast<std::size_t>(nr), 0);
    const PixelStacker stacker{band, corr, params, np, C, keep_fraction};
    arena.run([&] {
      tbb::parallel_for(tbb::blocked_range<int>(0, nr), [&](const tbb::blocked_range<int>& r) {
        StackScratch& s = scratch.local();
        s.samples.resize(static_cast<std::size_t>(n));
        s.weights.resize(static_cast<std::size_t>(n));
        for (int y = r.begin(); y < r.end(); ++y)
          for (int x = 0; x < W; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * W + x;
            if (!stacker.stack(i, expected.at(x, y0 + y), s, o, ow[i], oc[i], row_stats[static_cast<std::size_t>(y)]))
              ++row_masked[static_cast<std::size_t>(y)];
          }
      });
    });
    for (std::size_t y = 0; y < row_stats.size(); ++y) {
      stats.reject += row_stats[y];
      stats.masked_pixels += row_masked[y];
    }
    writers.image.write_rows(y0, nr, o.data.data());
    writers.weight.write_rows(y0, nr, ow.data());
    writers.coverage.write_rows(y0, nr, oc.data());
  }
  writers.commit();
  return stats;
}

}  // namespace zm
