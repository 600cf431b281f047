// Phase 4.5 inter-master merge: overlap fraction on analytic quadrilaterals, grouping, and a merged super tile
// checked against an analytic sky (gain, noise, star positions), determinism, resume and the disabled path.
#include <gtest/gtest.h>

#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <random>

#include "events/event_stream.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "photometry/flux_ratio.hpp"
#include "pipeline/merge/phase45_merge.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/merge/super_tile.hpp"
#include "pipeline/merge/tile_overlap.hpp"
#include "reproject/coadd_io.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "stars/detect.hpp"
#include "event_recorder.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

// ---- overlap fraction on analytic shapes ----

std::vector<PlanePoint> square(double cx, double cy, double side, double angle_deg = 0.0) {
  const double a = angle_deg * M_PI / 180.0, h = side / 2;
  std::vector<PlanePoint> p;
  for (auto [u, v] : {std::pair{-h, -h}, {h, -h}, {h, h}, {-h, h}})
    p.push_back({cx + u * std::cos(a) - v * std::sin(a), cy + u * std::sin(a) + v * std::cos(a)});
  return p;
}

TEST(QuadOverlap, AnalyticCases) {
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 1), square(0.5, 0, 1)), 0.5, 1e-12);
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 1), square(0.5, 0.5, 1)), 0.25, 1e-12);
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 1), square(0.3, -0.2, 1)), 0.7 * 0.8, 1e-12);
  // A unit square and its copy turned 45 degrees about the centre share a regular octagon of area 2 (sqrt 2 - 1).
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 1), square(0, 0, 1, 45)), 2 * (std::sqrt(2.0) - 1), 1e-12);
  // Normalised by the smaller area: a 1x1 square half inside a 2x2 one.
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 2), square(1, 0, 1)), 0.5, 1e-12);
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 2), square(0.2, 0.1, 1, 30)), 1.0, 1e-12);
  EXPECT_EQ(quad_overlap_fraction(square(0, 0, 1), square(2, 0, 1)), 0.0);
  EXPECT_EQ(quad_overlap_fraction(square(0, 0, 1), {{0, 0}, {1, 0}, {2, 0}, {3, 0}}), 0.0);  // no area
  // Clockwise input gives the same answer.
  auto cw = square(0.5, 0, 1);
  std::reverse(cw.begin(), cw.end());
  EXPECT_NEAR(quad_overlap_fraction(square(0, 0, 1), cw), 0.5, 1e-12);
  EXPECT_NEAR(polygon_area(square(3, 4, 2, 17)), 4.0, 1e-12);
}

constexpr double kScaleDeg = 2.4 / 3600.0;
const SkyCoord kCentre{150.0, 30.0};

Wcs tile_wcs(double dx_px, double dy_px, double pa_deg, int w, int h) {
  // Tile centre dx, dy pixels away from kCentre on a north-up TAN plane at kCentre.
  Wcs base = Wcs::make_tan(kCentre, {0, 0}, {-kScaleDeg, 0, 0, kScaleDeg}, w, h);
  const SkyCoord c = base.pixel_to_world({dx_px, dy_px});
  const double a = pa_deg * M_PI / 180.0;
  return Wcs::make_tan(c, {(w - 1) / 2.0, (h - 1) / 2.0},
                       {-kScaleDeg * std::cos(a), kScaleDeg * std::sin(a), kScaleDeg * std::sin(a),
                        kScaleDeg * std::cos(a)},
                       w, h);
}

TEST(FootprintOverlap, ShiftedTilesOnTheSky) {
  const Wcs a = tile_wcs(0, 0, 0, 400, 300);
  EXPECT_NEAR(footprint_overlap_fraction(a, tile_wcs(40, 0, 0, 400, 300)), 0.9, 2e-3);
  EXPECT_NEAR(footprint_overlap_fraction(a, tile_wcs(100, 75, 0, 400, 300)), 0.75 * 0.75, 2e-3);
  EXPECT_NEAR(footprint_overlap_fraction(a, tile_wcs(0, 0, 0, 200, 150)), 1.0, 2e-3);  // contained
  EXPECT_EQ(footprint_overlap_fraction(a, tile_wcs(2000, 0, 0, 400, 300)), 0.0);
  // Turned 90 degrees about the same centre: a 300 x 300 square in common, over the 400 x 300 area.
  EXPECT_NEAR(footprint_overlap_fraction(a, tile_wcs(0, 0, 90, 400, 300)), 0.75, 2e-3);
}

TEST(OverlapGroups, ComponentsThresholdAndChunks) {
  std::vector<Wcs> f = {tile_wcs(0, 0, 0, 400, 300), tile_wcs(3000, 0, 0, 400, 300), tile_wcs(40, 10, 1, 400, 300),
                        tile_wcs(300, 0, 0, 400, 300)};
  EXPECT_EQ(overlap_groups(f, 0.6, 2, 64), (std::vector<std::vector<int>>{{0, 2}}));
  EXPECT_EQ(overlap_groups(f, 0.2, 2, 64), (std::vector<std::vector<int>>{{0, 2, 3}}));
  EXPECT_TRUE(overlap_groups(f, 0.6, 3, 64).empty());
  // A chain of five tiles 10 % apart is one component; chunks of <= 2 in breadth-first order: 2 + 2 + 1, and the
  // single tile left is not a group.
  std::vector<Wcs> chain;
  for (int k = 0; k < 5; ++k) chain.push_back(tile_wcs(40.0 * k, 0, 0, 400, 300));
  EXPECT_EQ(overlap_groups(chain, 0.6, 2, 2), (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  EXPECT_EQ(overlap_groups(chain, 0.6, 2, 64).size(), 1u);
}

TEST(SuperTileMemory, BandRowsFollowTheBudget) {
  const TileInfo t{.id = 1,
                   .path = "",
                   .signature = "",
                   .wcs = Wcs::make_tan({10, 20}, {0, 0}, {-1e-3, 0, 0, 1e-3}, 1080, 1920),
                   .width = 1080,
                   .height = 1920,
                   .channels = 3,
                   .frames = 1,
                   .exposure_s = 0.0,
                   .date_beg = "",
                   .date_end = ""};
  const std::vector<TileInfo> members(3, t);
  const SuperTileMemory m = super_tile_memory(members, 1200, 2000);
  EXPECT_EQ(m.resident, 3ull * 1080 * 1920 * 5 + 1200ull * 2000 * 4);
  EXPECT_GE(m.per_row, 3ull * 1200 * 3 * 4);  // at least the warped members
  EXPECT_EQ(super_tile_band_rows(m, 0, 2000), 2000);                       // no budget: one band
  EXPECT_EQ(super_tile_band_rows(m, 1ull << 40, 2000), 2000);              // everything fits
  EXPECT_EQ(super_tile_band_rows(m, m.resident / 2, 2000), 16);            // floor
  EXPECT_EQ(super_tile_band_rows(m, m.resident + 100 * m.per_row, 2000), 100);
  EXPECT_EQ(super_tile_band_rows(m, 1, 10), 10);                           // a cutout under 16 rows
}

// ---- a simulated layout: one pointing on two nights (A, B) plus a neighbour (C) ----

struct TrueStar {
  SkyCoord pos;
  std::array<double, 3> flux;
};

constexpr int kW = 320, kH = 240;
constexpr double kPsfSigma = 1.5;

std::vector<TrueStar> catalogue() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> ux(-300, 600), uy(-200, 200), uf(0, 1);
  Wcs plane = Wcs::make_tan(kCentre, {0, 0}, {-kScaleDeg, 0, 0, kScaleDeg}, 1, 1);
  std::vector<TrueStar> stars;
  for (int i = 0; i < 450; ++i) {
    const double x = ux(rng), y = uy(rng);
    const double f = 2000.0 * std::pow(40.0, uf(rng));  // 2000 .. 80000 ADU
    stars.push_back({plane.pixel_to_world({x, y}), {0.8 * f, f, 0.6 * f}});
  }
  return stars;
}

// Sky + gain * stars (sampled Gaussians), plus Gaussian noise when noise > 0.
ImageF render(const std::vector<TrueStar>& stars, Wcs wcs, int w, int h, double gain, std::array<double, 3> sky,
              double noise, unsigned seed) {
  ImageF img(3, w, h);
  for (int c = 0; c < 3; ++c) std::fill(img.plane(c), img.plane(c) + img.plane_size(), static_cast<float>(sky[c]));
  for (const auto& s : stars) {
    const auto p = wcs.world_to_pixel(s.pos);
    if (!p || p->x < -10 || p->y < -10 || p->x > w + 10 || p->y > h + 10) continue;
    for (int y = std::max(0, int(p->y) - 8); y <= std::min(h - 1, int(p->y) + 8); ++y)
      for (int x = std::max(0, int(p->x) - 8); x <= std::min(w - 1, int(p->x) + 8); ++x) {
        const double r2 = (x - p->x) * (x - p->x) + (y - p->y) * (y - p->y);
        const double psf = std::exp(-r2 / (2 * kPsfSigma * kPsfSigma)) / (2 * M_PI * kPsfSigma * kPsfSigma);
        for (int c = 0; c < 3; ++c) img.at(c, y, x) += static_cast<float>(gain * s.flux[c] * psf);
      }
  }
  if (noise > 0) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> n(0.0, noise);
    for (auto& v : img.data) v += static_cast<float>(n(rng));
  }
  return img;
}

struct TileSpec {
  int id;
  double dx, dy, pa;
  double gain;
  std::array<double, 3> sky;
  double noise;
  int frames;
  std::string date_beg, date_end;
};

TileInfo write_tile(const fs::path& dir, const std::vector<TrueStar>& stars, const TileSpec& s) {
  const Wcs wcs = tile_wcs(s.dx, s.dy, s.pa, kW, kH);
  const ImageF img = render(stars, wcs, kW, kH, s.gain, s.sky, s.noise, 100 + s.id);
  FitsHeader h;
  wcs.write_to_header(h);
  h.set("ZMT_NSTK", static_cast<long long>(s.frames));
  h.set("EXPTOTAL", 10.0 * s.frames);
  h.set("DATE-BEG", s.date_beg);
  h.set("DATE-END", s.date_end);
  h.set("ALPHAEXT", 1LL);
  std::vector<std::uint8_t> alpha(img.plane_size(), 255);
  std::vector<float> cov(img.plane_size(), static_cast<float>(s.frames));
  const std::vector<FitsExtension> ext = {{"ALPHA", kW, kH, alpha, {}, {}}, {"COVERAGE", kW, kH, {}, cov, {}}};
  const fs::path path = dir / ("master_tile_" + std::to_string(s.id) + ".fits");
  write_fits_float(path, img, h, ext);
  return read_tile_infos({MasterTileInfo{s.id, path.string(), s.frames, "sig" + std::to_string(s.id), false}}).front();
}

using test::Recorder;

struct MergeRun {
  std::vector<TileInfo> tiles;
  std::shared_ptr<Recorder> events;
};

MergeRun run_merge(const fs::path& out, const std::vector<TileInfo>& tiles, const OutputGrid& grid, int workers,
                   const std::map<std::string, nlohmann::json>& extra = {{"inter_master_merge", true}}) {
  EventStream events;
  auto rec = std::make_shared<Recorder>();
  events.add_sink(rec);
  RunProgress progress(events);
  std::map<std::string, nlohmann::json> config = extra;
  config["assume_cores"] = 8;
  const RunContext ctx = test::make_test_context({}, out, progress, workers, config);
  return {run_phase45_merge(ctx, ctx.options.merge, tiles, grid), rec};
}

ImageF read_primary(const std::string& path) { return FitsImageReader(path).read_all(false); }

Wcs header_wcs(const std::string& path) {
  FitsImageReader r(path);
  return Wcs::from_header(r.info().header, path, r.info().width, r.info().height);
}

// A member (or any tile file) warped onto `grid` with the merge's kernel.
ImageF on_grid(const std::string& path, const Wcs& grid) {
  const ImageF img = read_primary(path);
  const Wcs w = header_wcs(path);
  return warp_band(img, compute_pixel_map(grid, w, PixelRect{0, 0, grid.width(), grid.height()}), Kernel::Lanczos3)
      .image;
}

// Gain of `img` against the noise-free truth on the same grid (flux_ratio, green channel).
double gain_vs_truth(const ImageF& img, const ImageF& truth) {
  std::vector<std::uint8_t> valid(img.plane_size());
  for (std::size_t i = 0; i < valid.size(); ++i)
    valid[i] = std::isfinite(img.data[i]) && std::isfinite(img.data[img.plane_size() + i]) &&
               std::isfinite(img.data[2 * img.plane_size() + i]);
  PlaneSet x{{truth.plane(0), truth.plane(1), truth.plane(2)}, {0.01, 0.01, 0.01}};
  PlaneSet y{{img.plane(0), img.plane(1), img.plane(2)}, {}};
  for (int c = 0; c < 3; ++c) y.sigma.push_back(std::max(0.01, plane_noise_sigma(img.plane(c), img.width, img.height)));
  const auto r = flux_ratio(x, y, valid, img.width, img.height);
  EXPECT_TRUE(r[1].ok);
  return r[1].a;
}

class MergeSim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("merge");
    stars_ = new std::vector<TrueStar>(catalogue());
    const fs::path tiles = dir_->path() / "tiles";
    fs::create_directories(tiles);
    // B: the same pointing a night later, dithered and rolled, through thinner sky (gain 0.8) with a darker
    // background; its noise in its own units is 0.8 x A's so both carry the same noise once normalised.
    const std::vector<TileSpec> specs = {
        {1, 0, 0, 0.0, 1.0, {800, 900, 700}, 12.0, 4, "2025-03-27T01:00:00", "2025-03-27T01:10:00"},
        {2, 9, -6, 0.6, 0.8, {560, 640, 500}, 9.6, 4, "2025-03-28T01:00:00", "2025-03-28T01:12:00"},
        {3, 240, 4, 0.0, 0.9, {700, 800, 600}, 12.0, 4, "2025-03-27T02:00:00", "2025-03-27T02:10:00"}};
    tiles_ = new std::vector<TileInfo>();
    for (const auto& s : specs) tiles_->push_back(write_tile(tiles, *stars_, s));
    std::vector<ImageFootprint> fp;
    for (const auto& t : *tiles_) fp.push_back({t.wcs, t.width, t.height});
    grid_ = new OutputGrid(find_optimal_grid(fp));
    first_ = new MergeRun(run_merge(dir_->path() / "out2", *tiles_, *grid_, 2));
  }
  static void TearDownTestSuite() {
    delete first_;
    delete grid_;
    delete tiles_;
    delete stars_;
    delete dir_;
  }
  static const TileInfo& super() { return first_->tiles.front(); }

  static test::TempDir* dir_;
  static std::vector<TrueStar>* stars_;
  static std::vector<TileInfo>* tiles_;
  static OutputGrid* grid_;
  static MergeRun* first_;
};
test::TempDir* MergeSim::dir_ = nullptr;
std::vector<TrueStar>* MergeSim::stars_ = nullptr;
std::vector<TileInfo>* MergeSim::tiles_ = nullptr;
OutputGrid* MergeSim::grid_ = nullptr;
MergeRun* MergeSim::first_ = nullptr;

TEST_F(MergeSim, GroupsTheTwoNightsAndLeavesTheNeighbour) {
  EXPECT_NEAR(footprint_overlap_fraction((*tiles_)[0].wcs, (*tiles_)[1].wcs), (311.0 / 320) * (234.0 / 240), 0.02);
  EXPECT_LT(footprint_overlap_fraction((*tiles_)[0].wcs, (*tiles_)[2].wcs), 0.3);
  ASSERT_EQ(first_->tiles.size(), 2u);
  EXPECT_EQ(super().id, 1);
  EXPECT_NE(super().path, (*tiles_)[0].path);
  EXPECT_EQ(first_->tiles[1].path, (*tiles_)[2].path);
  EXPECT_EQ(super().frames, 8);
  EXPECT_NEAR(super().exposure_s, 80.0, 1e-9);
  EXPECT_EQ(super().date_beg, "2025-03-27T01:00:00");
  EXPECT_EQ(super().date_end, "2025-03-28T01:12:00");
  const auto merged = first_->events->with_key(pipeline_keys::kInterMasterMerge);
  ASSERT_EQ(merged.size(), 1u);
  const auto& groups = merged[0].fields.at("groups");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].at("members"), nlohmann::json({1, 2}));
  EXPECT_EQ(groups[0].at("super_tile"), 1);
  EXPECT_EQ(groups[0].at("anchor"), 1);
  bool plan_seen = false;
  for (const auto& e : first_->events->with_key("parallel_plan_summary"))
    plan_seen = plan_seen || e.fields.at("kind") == "phase45_merge";
  EXPECT_TRUE(plan_seen);
  ASSERT_FALSE(first_->events->with_key("PHASE_UPDATE").empty());
  // The super tile covers the group and nothing of C beyond it; ALPHA and COVERAGE agree with the data.
  FitsImageReader r(super().path);
  EXPECT_EQ(r.info().header.get_string("ZMT_MEMB").value_or(""), "1,2");
  const ImageF img = r.read_all(false);
  EXPECT_EQ(img.channels, 3);
  const auto ext = coadd_io::read_tile_extensions(super().path, img.width, img.height);
  ASSERT_TRUE(ext.alpha && ext.coverage);
  long long both = 0;
  for (std::size_t i = 0; i < img.plane_size(); ++i) {
    EXPECT_EQ((*ext.alpha)[i] > 0, std::isfinite(img.data[img.plane_size() + i]));
    both += (*ext.coverage)[i] == 8.0f;
  }
  EXPECT_GT(both, static_cast<long long>(0.8 * kW * kH));
}

TEST_F(MergeSim, GainsAgreeWithTheAnchorAfterNormalisation) {
  Wcs sw = super().wcs;
  const ImageF truth = render(*stars_, sw, super().width, super().height, 1.0, {0, 0, 0}, 0, 0);
  const double g_super = gain_vs_truth(read_primary(super().path), truth);
  const auto groups = first_->events->with_key(pipeline_keys::kInterMasterMerge)[0].fields.at("groups");
  const auto gains = groups[0].at("gains");
  std::vector<double> normalised;
  for (int k = 0; k < 2; ++k) {
    const TileInfo& m = (*tiles_)[k];
    const ImageF t = render(*stars_, m.wcs, m.width, m.height, 1.0, {0, 0, 0}, 0, 0);
    normalised.push_back(gain_vs_truth(read_primary(m.path), t) * gains[k][1].get<double>());
  }
  RecordProperty("super_gain", std::to_string(g_super));
  RecordProperty("member_gains_normalised", std::to_string(normalised[0]) + " " + std::to_string(normalised[1]));
  RecordProperty("b_correction_gain", std::to_string(gains[1][1].get<double>()));
  EXPECT_NEAR(gains[0][1].get<double>(), 1.0, 1e-12);  // the anchor keeps its scale
  EXPECT_NEAR(gains[1][1].get<double>(), 1.25, 0.02);   // B through thinner sky
  const double lo = std::min({g_super, normalised[0], normalised[1]});
  const double hi = std::max({g_super, normalised[0], normalised[1]});
  EXPECT_LT(hi / lo - 1.0, 0.01) << g_super << " " << normalised[0] << " " << normalised[1];
  EXPECT_NEAR(g_super, 1.0, 0.01);
}

TEST_F(MergeSim, NoiseFallsLikeTwoEqualMembers) {
  Wcs sw = super().wcs;
  const ImageF s = read_primary(super().path);
  const auto gains = first_->events->with_key(pipeline_keys::kInterMasterMerge)[0].fields.at("groups")[0].at("gains");
  const double n_super = plane_noise_sigma(s.plane(1), s.width, s.height);
  double n_members = 0;
  for (int k = 0; k < 2; ++k) {
    const ImageF m = on_grid((*tiles_)[k].path, sw);
    const double n = plane_noise_sigma(m.plane(1), m.width, m.height) * gains[k][1].get<double>();
    EXPECT_LT(n_super, 0.8 * n) << "member " << k;
    n_members += n / 2;
  }
  RecordProperty("noise_ratio", std::to_string(n_super / n_members));
  EXPECT_NEAR(n_super / n_members, 1.0 / std::sqrt(2.0), 0.06);
}

TEST_F(MergeSim, StarsLandWhereTheTruthSays) {
  Wcs sw = super().wcs;
  ImageF s = read_primary(super().path);
  for (auto& v : s.data)
    if (!std::isfinite(v)) v = 0.0f;
  DetectParams dp;
  dp.max_stars = 400;
  const auto found = detect_stars(s.plane(1), s.width, s.height, dp);
  double sum2 = 0;
  int n = 0;
  for (const auto& t : *stars_) {
    if (t.flux[1] < 10000) continue;
    const auto p = sw.world_to_pixel(t.pos);
    if (!p || p->x < 12 || p->y < 12 || p->x > s.width - 13 || p->y > s.height - 13) continue;
    bool isolated = true;
    for (const auto& o : *stars_) {
      const auto q = sw.world_to_pixel(o.pos);
      if (&o != &t && q && o.flux[1] > 0.02 * t.flux[1] && std::hypot(q->x - p->x, q->y - p->y) < 8) isolated = false;
    }
    if (!isolated) continue;
    double best = 4.0;
    for (const auto& f : found) best = std::min(best, std::hypot(f.x - p->x, f.y - p->y));
    ASSERT_LT(best, 2.0) << "star at " << p->x << ", " << p->y << " not found";
    sum2 += best * best;
    ++n;
  }
  ASSERT_GE(n, 10);
  RecordProperty("star_rms_px", std::to_string(std::sqrt(sum2 / n)));
  EXPECT_LT(std::sqrt(sum2 / n), 0.2) << n << " stars";
}

TEST_F(MergeSim, BitIdenticalForWorkersAndBands) {
  const MergeRun one = run_merge(dir_->path() / "out1", *tiles_, *grid_, 1);
  const ImageF a = read_primary(super().path), b = read_primary(one.tiles.front().path);
  ASSERT_EQ(a.data.size(), b.data.size());
  EXPECT_EQ(0, std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)));
  // Narrow bands, one thread.
  SuperTileOptions o;
  o.rows_per_band = 37;
  o.photometry.overlap_min = 0.0;
  o.photometry.flux.clip_sigma = o.photometry.clip_sigma = 3.0;
  const std::vector<TileInfo> members = {(*tiles_)[0], (*tiles_)[1]};
  const fs::path p = dir_->path() / "banded.fits";
  tbb::task_arena arena(1);
  SuperTileResult r;
  arena.execute([&] { r = build_super_tile(1, members, *grid_, p, o); });
  EXPECT_EQ(r.band_rows, 37);
  const ImageF c = read_primary(p.string());
  ASSERT_EQ(a.data.size(), c.data.size());
  EXPECT_EQ(0, std::memcmp(a.data.data(), c.data.data(), a.data.size() * sizeof(float)));
}

TEST_F(MergeSim, RerunReusesTheSuperTile) {
  const auto before = fs::last_write_time(super().path);
  const MergeRun again = run_merge(dir_->path() / "out2", *tiles_, *grid_, 2);
  ASSERT_EQ(again.tiles.size(), 2u);
  EXPECT_EQ(again.tiles.front().path, super().path);
  EXPECT_EQ(again.tiles.front().signature, super().signature);
  EXPECT_EQ(fs::last_write_time(super().path), before);
  ASSERT_EQ(again.events->with_key("RESUME_REUSED").size(), 1u);
  // A merge setting changes the super tile's key: built again.
  const MergeRun changed = run_merge(dir_->path() / "out2", *tiles_, *grid_, 2,
                                     {{"inter_master_merge", true}, {"inter_master_stack_method", "mean"}});
  EXPECT_TRUE(changed.events->with_key("RESUME_REUSED").empty());
  EXPECT_NE(changed.tiles.front().signature, super().signature);
}

TEST_F(MergeSim, DisabledIsIdentityAndSilent) {
  const MergeRun off = run_merge(dir_->path() / "off", *tiles_, *grid_, 2, {});
  ASSERT_EQ(off.tiles.size(), tiles_->size());
  for (std::size_t i = 0; i < tiles_->size(); ++i) EXPECT_EQ(off.tiles[i].path, (*tiles_)[i].path);
  EXPECT_EQ(off.events->size(), 0u);
  EXPECT_FALSE(fs::exists(dir_->path() / "off" / ".zemosaic_cache" / "phase45_merge"));
  // Enabled but a threshold no pair reaches: the tiles pass through, the event says no groups.
  const MergeRun none = run_merge(dir_->path() / "none", *tiles_, *grid_, 2,
                                  {{"inter_master_merge", true}, {"inter_master_overlap_threshold", 0.99}});
  EXPECT_EQ(none.tiles.size(), 3u);
  ASSERT_EQ(none.events->with_key(pipeline_keys::kInterMasterMerge).size(), 1u);
  EXPECT_TRUE(none.events->with_key(pipeline_keys::kInterMasterMerge)[0].fields.at("groups").empty());
}

}  // namespace
}  // namespace zm
