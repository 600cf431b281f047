// The whole classic pipeline (Phases 1-7) on a small simulated 2x2 mosaic, checked against the simulator's truth:
// outputs, coverage = frame count, photometric gains, seams, star positions, determinism and resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "events/event_stream.hpp"
#include "io/fits_reader.hpp"
#include "photometry/harmonize.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/run.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "sim/dataset.hpp"
#include "stars/detect.hpp"
#include "pipeline_run.hpp"
#include "test_support.hpp"
#include "mosaic_fixture.hpp"
#include "truth_metrics.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

sim::SimConfig mosaic_config() {
  sim::SimConfig c = test::dense_mosaic_config(11, 3);
  // Diagnostic knobs for the photometry probe below (unset in CI: the tests' figures assume the values above).
  if (const char* e = std::getenv("ZM_PROBE_FPP")) c.layout.frames_per_pointing = std::atoi(e);
  if (const char* e = std::getenv("ZM_PROBE_W")) c.layout.width = std::atoi(e);
  if (const char* e = std::getenv("ZM_PROBE_H")) c.layout.height = std::atoi(e);
  if (const char* e = std::getenv("ZM_PROBE_DENS")) c.sky.star_density_per_deg2 = std::atof(e);
  if (const char* e = std::getenv("ZM_PROBE_SEED")) c.seed = std::atoi(e);
  if (const char* e = std::getenv("ZM_PROBE_SKY")) c.observing.sky_levels_adu = {std::atof(e), std::atof(e)};
  return c;
}


using RunResult = test::PipelineRun;

RunResult run(const fs::path& input, const fs::path& out, int workers, const std::map<std::string, nlohmann::json>& extra = {}) {
  return test::run_pipeline_in(input, out, workers, extra);
}

ImageF read_primary(const std::string& path) { return FitsImageReader(path).read_all(false); }

class MosaicRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("mosaic");
    plan_ = new sim::DatasetPlan(sim::plan_dataset(mosaic_config()));
    files_ = new sim::DatasetFiles(sim::write_dataset(*plan_, dir_->path() / "data"));
    std::map<std::string, nlohmann::json> extra{{"cache_retention", "keep"}};
    if (const char* e = std::getenv("ZM_PROBE_REJECT")) extra["stack_reject_algo"] = std::string(e);
    if (const char* e = std::getenv("ZM_PROBE_NORM")) extra["stack_norm_method"] = std::string(e);
    first_ = new RunResult(run(input(), dir_->path() / "out", 2, extra));
  }
  static void TearDownTestSuite() {
    delete first_;
    delete files_;
    delete plan_;
    delete dir_;
  }
  static fs::path input() { return dir_->path() / "data" / sim::kLightsFolder; }

  // The truth reprojected onto the mosaic grid.
  static ImageF truth_on_grid(const Wcs& grid, int w, int h) {
    return test::truth_on_grid(files_->dir / files_->truth, grid, w, h);
  }

  static test::TempDir* dir_;
  static sim::DatasetPlan* plan_;
  static sim::DatasetFiles* files_;
  static RunResult* first_;
};
test::TempDir* MosaicRun::dir_ = nullptr;
sim::DatasetPlan* MosaicRun::plan_ = nullptr;
sim::DatasetFiles* MosaicRun::files_ = nullptr;
RunResult* MosaicRun::first_ = nullptr;

TEST_F(MosaicRun, WritesEveryOutputWithHeaderAndAlpha) {
  const RunOutcome& o = first_->outcome;
  EXPECT_EQ(o.frames_used, 12);
  EXPECT_EQ(o.master_tiles.size(), 4u);
  for (const auto& p : {o.science, o.aesthetic, o.coverage, o.preview}) EXPECT_TRUE(fs::exists(p)) << p;
  FitsImageReader sci(o.science);
  EXPECT_EQ(sci.info().channels, 3);
  EXPECT_EQ(sci.info().header.get_int("NMASTILE").value_or(0), 4);
  EXPECT_EQ(sci.info().header.get_int("NRAWPROC").value_or(0), 12);
  EXPECT_NEAR(sci.info().header.get_double("EXPTOTAL").value_or(0), 120.0, 1e-6);
  EXPECT_EQ(sci.info().header.get_string("ZMROLE").value_or(""), "SCI");
  EXPECT_FALSE(sci.info().header.history().empty());
  EXPECT_EQ(first_->events->with_key("OUTPUT_WRITTEN").size(), 4u);
  EXPECT_EQ(first_->events->with_key("PHOTOMETRY_SOLVED").size(), 1u);
  EXPECT_GE(first_->events->with_key("parallel_plan_summary").size(), 4u);
}

TEST_F(MosaicRun, CoverageEqualsTheTrueFrameCount) {
  FitsImageReader cr(first_->outcome.coverage);
  const ImageF cov = cr.read_all(false);
  Wcs grid = Wcs::from_header(cr.info().header, cr.info().path, cov.width, cov.height);
  // True count: frames whose true footprint holds the pixel, away (>= 4 px) from any frame edge where the kernel
  // support and the stacking border make the answer ambiguous.
  std::vector<Wcs> frames;
  for (const auto& f : plan_->frames) frames.push_back(f.geometry.to_wcs());
  long long checked = 0, equal = 0;
  for (int y = 0; y < cov.height; y += 3)
    for (int x = 0; x < cov.width; x += 3) {
      const SkyCoord s = grid.pixel_to_world({static_cast<double>(x), static_cast<double>(y)});
      int count = 0;
      bool ambiguous = false;
      for (auto& w : frames) {
        const auto p = w.world_to_pixel(s);
        if (!p) continue;
        const double d = std::min({p->x + 0.5, w.width() - 0.5 - p->x, p->y + 0.5, w.height() - 0.5 - p->y});
        if (std::abs(d) < 4.0) ambiguous = true;
        if (d > 0) ++count;
      }
      if (ambiguous) continue;
      ++checked;
      equal += std::lround(cov.at(0, y, x)) == count ? 1 : 0;
    }
  ASSERT_GT(checked, 1000);
  EXPECT_GE(static_cast<double>(equal) / checked, 0.995) << equal << " / " << checked;
}

TEST_F(MosaicRun, TileGainsAgreeAndNoSeams) {
  FitsImageReader sr(first_->outcome.science);
  const ImageF mosaic = sr.read_all(false);
  Wcs grid = Wcs::from_header(sr.info().header, sr.info().path, mosaic.width, mosaic.height);
  const ImageF truth = truth_on_grid(grid, mosaic.width, mosaic.height);
  // per tile: output pixel is >= 12 px inside the tile's data
  const std::vector<std::vector<std::uint8_t>> inside =
      test::tile_interiors(first_->outcome.master_tiles, grid, mosaic.width, mosaic.height);
  // Issue 5: per master tile, the gain of the mosaic against the truth over the part only that tile covers, from
  // catalogue-star aperture fluxes against a PSF-matched truth (truth_metrics.hpp: blur-invariant, unbiased by
  // noise, stars' shot noise in the weights). Each gain must be known to better than 0.5 % / 3 (1 sigma; ~0.11 %
  // here) so that the 0.5 % can be resolved.
  // Measured: 0.43 % on this dataset (seed 11), 1.08 / 0.65 / 0.38 / 0.94 % with seeds 12-15 at 3 frames per
  // tile: Phase 4.5's pair noise (stars' shot noise at 8 ADU per electron, 0.3-0.5 % per pair on overlaps of
  // ~100 x 280 px) dominates at this depth, so the bound here is 1 %. With 9 frames per tile every seed meets
  // issue 5's 0.5 % (test_photometry_seeds asserts it for seeds 11-15).
  const test::TileGains tg = test::tile_gains(mosaic, truth, grid, plan_->sky.stars, inside);
  std::vector<double> gains;
  for (std::size_t k = 0; k < tg.tiles.size(); ++k) {
    const test::CatalogueGain& g = tg.tiles[k];
    ASSERT_GT(g.gain, 0.0) << "too few catalogue stars where only tile " << k << " lies";
    EXPECT_LT(g.sigma / g.gain, 0.005 / 3) << "tile " << k << ": the metric cannot resolve 0.5 %";
    gains.push_back(g.gain);
  }
  const std::string& listed = tg.listed;
  const double spread = test::gain_spread(gains);
  RecordProperty("gain_spread", std::to_string(spread));
  if (std::getenv("ZM_TEST_VERBOSE")) std::printf("tile gains vs truth: %s-> spread %.4f\n", listed.c_str(), spread);
  EXPECT_LT(spread, 0.01) << "per-tile gains vs truth disagree: " << listed;

  // Seams: residual of one global linear fit, median |r| where tiles meet (pixels inside one tile and within
  // 12-16 px of another tile's data edge) against the interiors (inside exactly one tile, far from edges).
  double sxx = 0, sxy = 0, sx = 0, sy = 0;
  long long n = 0;
  for (std::size_t i = 0; i < mosaic.plane_size(); ++i) {
    const double t = truth.data[mosaic.plane_size() + i], m = mosaic.data[mosaic.plane_size() + i];
    if (!std::isfinite(t) || !std::isfinite(m)) continue;
    sxx += t * t; sxy += t * m; sx += t; sy += m; ++n;
  }
  const double g = (n * sxy - sx * sy) / (n * sxx - sx * sx), b = (sy - g * sx) / n;
  std::vector<float> seam, interior;
  for (int y = 16; y < mosaic.height - 16; ++y)
    for (int x = 16; x < mosaic.width - 16; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * mosaic.width + x;
      const double t = truth.at(1, y, x), m = mosaic.at(1, y, x);
      if (!std::isfinite(t) || !std::isfinite(m) || t > 50.0) continue;  // sky only: stars dominate otherwise
      int covering = 0;
      bool at_edge = false;
      for (const auto& in : inside) {
        covering += in[i];
        // An edge of this tile's interior passes within 4 px.
        const bool e = in[i] != in[i - 4] || in[i] != in[i + 4] || in[i] != in[i - 4 * mosaic.width] ||
                       in[i] != in[i + 4 * mosaic.width];
        at_edge = at_edge || e;
      }
      const float r = static_cast<float>(std::abs(m - (g * t + b)));
      if (at_edge && covering >= 1) seam.push_back(r);
      else if (!at_edge && covering == 1) interior.push_back(r);
    }
  ASSERT_GT(seam.size(), 200u);
  ASSERT_GT(interior.size(), 1000u);
  auto median = [](std::vector<float> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  const double ms = median(seam), mi = median(interior);
  RecordProperty("seam_over_interior", std::to_string(ms / mi));
  EXPECT_LE(ms, 1.2 * mi) << "seam median |r| " << ms << " vs interior " << mi;
}

// Diagnostic (ZM_PHOTO_PROBE=1): per master tile, its gain against the truth on its own grid and the frames'
// transparencies; per pair, Phase 4.5's ratio against the ratio of the measured tile gains.
TEST_F(MosaicRun, PhotometryProbe) {
  if (!std::getenv("ZM_PHOTO_PROBE")) GTEST_SKIP() << "diagnostic, set ZM_PHOTO_PROBE=1";
  FitsImageReader tr0(files_->dir / files_->truth);
  const ImageF truth = tr0.read_all(false);
  const Wcs twcs = Wcs::from_header(tr0.info().header, tr0.info().path, truth.width, truth.height);
  std::vector<double> tile_gain;
  std::vector<ImageF> tiles, truths;
  std::vector<Wcs> wcss;
  for (const auto& path : first_->outcome.master_tiles) {
    FitsImageReader tr(path);
    const ImageF tile = tr.read_all(false);
    Wcs tw = Wcs::from_header(tr.info().header, path, tile.width, tile.height);
    const PixelMap map = compute_pixel_map(tw, twcs, PixelRect{0, 0, tile.width, tile.height});
    const ImageF tt = warp_band(truth, map, Kernel::Lanczos3).image;
    tiles.push_back(tile), truths.push_back(tt), wcss.push_back(tw);
    const std::string ref = tr.info().header.get_string("ZMT_REF").value_or("");
    double tref = 0;
    std::string members;
    for (const auto& f : plan_->frames)
      if (f.file_name == ref) tref = f.transparency;
    const auto all = [](int, int) { return true; };
    const auto cg = test::catalogue_gain(tile, tt, tw, plan_->sky.stars, all);
    const auto cg_bright = test::catalogue_gain(tile, tt, tw, plan_->sky.stars, all, 1, 9.0, 4e6);
    const auto cg_small = test::catalogue_gain(tile, tt, tw, plan_->sky.stars, all, 1, 3.0);
    const double fg = test::flux_gain(tile, tt, all);
    tile_gain.push_back(cg.gain);
    std::printf("tile %s ref %s T_ref %.4f | cat %.5f +- %.5f (%d, x%.2f) | cat+sat %.5f (%d) | cat r3 %.5f | flux %.5f | ratio cat/T_ref %.5f\n",
                fs::path(path).filename().c_str(), ref.c_str(), tref, cg.gain, cg.sigma, cg.stars, cg.scale, cg_bright.gain, cg_bright.stars,
                cg_small.gain, fg, cg.gain / tref);
  }
  // The true ratio of each overlap: both tiles measured against the truth over the other tile's footprint.
  std::map<std::pair<int, int>, double> true_a;
  const int nt = static_cast<int>(tiles.size());
  for (int i = 0; i < nt; ++i)
    for (int j = i + 1; j < nt; ++j) {
      const auto inside = [&](int a, int b) {
        return [&, a, b](int x, int y) {
          const auto p = wcss[b].world_to_pixel(wcss[a].pixel_to_world({double(x), double(y)}));
          return p && p->x > 8 && p->y > 8 && p->x < tiles[b].width - 9 && p->y < tiles[b].height - 9 &&
                 std::isfinite(tiles[b].at(1, static_cast<int>(p->y), static_cast<int>(p->x)));
        };
      };
      const auto gi = test::catalogue_gain(tiles[i], truths[i], wcss[i], plan_->sky.stars, inside(i, j));
      const auto gj = test::catalogue_gain(tiles[j], truths[j], wcss[j], plan_->sky.stars, inside(j, i));
      if (gi.gain > 0 && gj.gain > 0) true_a[{i, j}] = gj.gain / gi.gain;
      std::printf("overlap %d-%d: g_i %.5f +- %.5f (%d) g_j %.5f +- %.5f (%d) -> a %.5f (whole-tile ratio %.5f)\n", i, j,
                  gi.gain, gi.sigma, gi.stars, gj.gain, gj.sigma, gj.stars, gj.gain / gi.gain, tile_gain[j] / tile_gain[i]);
    }
  std::vector<TilePreview> previews;
  for (std::size_t k = 0; k < first_->outcome.master_tiles.size(); ++k)
    previews.push_back(read_tile_preview(first_->outcome.master_tiles[k], static_cast<int>(k), 1024));
  const auto variant = [&](const char* name, HarmonizeOptions o) {
    const HarmonizeResult r = harmonize_tiles(previews, o);
    std::printf("%-14s", name);
    for (const auto& p : r.pairs)
      if (p.channel == 1)
        std::printf(" %d-%d %+.2f%%(%.2f)", p.i, p.j, 100 * (p.a / true_a[{p.i, p.j}] - 1), 100 * p.a_rel_sigma);
    std::vector<double> cg;
    for (std::size_t k = 0; k < r.tiles.size(); ++k) cg.push_back(r.tiles[k].gain[1] * tile_gain[k]);
    std::printf(" | spread %.3f%%\n", 100 * test::gain_spread(cg));
  };
  HarmonizeOptions o;
  variant("default", o);
  o.symmetric_flux = false;
  variant("asym", o);
  o.flux.aperture_psf_sigmas = 4.0;
  variant("asym ap4", o);
  o.symmetric_flux = true;
  variant("sym ap4", o);
  o.flux.aperture_psf_sigmas = 2.0;
  o.flux.psf_match = false;
  variant("sym nomatch", o);
  o.symmetric_flux = false;
  variant("asym nomatch", o);
  std::ifstream in(fs::path(first_->outcome.science).parent_path() / "zemosaic_photometry.json");
  const auto j = nlohmann::json::parse(in);
  for (const auto& p : j.at("pairs")) {
    if (p.at("channel") != 1) continue;
    const int a = p.at("i"), b = p.at("j");
    std::printf("pair %d-%d a %.5f +- %.5f (%d src) true %.5f -> err %+.3f %%\n", a, b, p.at("a").get<double>(),
                p.at("a_rel_sigma").get<double>(), p.at("sources").get<int>(), tile_gain[b] / tile_gain[a],
                100 * (p.at("a").get<double>() / (tile_gain[b] / tile_gain[a]) - 1));
  }
  for (std::size_t k = 0; k < j.at("tiles").size(); ++k) {
    const double g = j.at("tiles")[k].at("gain")[1];
    std::printf("tile %zu correction %.5f -> corrected gain %.5f\n", k, g, g * tile_gain[k]);
  }
}

TEST_F(MosaicRun, StarsLandWhereTheTruthSays) {
  FitsImageReader sr(first_->outcome.science);
  ImageF mosaic = sr.read_all(false);
  Wcs grid = Wcs::from_header(sr.info().header, sr.info().path, mosaic.width, mosaic.height);
  for (auto& v : mosaic.data)
    if (!std::isfinite(v)) v = 0.0f;
  DetectParams dp;
  dp.max_stars = 400;
  const auto found = detect_stars(mosaic.plane(1), mosaic.width, mosaic.height, dp);
  const auto& cat = plan_->sky.stars;
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
  ASSERT_GE(n, 8);
  RecordProperty("star_rms_px", std::to_string(std::sqrt(sum2 / n)));
  EXPECT_LT(std::sqrt(sum2 / n), 0.2) << n << " stars";
}

TEST_F(MosaicRun, SameMosaicWithOneWorkerAndIncrementalAssembly) {
  const RunResult other = run(input(), dir_->path() / "out1", 1, {{"final_assembly_method", "incremental"}});
  const ImageF a = read_primary(first_->outcome.science), b = read_primary(other.outcome.science);
  ASSERT_EQ(a.data.size(), b.data.size());
  EXPECT_EQ(0, std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)));
  // run_end retention removed the bulky caches; keep left them.
  EXPECT_FALSE(fs::exists(dir_->path() / "out1" / ".zemosaic_cache" / "frames"));
  EXPECT_TRUE(fs::exists(dir_->path() / "out" / ".zemosaic_cache" / "frames"));
}

TEST_F(MosaicRun, RerunReusesTheFinishedRun) {
  const RunResult again = run(input(), dir_->path() / "out", 2, {{"cache_retention", "keep"}});
  EXPECT_TRUE(again.outcome.reused_complete_run);
  EXPECT_EQ(again.outcome.science, first_->outcome.science);
  EXPECT_EQ(again.events->with_key("PHASE_UPDATE").size(), 1u);  // Phase 7 only
  // A Phase 5 setting change reuses Phases 1-4.5 and recomputes 5-6.
  const RunResult changed = run(input(), dir_->path() / "out", 2, {{"cache_retention", "keep"}, {"phase5_feather_px", 64.0}});
  EXPECT_FALSE(changed.outcome.reused_complete_run);
  std::vector<std::string> reused;
  for (const auto& e : changed.events->with_key("RESUME_REUSED")) reused.push_back(e.fields.at("phase"));
  EXPECT_NE(std::find(reused.begin(), reused.end(), "3"), reused.end());
  EXPECT_NE(std::find(reused.begin(), reused.end(), "4.5"), reused.end());
  EXPECT_EQ(std::find(reused.begin(), reused.end(), "5"), reused.end());
}

}  // namespace
}  // namespace zm
