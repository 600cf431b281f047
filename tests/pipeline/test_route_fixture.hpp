// Shared by the route tests: a small simulated 2x2 mosaic over 2 nights, Phase 1 run in-process once, truth helpers.
#pragma once

#include <cstdlib>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include "events/event_stream.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/routes/global_grid.hpp"
#include "pipeline/routes/mosaic_first.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "sim/dataset.hpp"
#include "stars/detect.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"
#include "truth_metrics.hpp"

namespace zm::route_test {
namespace fs = std::filesystem;

inline sim::SimConfig routes_config() {
  sim::SimConfig c;
  c.seed = 23;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 2;
  c.layout.frames_per_pointing = 3;
  c.layout.nights = 2;
  c.layout.width = 320;
  c.layout.height = 256;
  c.layout.overlap = 0.3;
  c.layout.dither_sigma_px = 5.0;
  // A dark sky and a dense field so that per-quadrant gains against the truth are measured to a few 0.1 % (the
  // issue asks 1 %) at 3 frames per pointing and night.
  c.observing.sky_levels_adu = {120.0, 100.0};
  c.sky.star_density_per_deg2 = 45000.0;
  c.observing.vignetting = 0.0;
  c.observing.gradient_fraction = 0.0;
  c.observing.transparency_min = 0.85;  // frames differ in gain: the normalisation has work to do
  c.defects.trail_fraction = 0.1;
  // Diagnostic knobs (unset in CI: the tests' figures are for seed 23 and one seeing for all frames).
  if (const char* e = std::getenv("ZM_PROBE_SEED")) c.seed = static_cast<unsigned>(std::atoi(e));
  if (const char* e = std::getenv("ZM_PROBE_SEEING")) c.sky.seeing_variation = std::atof(e);
  return c;
}

// A RunContext on its own output folder (events and progress owned here).
struct Ctx {
  EventStream events;
  std::unique_ptr<RunProgress> progress;
  RunContext ctx;
  Ctx(const fs::path& input, const fs::path& out, const fs::path& cache, int workers,
      const std::map<std::string, nlohmann::json>& extra = {}) {
    progress = std::make_unique<RunProgress>(events);
    ctx = test::make_test_context(input, out, *progress, workers, extra);
    ctx.cache.root = cache;
    fs::create_directories(cache);
  }
};

// The dataset, written and ingested once per test program.
struct Dataset {
  test::TempDir dir{"routes"};
  sim::DatasetPlan plan = sim::plan_dataset(routes_config());
  sim::DatasetFiles files;
  std::vector<FrameRecord> frames;
  std::string ingest_key;  // Phase 1's settings: part of every route's resume keys
  fs::path input() const { return dir.path() / "data" / sim::kLightsFolder; }
  fs::path out() const { return dir.path() / "out"; }
  fs::path cache() const { return out() / ".zemosaic_cache"; }
  Dataset() {
    files = sim::write_dataset(plan, dir.path() / "data");
    Ctx c(input(), out(), cache(), 2);
    IngestResult ingest = run_phase1(c.ctx, c.ctx.options.ingest);
    frames = std::move(ingest.frames);
    ingest_key = ingest.key;
  }
  static Dataset& get() {
    static Dataset d;
    return d;
  }
};

inline ImageF read_planes(const fs::path& p, int w, int h, int c) { return CachedFrameReader(p, w, h, c).read_all(); }

// The truth reprojected onto the grid.
inline ImageF truth_on_grid(const Dataset& d, const OutputGrid& grid) {
  FitsImageReader tr(d.files.dir / d.files.truth);
  const ImageF truth = tr.read_all(false);
  const Wcs twcs = Wcs::from_header(tr.info().header, tr.info().path, truth.width, truth.height);
  const PixelMap map = compute_pixel_map(grid.wcs, twcs, PixelRect{0, 0, grid.width, grid.height});
  return warp_band(truth, map, Kernel::Lanczos3).image;
}

struct Fit {
  double gain = 0, offset = 0;
  long long n = 0;
};
// mosaic ~ gain * truth + offset over green pixels where keep(x, y) and both are finite.
template <class Keep>
Fit fit_green(const ImageF& mosaic, const ImageF& truth, Keep keep) {
  double sxx = 0, sxy = 0, sx = 0, sy = 0;
  long long n = 0;
  for (int y = 0; y < mosaic.height; ++y)
    for (int x = 0; x < mosaic.width; ++x) {
      if (!keep(x, y)) continue;
      const double t = truth.at(1, y, x), m = mosaic.at(1, y, x);
      if (!std::isfinite(t) || !std::isfinite(m)) continue;
      sxx += t * t; sxy += t * m; sx += t; sy += m; ++n;
    }
  Fit f;
  f.n = n;
  if (n < 2) return f;
  f.gain = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  f.offset = (sy - f.gain * sx) / n;
  return f;
}

// Gains of the mosaic vs the truth in a 2x2 split of the covered canvas (each quadrant is mostly one pointing).
inline std::vector<double> quadrant_gains(const ImageF& mosaic, const ImageF& truth) {
  std::vector<double> g;
  for (int qy = 0; qy < 2; ++qy)
    for (int qx = 0; qx < 2; ++qx) {
      const Fit f = fit_green(mosaic, truth, [&](int x, int y) {
        return x * 2 / mosaic.width == qx && y * 2 / mosaic.height == qy;
      });
      if (f.n > 2000) g.push_back(f.gain);
    }
  return g;
}

// The same 2x2 split measured with catalogue-star aperture fluxes (test::catalogue_gain): blur-invariant, so a
// quadrant whose PSF is wider (more resampling, other nights' seeing) does not read as a lower gain, which a
// pixel-wise fit does. Per quadrant the gain and its 1-sigma.
inline std::vector<test::CatalogueGain> quadrant_catalogue_gains(const Dataset& d, const ImageF& mosaic,
                                                                 const ImageF& truth, Wcs grid) {
  std::vector<test::CatalogueGain> g;
  for (int qy = 0; qy < 2; ++qy)
    for (int qx = 0; qx < 2; ++qx)
      g.push_back(test::catalogue_gain(mosaic, truth, grid, d.plan.sky.stars, [&](int x, int y) {
        return x * 2 / mosaic.width == qx && y * 2 / mosaic.height == qy;
      }));
  return g;
}

// Issue 6: the quadrants' catalogue gains agree within `bound` (max / min - 1). Each gain must be known to better
// than bound / 4 (1 sigma), so the spread of four is resolved; the pixel-wise spread is recorded for comparison.
inline void expect_quadrant_gains_agree(const ImageF& mosaic, const OutputGrid& grid, double bound) {
  const Dataset& d = Dataset::get();
  const ImageF truth = truth_on_grid(d, grid);
  const auto cat = quadrant_catalogue_gains(d, mosaic, truth, grid.wcs);
  const auto pix = quadrant_gains(mosaic, truth);
  ASSERT_EQ(cat.size(), 4u);
  std::vector<double> g;
  std::string listed;
  for (const auto& q : cat) {
    g.push_back(q.gain);
    listed += std::to_string(q.gain) + " +- " + std::to_string(q.sigma) + " (" + std::to_string(q.stars) + " stars) ";
  }
  const double spread = test::gain_spread(g);
  ::testing::Test::RecordProperty("gain_spread", std::to_string(spread));
  ::testing::Test::RecordProperty("pixel_gain_spread", std::to_string(test::gain_spread(pix)));
  if (std::getenv("ZM_TEST_VERBOSE")) std::printf("quadrant gains vs truth: %s| pixel-wise spread %.4f\n", listed.c_str(), test::gain_spread(pix));
  for (const auto& q : cat) {
    ASSERT_GT(q.gain, 0.0) << "too few catalogue stars in a quadrant: " << listed;
    EXPECT_LT(q.sigma / q.gain, bound / 4) << "the metric cannot resolve the bound: " << listed;
  }
  EXPECT_LT(spread, bound) << "quadrant gains vs truth disagree: " << listed;
}

// RMS distance (px) between detected stars and isolated bright catalogue stars through the grid WCS.
inline double star_rms(const Dataset& d, ImageF mosaic, Wcs grid, int* matched) {
  for (auto& v : mosaic.data)
    if (!std::isfinite(v)) v = 0.0f;
  DetectParams dp;
  dp.max_stars = 400;
  const auto found = detect_stars(mosaic.plane(1), mosaic.width, mosaic.height, dp);
  const auto& cat = d.plan.sky.stars;
  double sum2 = 0;
  int n = 0;
  for (const auto& s : cat) {
    if (s.flux[1] < 20000) continue;
    bool isolated = true;
    for (const auto& o : cat)
      if (&o != &s && o.flux[1] > 0.02 * s.flux[1] && std::hypot(o.x_truth - s.x_truth, o.y_truth - s.y_truth) < 8.0)
        isolated = false;
    if (!isolated) continue;
    const auto p = grid.world_to_pixel(s.pos);
    if (!p || p->x < 10 || p->y < 10 || p->x > mosaic.width - 11 || p->y > mosaic.height - 11) continue;
    double best = 4.0;
    for (const auto& f : found) best = std::min(best, std::hypot(f.x - p->x, f.y - p->y));
    if (best < 2.0) {
      sum2 += best * best;
      ++n;
    }
  }
  *matched = n;
  return n ? std::sqrt(sum2 / n) : 1e9;
}

inline bool same_bits(const ImageF& a, const ImageF& b) {
  return a.data.size() == b.data.size() && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)) == 0;
}

}  // namespace zm::route_test
