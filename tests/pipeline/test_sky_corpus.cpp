// Never lose sky (issue 14): a corpus of data shapes, each through every route with 1 and 2 workers. Each run must
// keep >= 99 % of the sky its frames saw, measured here independently of the engine (points spread over every input
// frame, mapped through the frame's own WCS onto the science FITS's WCS), drop no frame, place stars where the truth
// says, and give the same bytes with 1 and 2 workers. Prints a table (shape, route, sky kept, seconds) for the README.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "io/fits_reader.hpp"
#include "route_inputs.hpp"
#include "photometry/flux_ratio.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/routes/grid/stack_plan_csv.hpp"
#include "pipeline_run.hpp"
#include "sim/dataset.hpp"
#include "stars/detect.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;
using Extra = std::map<std::string, nlohmann::json>;

constexpr int kSamplesPerAxis = 24;

struct Route {
  std::string name;
  Extra config;
  bool grid = false;  // runs on the folder holding a stack_plan.csv
};

const std::vector<Route>& routes() {
  static const std::vector<Route> r = {{"classic", {}, false},
                                       {"classic+merge", {{"inter_master_merge", true}}, false},
                                       {"mosaic_first", {{"mosaic_first", true}}, false},
                                       {"sds", {{"sds_mode", true}, {"sds_min_batch", 2}}, false},
                                       {"grid", {}, true}};
  return r;
}

using test::fits_in;
using test::grid_folder;
using Mosaic = test::MosaicImage;
Mosaic read_science(const std::string& path) { return test::read_mosaic_image(path); }

bool has_data(const ImageF& m, long long x, long long y) {
  if (x < 0 || y < 0 || x >= m.width || y >= m.height) return false;
  for (int c = 0; c < m.channels; ++c)
    if (!std::isfinite(m.at(c, static_cast<int>(y), static_cast<int>(x)))) return false;
  return true;
}

// Independently of the engine: the fraction of points spread over every input frame (pixel centres on a regular
// grid, through the frame's own header WCS) where the science FITS has data; and the worst frame's.
struct Kept {
  double all = 0.0;
  double worst_frame = 1.0;
};

Kept sky_kept_by_frames(const std::vector<fs::path>& frames, Mosaic& m) {
  long long n = 0, kept = 0;
  Kept k;
  for (const auto& f : frames) {
    FitsImageReader r(f.string());
    const auto& info = r.info();
    Wcs w = Wcs::from_header(info.header, f.string(), info.width, info.height);
    long long fn = 0, fk = 0;
    for (int j = 0; j < kSamplesPerAxis; ++j)
      for (int i = 0; i < kSamplesPerAxis; ++i) {
        const double x = (i + 0.5) * info.width / kSamplesPerAxis - 0.5;
        const double y = (j + 0.5) * info.height / kSamplesPerAxis - 0.5;
        const auto p = m.wcs.world_to_pixel(w.pixel_to_world({x, y}));
        ++fn;
        fk += p && has_data(m.image, std::llround(p->x), std::llround(p->y)) ? 1 : 0;
      }
    n += fn;
    kept += fk;
    k.worst_frame = std::min(k.worst_frame, static_cast<double>(fk) / fn);
  }
  k.all = n ? static_cast<double>(kept) / n : 0.0;
  return k;
}

// RMS distance (px) between bright isolated catalogue stars and the stars found in the mosaic.
double star_rms(const sim::DatasetPlan& plan, Mosaic m, int* matched) {
  for (auto& v : m.image.data)
    if (!std::isfinite(v)) v = 0.0f;
  DetectParams dp;
  dp.max_stars = 600;
  const int plane = m.image.channels >= 3 ? 1 : 0;
  const auto found = detect_stars(m.image.plane(plane), m.image.width, m.image.height, dp);
  const auto& cat = plan.sky.stars;
  double sum2 = 0;
  int n = 0;
  for (const auto& s : cat) {
    if (s.flux[1] < 20000) continue;
    bool isolated = true;
    for (const auto& o : cat)
      if (&o != &s && o.flux[1] > 0.02 * s.flux[1] && std::hypot(o.x_truth - s.x_truth, o.y_truth - s.y_truth) < 8.0)
        isolated = false;
    if (!isolated) continue;
    const auto p = m.wcs.world_to_pixel(s.pos);
    if (!p) continue;
    const long long px = std::llround(p->x), py = std::llround(p->y);
    // Away from the data's edge: a star the edge cuts has no trustworthy centroid.
    if (!has_data(m.image, px - 10, py) || !has_data(m.image, px + 10, py) || !has_data(m.image, px, py - 10) ||
        !has_data(m.image, px, py + 10))
      continue;
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

// Classic and Mosaic-First agree where both have data: Mosaic-First ~ a x classic (reprojected onto its grid,
// bilinear) + b over the common pixels of the middle plane, with the residual's robust sigma within 3x the noise
// expected of the difference (the two mosaics' own noise, added in quadrature).
void expect_classic_agrees_with_mosaic_first(const std::string& shape, Mosaic classic, Mosaic mf) {
  const int plane = mf.image.channels >= 3 ? 1 : 0;
  const PixelMap map = compute_pixel_map(mf.wcs, classic.wcs, PixelRect{0, 0, mf.image.width, mf.image.height});
  const ImageF on_mf = warp_band(classic.image, map, Kernel::Bilinear).image;
  std::vector<double> x, y;
  for (std::size_t i = 0; i < on_mf.plane_size(); ++i) {
    const float a = on_mf.plane(plane)[i], b = mf.image.plane(plane)[i];
    if (std::isfinite(a) && std::isfinite(b)) x.push_back(a), y.push_back(b);
  }
  ASSERT_GT(x.size(), 1000u) << shape;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  const double n = static_cast<double>(x.size());
  const double a = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - a * sx) / n;
  std::vector<double> r;
  for (std::size_t i = 0; i < x.size(); ++i) r.push_back(y[i] - (a * x[i] + b));
  std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
  const double med = r[r.size() / 2];
  for (double& v : r) v = std::fabs(v - med);
  std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
  const double residual = 1.4826 * r[r.size() / 2];
  const double expected = std::hypot(plane_noise_sigma(mf.image.plane(plane), mf.image.width, mf.image.height),
                                     plane_noise_sigma(on_mf.plane(plane), on_mf.width, on_mf.height));
  std::printf("  classic vs Mosaic-First: gain %.4f, residual %.4g, expected noise %.4g\n", a, residual, expected);
  // The fit's gain is free: each route anchors its photometry on its own tile or frame.
  EXPECT_LT(residual, 3.0 * expected) << shape;
}

std::string pixels(const std::string& science) {
  const std::vector<float> v = FitsImageReader(science).read_all(false).data;
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// Every route, 1 and 2 workers, on `lights`; `plan` (simulated shapes) checks star positions.
void check_shape(const std::string& shape, const fs::path& lights, const fs::path& work, const sim::DatasetPlan* plan,
                 bool compare_classic_mf = false) {
  const std::vector<fs::path> frames = fits_in(lights);
  const fs::path grid_in = grid_folder(lights, work / "grid_input");
  std::map<std::string, std::string> science;  // route -> science FITS (2 workers)
  for (const Route& route : routes()) {
    std::string bytes[2];
    for (int workers : {1, 2}) {
      const Extra& cfg = route.config;
      const auto t0 = std::chrono::steady_clock::now();
      const test::PipelineRun run = test::run_pipeline_in(route.grid ? grid_in : lights,
                                                          work / (route.name + "_j" + std::to_string(workers)),
                                                          workers, cfg);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::string what = shape + " / " + route.name + " / " + std::to_string(workers) + " worker(s)";
      ASSERT_FALSE(run.outcome.science.empty()) << what;
      Mosaic m = read_science(run.outcome.science);
      const Kept kept = sky_kept_by_frames(frames, m);
      std::printf("| %s | %s | %d | %.4f | %.4f | %.4f | %.1f s |\n", shape.c_str(), route.name.c_str(), workers,
                  run.outcome.sky_kept_fraction, kept.all, kept.worst_frame, seconds);
      EXPECT_GE(kept.all, 0.99) << what;
      EXPECT_GE(run.outcome.sky_kept_fraction, 0.99) << what;
      EXPECT_TRUE(run.events->with_key(pipeline_keys::kSkyLost).empty()) << what;
      EXPECT_EQ(run.outcome.frames_used, static_cast<int>(frames.size())) << what;
      if (plan != nullptr && workers == 2) {
        int n = 0;
        const double rms = star_rms(*plan, m, &n);
        std::printf("  star rms %.3f px over %d stars\n", rms, n);
        EXPECT_GE(n, 5) << what;
        EXPECT_LT(rms, 0.2) << what << ": " << n << " stars";
      }
      bytes[workers - 1] = pixels(run.outcome.science);
      if (workers == 2) science[route.name] = run.outcome.science;
    }
    EXPECT_TRUE(bytes[0] == bytes[1]) << shape << " / " << route.name << ": 1 and 2 workers differ";
  }
  if (compare_classic_mf)
    expect_classic_agrees_with_mosaic_first(shape, read_science(science.at("classic")),
                                            read_science(science.at("mosaic_first")));
}

sim::SimConfig small(unsigned seed) {
  sim::SimConfig c;
  c.seed = seed;
  c.layout.width = 160;
  c.layout.height = 240;
  c.layout.dither_sigma_px = 3.0;
  c.sky.star_density_per_deg2 = 30000.0;
  c.defects.trail_fraction = 0.0;
  c.write_truth = false;
  return c;
}

void run_simulated(const std::string& shape, const sim::SimConfig& c, bool compare_classic_mf = false) {
  test::TempDir dir("corpus");
  const sim::DatasetPlan plan = sim::plan_dataset(c);
  sim::write_dataset(plan, dir.path() / "data");
  check_shape(shape, dir.path() / "data" / sim::kLightsFolder, dir.path(), &plan, compare_classic_mf);
}

// 1. One frame per pointing, 5 x 4, 25 % overlap, each frame rolled up to +-3 degrees.
TEST(SkyCorpus, SingleFramesPerPointing) {
  sim::SimConfig c = small(31);
  c.layout.grid_cols = 5;
  c.layout.grid_rows = 4;
  c.layout.frames_per_pointing = 1;
  c.layout.overlap = 0.25;
  c.layout.roll_deg = 3.0;
  run_simulated("5x4 single frames", c, true);
}

// 2. Two nights of one 2 x 2 mosaic, the second night turned 70 degrees against the first.
TEST(SkyCorpus, NightsRotatedAgainstEachOther) {
  sim::SimConfig c = small(32);
  c.layout.frames_per_pointing = 3;
  c.layout.nights = 2;
  c.layout.night_rotation_deg = 70.0;
  run_simulated("2x2, 2 nights at 70 deg", c);
}

// 3. One pointing whose 30 frames drift by half a frame over the night.
TEST(SkyCorpus, DriftingPointing) {
  sim::SimConfig c = small(33);
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 30;
  c.layout.drift_px = 80.0;
  run_simulated("30 frames drifting half a frame", c);
}

// 5. The simulator's usual 2 x 2 x 8 Seestar set (at a fifth of the size).
TEST(SkyCorpus, SeestarSet) {
  sim::SimConfig c = small(34);
  c.layout.width = 216;
  c.layout.height = 384;
  c.layout.dither_sigma_px = 15.0 / 5;
  run_simulated("2x2x8 Seestar", c);
}

// 4. The real 2MASS K_s tiles of M 17 (2 x 4, with WCS).
TEST(SkyCorpus, RealTwoMassTiles) {
  const fs::path tiles = fs::path(ZM_SHARED_DIR) / "data" / "real" / "twomass_m17_k";
  if (!fs::exists(tiles)) GTEST_SKIP() << "no shared data at " << tiles;
  test::TempDir dir("corpus_2mass");
  check_shape("2MASS M17 tiles", tiles, dir.path(), nullptr, true);
}

}  // namespace
}  // namespace zm
