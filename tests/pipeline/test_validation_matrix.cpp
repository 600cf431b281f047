// Issue 6's validation matrix: the simulator's multi-night dataset through every route with 1 and 2 workers, each
// cell checked against the truth (frames, gains, seams, stars), each route against itself across worker counts,
// and every two routes against each other in their common area.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>

#include "pipeline/run.hpp"
#include "pipeline/pipeline_events.hpp"
#include "photometry/flux_ratio.hpp"
#include "pipeline_run.hpp"
#include "test_route_fixture.hpp"

namespace zm {
namespace {
using namespace route_test;

// Issue 6 asks 1 %. Measured with the catalogue-star metric (each quadrant's gain known to ~0.1 %): classic 0.78 %,
// classic + merge 0.68 %, Mosaic-First 0.57 %, SDS 0.59 %, grid 0.58 % (seed 23; ZM_PROBE_SEED=24 / 25: classic
// 0.47 / 0.33 %, merge 0.44 / 0.25 %, Mosaic-First 0.67 / 0.52 %, SDS 0.57 / 0.36 %, grid 0.67 / 0.51 %). The frame
// routes were at 0.63 / 1.31 / 0.67 % before their star fluxes took a local annulus sky and small runs measured
// every overlapping frame pair. Before star-flux gains in Phase 3
// (stack_star_gains) classic was at 1.07 %; before solve_star_photometry measured every star in one aperture radius
// and dropped stars at frame edges the frame routes were at 1.10-1.12 %.
double gain_spread_bound(const std::string&) { return 0.01; }

using test::Recorder;

struct Route {
  std::string name;   // the cell's name
  std::string route;  // what ZMROUTE must say
  std::map<std::string, nlohmann::json> config;
  bool grid_plan = false;  // input = a folder holding only a stack_plan.csv that lists every frame
};

const std::vector<Route>& routes() {
  static const std::vector<Route> r = {
      {"classic", "classic", {}},
      // Each pointing's 6 frames split into two tiles of 3 (one per night), which the merge stacks back together.
      {"classic_merge", "classic", {{"inter_master_merge", true}, {"max_raw_per_master_tile", 3}}},
      {"mosaic_first", "mosaic_first", {{"mosaic_first", true}}},
      {"sds", "sds", {{"sds_mode", true}, {"sds_batch_by_night", true}, {"sds_min_coverage_keep", 0.0}}},
      {"grid", "grid", {{"grid_size_factor", 1.0}}, true},
  };
  return r;
}

struct Cell {
  RunOutcome outcome;
  std::shared_ptr<Recorder> events;
  ImageF mosaic;
  mutable std::optional<Wcs> wcs_;  // wcslib evaluation mutates its state
  Wcs& wcs() const { return *wcs_; }
  std::string route_header;
  long long frames_used = 0, frames_found = 0;
};

// Absolute paths of every frame, in name order.
fs::path grid_plan_input() {
  const Dataset& d = Dataset::get();
  const fs::path dir = d.dir.path() / "grid_input";
  if (!fs::exists(dir / "stack_plan.csv")) {
    fs::create_directories(dir);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d.input()))
      if (e.is_regular_file()) files.push_back(fs::absolute(e.path()));
    std::sort(files.begin(), files.end());
    std::ofstream csv(dir / "stack_plan.csv");
    csv << "file_path,exposure\n";
    for (const auto& f : files) csv << f.string() << ",10\n";
  }
  return dir;
}

Cell run_cell(const Route& route, int workers) {
  const Dataset& d = Dataset::get();
  const fs::path out = d.dir.path() / ("matrix_" + route.name + "_" + std::to_string(workers));
  test::PipelineRun run =
      test::run_pipeline_in(route.grid_plan ? grid_plan_input() : d.input(), out, workers, route.config);
  Cell c{std::move(run.outcome), std::move(run.events), {}, std::nullopt, "", 0, 0};
  FitsImageReader r(c.outcome.science);
  c.mosaic = r.read_all(false);
  c.wcs_ = Wcs::from_header(r.info().header, r.info().path, c.mosaic.width, c.mosaic.height);
  c.route_header = r.info().header.get_string("ZMROUTE").value_or("");
  c.frames_used = r.info().header.get_int("NRAWPROC").value_or(-1);
  c.frames_found = r.info().header.get_int("NRAWINIT").value_or(-1);
  return c;
}

class Matrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cells_ = new std::map<std::pair<std::string, int>, Cell>;
    for (const auto& r : routes())
      for (int w : {1, 2}) cells_->emplace(std::make_pair(r.name, w), run_cell(r, w));
  }
  static void TearDownTestSuite() { delete cells_; }
  static const Cell& cell(const std::string& route, int workers) { return cells_->at({route, workers}); }
  static std::map<std::pair<std::string, int>, Cell>* cells_;
};
std::map<std::pair<std::string, int>, Cell>* Matrix::cells_ = nullptr;

// Distance (px, on the mosaic grid) from each output pixel to the nearest frame data edge, and the number of frames
// covering it: the seams of every route lie along frame (and so tile) edges.
struct EdgeMap {
  std::vector<float> edge_distance;
  std::vector<std::uint8_t> covering;
};

EdgeMap edge_map(const Cell& c) {
  const auto& frames = Dataset::get().frames;
  const int w = c.mosaic.width, h = c.mosaic.height;
  EdgeMap m{std::vector<float>(static_cast<std::size_t>(w) * h, 1e9f), std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h, 0)};
  std::vector<Wcs> fw;
  for (const auto& f : frames) fw.push_back(f.make_wcs());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const SkyCoord s = c.wcs().pixel_to_world({double(x), double(y)});
      const std::size_t i = static_cast<std::size_t>(y) * w + x;
      for (std::size_t k = 0; k < fw.size(); ++k) {
        const auto p = fw[k].world_to_pixel(s);
        if (!p) continue;
        const double d = std::min({p->x + 0.5, frames[k].width - 0.5 - p->x, p->y + 0.5, frames[k].height - 0.5 - p->y});
        m.edge_distance[i] = std::min(m.edge_distance[i], static_cast<float>(std::abs(d)));
        if (d > 0) ++m.covering[i];
      }
    }
  return m;
}

TEST_F(Matrix, EveryCellCompletesWithNoFrameDropped) {
  const int given = static_cast<int>(Dataset::get().plan.frames.size());
  for (const auto& [key, c] : *cells_) {
    SCOPED_TRACE(key.first + " x" + std::to_string(key.second));
    EXPECT_TRUE(fs::exists(c.outcome.science));
    const auto r = std::find_if(routes().begin(), routes().end(), [&](const Route& x) { return x.name == key.first; });
    EXPECT_EQ(c.route_header, r->route);
    EXPECT_EQ(c.frames_found, given);
    const int rejected = c.events->count(pipeline_keys::kInputSetAside) + c.events->count(pipeline_keys::kFrameNotRegistered);
    EXPECT_EQ(c.frames_used, given - rejected);
    EXPECT_EQ(c.events->count(pipeline_keys::kRouteFallback), 0);
    const auto selected = c.events->with_key(pipeline_keys::kRouteSelected);
    ASSERT_EQ(selected.size(), 1u);
    EXPECT_EQ(selected[0].fields.at("route"), r->route);
    EXPECT_GE(c.events->count("parallel_plan_summary"), 2);
    EXPECT_GT(c.events->count("ETA_UPDATE"), 0);
  }
}

TEST_F(Matrix, TheMergeStacksEachPointingsTwoNights) {
  const Cell& c = cell("classic_merge", 2);
  const auto merged = c.events->with_key("INTER_MASTER_MERGE");
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].fields.at("groups").size(), 4u) << merged[0].fields.dump();
  EXPECT_EQ(c.outcome.master_tiles.size(), 8u);
}

TEST_F(Matrix, EachRouteIsBitIdenticalWithOneAndTwoWorkers) {
  for (const auto& r : routes()) {
    SCOPED_TRACE(r.name);
    EXPECT_TRUE(same_bits(cell(r.name, 1).mosaic, cell(r.name, 2).mosaic));
  }
}

TEST_F(Matrix, StarsLandWhereTheTruthSays) {
  for (const auto& r : routes()) {
    const Cell& c = cell(r.name, 2);
    int n = 0;
    const double rms = star_rms(Dataset::get(), c.mosaic, c.wcs(), &n);
    RecordProperty(r.name + "_star_rms_px", std::to_string(rms));
    EXPECT_GE(n, 8) << r.name;
    EXPECT_LT(rms, 0.2) << r.name << ": " << n << " stars";
  }
}

// Gains per quadrant of the canvas (each mostly one pointing) from catalogue-star aperture fluxes against the truth
// (blur-invariant; each with its own 1-sigma, which must resolve the bound).
TEST_F(Matrix, GainsAgreeWithTheTruthAcrossTheCanvas) {
  for (const auto& r : routes()) {
    const Cell& c = cell(r.name, 2);
    const OutputGrid grid{c.wcs(), c.mosaic.width, c.mosaic.height, 0.0, 0.0, {}};
    const ImageF truth = truth_on_grid(Dataset::get(), grid);
    const auto q = quadrant_catalogue_gains(Dataset::get(), c.mosaic, truth, c.wcs());
    ASSERT_EQ(q.size(), 4u) << r.name;
    std::vector<double> gains;
    for (const auto& g : q) {
      EXPECT_GT(g.gain, 0.0) << r.name;
      // Known to better than half the bound (classic + merge has one quadrant at ~0.46 %, the others ~0.1 %).
      EXPECT_LT(g.sigma / std::max(g.gain, 1e-9), gain_spread_bound(r.name) / 2) << r.name << ": metric too coarse";
      gains.push_back(g.gain);
    }
    const double spread = test::gain_spread(gains);
    RecordProperty(r.name + "_gain_spread", std::to_string(spread));
    std::printf("%s quadrant gains: %.4f %.4f %.4f %.4f (+- %.4f), spread %.4f\n", r.name.c_str(), gains[0], gains[1],
                gains[2], gains[3], q[0].sigma, spread);
    EXPECT_LT(spread, gain_spread_bound(r.name)) << r.name;
  }
}

// Seam metric: residual of one global linear fit against the truth, median |r| on sky pixels where a frame edge
// passes within 4 px (inside data) against pixels >= 20 px from every frame edge.
TEST_F(Matrix, NoSeamsAlongFrameAndTileEdges) {
  for (const auto& r : routes()) {
    const Cell& c = cell(r.name, 2);
    const OutputGrid grid{c.wcs(), c.mosaic.width, c.mosaic.height, 0.0, 0.0, {}};
    const ImageF truth = truth_on_grid(Dataset::get(), grid);
    const Fit f = fit_green(c.mosaic, truth, [](int, int) { return true; });
    const EdgeMap em = edge_map(c);
    std::vector<float> seam, interior;
    for (int y = 0; y < c.mosaic.height; ++y)
      for (int x = 0; x < c.mosaic.width; ++x) {
        const std::size_t i = static_cast<std::size_t>(y) * c.mosaic.width + x;
        const double t = truth.at(1, y, x), m = c.mosaic.at(1, y, x);
        if (!std::isfinite(t) || !std::isfinite(m) || t > 50.0 || em.covering[i] == 0) continue;
        const float res = static_cast<float>(std::abs(m - (f.gain * t + f.offset)));
        if (em.edge_distance[i] < 4.0f) seam.push_back(res);
        else if (em.edge_distance[i] >= 20.0f) interior.push_back(res);
      }
    ASSERT_GT(seam.size(), 1000u) << r.name;
    ASSERT_GT(interior.size(), 1000u) << r.name;
    auto median = [](std::vector<float>& v) {
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      return v[v.size() / 2];
    };
    const double ms = median(seam), mi = median(interior);
    RecordProperty(r.name + "_seam_ratio", std::to_string(ms / mi));
    std::printf("%s seam %.2f interior %.2f ratio %.3f\n", r.name.c_str(), ms, mi, ms / mi);
    EXPECT_LE(ms, 1.2 * mi) << r.name;
  }
}

// Any two routes agree in their common area within 3x the noise expected of the difference, after a linear fit
// (the routes may differ by a gain and a sky level).
TEST_F(Matrix, RoutesAgreeWithEachOther) {
  for (std::size_t a = 0; a < routes().size(); ++a)
    for (std::size_t b = a + 1; b < routes().size(); ++b) {
      const Cell& ca = cell(routes()[a].name, 2);
      const Cell& cb = cell(routes()[b].name, 2);
      const PixelMap map = compute_pixel_map(ca.wcs(), cb.wcs(), PixelRect{0, 0, ca.mosaic.width, ca.mosaic.height});
      const ImageF bo = warp_band(cb.mosaic, map, Kernel::Lanczos3).image;
      const Fit f = fit_green(bo, ca.mosaic, [](int, int) { return true; });
      std::vector<float> res;
      for (std::size_t i = 0; i < ca.mosaic.plane_size(); ++i) {
        const float x = ca.mosaic.plane(1)[i], y = bo.plane(1)[i];
        if (std::isfinite(x) && std::isfinite(y)) res.push_back(static_cast<float>(y - (f.gain * x + f.offset)));
      }
      ASSERT_GT(res.size(), 10000u);
      for (auto& v : res) v = std::abs(v);
      std::nth_element(res.begin(), res.begin() + res.size() / 2, res.end());
      const double robust_sigma = 1.4826 * res[res.size() / 2];
      const double sa = plane_noise_sigma(ca.mosaic.plane(1), ca.mosaic.width, ca.mosaic.height);
      const double sb = plane_noise_sigma(cb.mosaic.plane(1), cb.mosaic.width, cb.mosaic.height);
      const double expected = std::hypot(sa, f.gain * sb);
      std::printf("%s vs %s: residual %.2f, expected noise %.2f (%.2f, %.2f), gain %.4f\n", routes()[a].name.c_str(),
                  routes()[b].name.c_str(), robust_sigma, expected, sa, sb, f.gain);
      EXPECT_LT(robust_sigma, 3.0 * expected) << routes()[a].name << " vs " << routes()[b].name;
    }
}

}  // namespace
}  // namespace zm
