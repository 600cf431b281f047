// Stacking accuracy of a master tile against the simulator's ground truth (issue 4, "Stacking" done-when item).
//
// A 16-frame group is simulated with a flat background (no gradient, no vignetting) so that the tile must equal
// gain * truth + offset + noise per channel. Phases 1-3 run in process with the default stacking settings
// (linear_fit normalisation, noise_variance weights, winsorized sigma clip 3/3, mean, Lanczos-3).
//
// Truth on the tile grid: the sky model rendered analytically through the tile's WCS (sim::render_sky_rgb is what
// truth.fits is made of, on another grid), so no resampling error enters the truth itself.
//
// sigma_frame: every preprocessed frame (the cached, debayered, hot-pixel-corrected planes the stacker reads) is
// resampled onto the tile grid with the stacker's kernel through its TRUE WCS (independent of the pipeline's
// registration), fitted to the truth with its own (gain, offset) and its residual RMS measured on the same
// star-free pixels as the tile. Dividing by the fitted gain puts every frame in truth units. The per-pixel
// variance after debayering and resampling is thus measured, not modelled: resampling correlates neighbouring
// pixels of one frame (which changes the variance per pixel, captured here) but the noise of different frames
// stays independent, so the variance of the mean of N frames is exactly mean(sigma_k^2) / N. Spatial correlation
// only makes the RMS estimate itself noisier, which the thousands of pixels in the region make negligible.
//   ideal = sqrt(mean_k (sigma_k / g_k)^2) / sqrt(N)       (equal-weight mean of the N frames)
//   ratio = (sigma_tile / g_tile) / ideal                  (asserted in [0.85, 1.2])
// The lower bound catches a stacker that smooths (it would beat the ideal); noise_variance weights can beat the
// equal-weight ideal by a little, the rejection of ~1 % of the samples loses a little.
//
// Noise region: fully covered (every resampled frame and the tile finite), star light < kStarFreeAdu in every
// channel, and outside every frame's defect footprint (trail within 5 sigma_trail + 3 px, hot pixel +-2 px), so
// single-frame sigmas measure noise, not defects.
// Trails and hot pixels: tile pixels (star-free, fully covered) under any frame's trail core (2 sigma_trail + 1 px)
// or within 1 px of any frame's hot pixel, residual against the truth in units of the tile's sky-region RMS:
// at most 1 % beyond 3 sigma (Gaussian 0.27 %), |mean| < 0.25 sigma, RMS < 1.3 sigma. Unrejected, a trail
// (300..3000 ADU peak, ~60 ADU frame noise) would put the tile 1..10 sigma off on its core.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numeric>

#include "events/event_stream.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/classic/phase2_cluster.hpp"
#include "pipeline/classic/phase3_master_tiles.hpp"
#include "reproject/kernels.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

constexpr int kFrames = 16;
constexpr double kStarFreeAdu = 0.5;  // star light below this in every channel (tile noise is ~20 ADU)

sim::SimConfig truth_config() {
  sim::SimConfig c;
  c.seed = 23;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = kFrames;
  c.layout.width = 360;
  c.layout.height = 480;
  c.layout.dither_sigma_px = 6.0;
  c.observing.vignetting = 0.0;
  c.observing.gradient_fraction = 0.0;
  c.observing.hot_pixel_fraction = 2e-4;
  c.sky.star_density_per_deg2 = 5000.0;
  c.sky.nebula_peak_adu = 300.0;  // contrast for the gain fit
  c.defects.trail_fraction = 0.25;
  c.write_truth = false;
  return c;
}

struct Fit {
  double gain = 0.0, offset = 0.0, rms = 0.0;
};

// Least squares y = g x + o over the masked pixels, and the RMS of the residual.
Fit fit_linear(const float* y, const float* x, const std::vector<std::uint8_t>& mask) {
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) {
      n += 1;
      sx += x[i];
      sy += y[i];
      sxx += double(x[i]) * x[i];
      sxy += double(x[i]) * y[i];
    }
  Fit f;
  const double den = n * sxx - sx * sx;
  f.gain = den > 0 ? (n * sxy - sx * sy) / den : 0.0;
  f.offset = (sy - f.gain * sx) / n;
  double ss = 0;
  for (std::size_t i = 0; i < mask.size(); ++i)
    if (mask[i]) {
      const double r = y[i] - (f.gain * x[i] + f.offset);
      ss += r * r;
    }
  f.rms = std::sqrt(ss / (n - 2));
  return f;
}

double segment_distance(double px, double py, const sim::Trail& t) {
  const double dx = t.x1 - t.x0, dy = t.y1 - t.y0, l2 = dx * dx + dy * dy;
  const double u = l2 > 0 ? std::clamp(((px - t.x0) * dx + (py - t.y0) * dy) / l2, 0.0, 1.0) : 0.0;
  return std::hypot(px - (t.x0 + u * dx), py - (t.y0 + u * dy));
}

class StackVsTruth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("p13truth");
    plan_ = new sim::DatasetPlan(sim::plan_dataset(truth_config()));
    sim::write_dataset(*plan_, dir_->path() / "data");
    EventStream events;
    RunProgress progress(events);
    Config config;
    std::filesystem::create_directories(dir_->path() / "out");
    const RunContext ctx = make_run_context(dir_->path() / "data" / sim::kLightsFolder, dir_->path() / "out", config,
                                            probe_capabilities(dir_->path() / "out"), progress);
    std::filesystem::create_directories(ctx.cache.root);
    const IngestResult ingest = run_phase1(ctx, ctx.options.ingest);
    records_ = new std::vector<FrameRecord>(ingest.frames);
    const auto groups = run_phase2(ctx, ctx.options.cluster, *records_);
    const auto tiles = run_phase3(ctx, ctx.options.master_tiles, ingest, groups);
    ASSERT_EQ(tiles.size(), 1u);
    tile_path_ = new std::string(tiles[0].path);
    frames_dir_ = new std::filesystem::path(ctx.cache.frames());
  }
  static void TearDownTestSuite() {
    delete records_;
    delete tile_path_;
    delete frames_dir_;
    delete plan_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static sim::DatasetPlan* plan_;
  static std::vector<FrameRecord>* records_;
  static std::string* tile_path_;
  static std::filesystem::path* frames_dir_;
};
test::TempDir* StackVsTruth::dir_ = nullptr;
sim::DatasetPlan* StackVsTruth::plan_ = nullptr;
std::vector<FrameRecord>* StackVsTruth::records_ = nullptr;
std::string* StackVsTruth::tile_path_ = nullptr;
std::filesystem::path* StackVsTruth::frames_dir_ = nullptr;

TEST_F(StackVsTruth, NoiseWithinTwentyPercentOfIdealAndTrailsRejected) {
  ASSERT_EQ(static_cast<int>(records_->size()), kFrames);
  FitsImageReader reader(*tile_path_);
  const ImageF tile = reader.read_all(false);
  ASSERT_EQ(reader.info().header.get_int("ZMT_NSTK").value_or(0), kFrames);
  Wcs tile_wcs = Wcs::from_header(reader.info().header, *tile_path_);
  tile_wcs.set_size(tile.width, tile.height);
  const int W = tile.width, H = tile.height, C = tile.channels;
  ASSERT_EQ(C, 3);
  const std::size_t npix = static_cast<std::size_t>(W) * H;

  const ImageF truth = sim::render_sky_rgb(plan_->sky, tile_wcs);
  sim::SkyModel stars_only = plan_->sky;
  stars_only.nebula = sim::Nebula{};
  const ImageF star_light = sim::render_sky_rgb(stars_only, tile_wcs);

  // Tile pixel -> sky, once.
  std::vector<double> tx(npix), ty(npix), ra(npix), dec(npix);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      tx[static_cast<std::size_t>(y) * W + x] = x;
      ty[static_cast<std::size_t>(y) * W + x] = y;
    }
  tile_wcs.pixel_to_world(tx, ty, ra, dec);

  std::map<std::string, const sim::FramePlan*> by_name;
  for (const auto& f : plan_->frames) by_name[f.file_name] = &f;

  // Every frame resampled onto the tile grid through its true WCS, plus trail / hot-pixel footprints.
  std::vector<ImageF> warped;
  const std::string ref_name = reader.info().header.get_string("ZMT_REF").value_or("");
  int ref_pos = -1;
  std::vector<std::uint8_t> trail(npix, 0), hot(npix, 0), defect(npix, 0);
  std::vector<double> fx(npix), fy(npix);
  int trails = 0;
  for (const FrameRecord& r : *records_) {
    const sim::FramePlan* fp = by_name.at(std::filesystem::path(r.path).filename().string());
    Wcs fw = fp->geometry.to_wcs();
    fw.world_to_pixel(ra, dec, fx, fy);
    const ImageF img = CachedFrameReader(*frames_dir_ / r.cache_file, r.width, r.height, r.channels).read_all();
    ImageF out(C, W, H);
    for (int c = 0; c < C; ++c)
      resample_row(img.plane(c), img.width, img.height, fx.data(), fy.data(), static_cast<int>(npix), Kernel::Lanczos3,
                   out.plane(c));
    if (std::filesystem::path(r.path).filename().string() == ref_name) ref_pos = static_cast<int>(warped.size());
    warped.push_back(std::move(out));
    trails += static_cast<int>(fp->trails.size());
    for (std::size_t i = 0; i < npix; ++i)
      for (const auto& t : fp->trails) {
        const double d = segment_distance(fx[i], fy[i], t);
        if (d <= 2.0 * t.sigma_px + 1.0) trail[i] = 1;
        if (d <= 5.0 * t.sigma_px + 3.0) defect[i] = 1;  // trail light < 1e-5 of its peak, plus the kernel reach
      }
    for (const auto& h : plan_->hot_pixels) {
      auto p = tile_wcs.world_to_pixel(fw.pixel_to_world({double(h.x), double(h.y)}));
      if (!p) continue;
      const int px = static_cast<int>(std::lround(p->x)), py = static_cast<int>(std::lround(p->y));
      for (int dy = -2; dy <= 2; ++dy)
        for (int dx = -2; dx <= 2; ++dx) {
          const int x = px + dx, y = py + dy;
          if (x < 0 || y < 0 || x >= W || y >= H) continue;
          defect[static_cast<std::size_t>(y) * W + x] = 1;
          if (std::abs(dx) <= 1 && std::abs(dy) <= 1) hot[static_cast<std::size_t>(y) * W + x] = 1;
        }
    }
  }
  ASSERT_GE(trails, 3);
  ASSERT_GE(ref_pos, 0) << "ZMT_REF " << ref_name;

  // Star-free, fully covered pixels (every frame and the tile finite), 4 px from the edges.
  std::vector<std::uint8_t> sky(npix, 0);
  std::size_t sky_count = 0;
  for (int y = 4; y < H - 4; ++y)
    for (int x = 4; x < W - 4; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * W + x;
      bool ok = true;
      for (int c = 0; c < C && ok; ++c) {
        ok = star_light.plane(c)[i] < kStarFreeAdu && std::isfinite(tile.plane(c)[i]);
        for (const auto& w : warped) ok = ok && std::isfinite(w.plane(c)[i]);
      }
      sky[i] = ok;
      sky_count += ok;
    }
  std::vector<std::uint8_t> clean(npix, 0);
  std::size_t clean_count = 0;
  for (std::size_t i = 0; i < npix; ++i) {
    clean[i] = sky[i] && !defect[i];
    clean_count += clean[i];
  }
  ASSERT_GT(clean_count, npix / 5) << "star- and defect-free region too small";

  for (int c = 0; c < C; ++c) {
    const Fit ft = fit_linear(tile.plane(c), truth.plane(c), clean);
    double sum_sq = 0, inv_sum = 0;
    for (const auto& w : warped) {
      const Fit ff = fit_linear(w.plane(c), truth.plane(c), clean);
      const double s = ff.rms / ff.gain;
      sum_sq += s * s;
      inv_sum += 1.0 / (s * s);
      EXPECT_GT(ff.gain, 0.7) << "frame gain fit, channel " << c;  // transparency is 0.85..1
      EXPECT_LT(ff.gain, 1.1) << "frame gain fit, channel " << c;
    }
    // Normalisation puts every frame on the reference's photometric scale: the tile's gain is the reference's.
    const double ref_gain = fit_linear(warped[ref_pos].plane(c), truth.plane(c), clean).gain;
    EXPECT_NEAR(ft.gain / ref_gain, 1.0, 0.03) << "channel " << c << ": tile gain " << ft.gain << ", reference "
                                               << ref_gain;
    const double sigma_frame = std::sqrt(sum_sq / kFrames);
    const double ideal = sigma_frame / std::sqrt(double(kFrames));
    const double ideal_weighted = 1.0 / std::sqrt(inv_sum);
    const double tile_noise = ft.rms / ft.gain;
    const double ratio = tile_noise / ideal;
    RecordProperty("noise_ratio_c" + std::to_string(c), std::to_string(ratio));
    std::printf("channel %d: clean sky px %zu, reference gain %.4f, tile gain %.4f offset %.2f, tile residual RMS %.3f ADU (%.3f truth units); "
                "sigma_frame %.3f, ideal sigma_frame/sqrt(%d) %.3f, inverse-variance ideal %.3f; ratio %.3f\n",
                c, clean_count, ref_gain, ft.gain, ft.offset, ft.rms, tile_noise, sigma_frame, kFrames, ideal, ideal_weighted,
                ratio);
    EXPECT_LE(ratio, 1.2) << "channel " << c;
    EXPECT_GE(ratio, 0.85) << "channel " << c << ": noise below the ideal means the stack smooths";

    // Trails and hot pixels: residuals in units of the tile's sky RMS.
    auto check_sites = [&](const std::vector<std::uint8_t>& sites, const char* what, std::size_t min_sites) {
      std::size_t n = 0, beyond = 0;
      double sum = 0, ss = 0, worst = 0;
      for (std::size_t i = 0; i < npix; ++i) {
        if (!sites[i] || !sky[i]) continue;
        const double r = (tile.plane(c)[i] - (ft.gain * truth.plane(c)[i] + ft.offset)) / ft.rms;
        ++n;
        sum += r;
        ss += r * r;
        worst = std::max(worst, std::fabs(r));
        beyond += std::fabs(r) > 3.0;
      }
      ASSERT_GE(n, min_sites) << what;
      std::printf("  %s pixels %zu: mean %.3f sigma, RMS %.3f sigma, max |r| %.2f sigma, beyond 3 sigma %.2f %%\n",
                  what, n, sum / n, std::sqrt(ss / n), worst, 100.0 * beyond / n);
      EXPECT_LE(double(beyond) / n, 0.01) << what << " channel " << c;  // Gaussian: 0.27 %
      EXPECT_LT(std::fabs(sum / n), 0.25) << what << " channel " << c;
      EXPECT_LT(std::sqrt(ss / n), 1.3) << what << " channel " << c;
    };
    check_sites(trail, "trail", 200);
    check_sites(hot, "hot-pixel", 100);
  }
}

}  // namespace
}  // namespace zm
