// coadd_tiles: exactness on an identity grid, accuracy and seams on an analytic sky, photometric corrections,
// coverage counts, bit-identity across methods / workers / band sizes / budgets, cancellation and progress.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fits_writer.hpp"
#include "reproject/coadd.hpp"
#include "reproject/feather.hpp"
#include "reproject_test_util.hpp"
#include "sched/cancel_token.hpp"
#include "test_support.hpp"

namespace {

using namespace zm;
using zm::reproject_test::kDeg;
using zm::reproject_test::tan_wcs;
namespace fs = std::filesystem;
using zm::reproject_test::read_raw;

const SkyCoord kCentre{150.0, 30.0};
constexpr double kScale = 2.5;  // arcsec / px, tiles and canvas alike

struct Star {
  SkyCoord pos;
  double amp;
};

// Stars on a lattice over the field, sigma 5" (2 px): well sampled, so every kernel resolves them.
std::vector<Star> make_stars() {
  std::vector<Star> s;
  for (int j = -4; j <= 4; ++j)
    for (int i = -6; i <= 6; ++i) {
      const double ddec = j * 30.0 / 3600.0 + 0.0021 * ((i * 7 + j * 3) % 5);
      const double dra = (i * 33.0 / 3600.0 + 0.0017 * ((i * 3 + j * 5) % 4)) / std::cos(kCentre.dec * kDeg);
      s.push_back({{kCentre.ra + dra, kCentre.dec + ddec}, 150.0 + 40.0 * ((i + j + 20) % 6)});
    }
  return s;
}

double star_flux(const std::vector<Star>& stars, double ra, double dec) {
  double f = 0.0;
  const double sigma = 5.0;
  for (const Star& s : stars) {
    const double dx = (ra - s.pos.ra) * std::cos(s.pos.dec * kDeg) * 3600.0;
    const double dy = (dec - s.pos.dec) * 3600.0;
    const double r2 = dx * dx + dy * dy;
    if (r2 < 400.0) f += s.amp * std::exp(-r2 / (2 * sigma * sigma));
  }
  return f;
}

// Renders the analytic sky (smooth background, channel-scaled, plus stars) on `grid`.
ImageF render(const Wcs& grid, int channels, const std::vector<Star>& stars) {
  Wcs w = grid;
  std::vector<double> ra, dec;
  reproject_test::pixel_sky(w, w.width(), w.height(), ra, dec);
  ImageF img(channels, w.width(), w.height());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    const double f = star_flux(stars, ra[i], dec[i]);
    for (int c = 0; c < channels; ++c)
      img.plane(c)[i] = static_cast<float>(reproject_test::sky_function(ra[i], dec[i]) * (1.0 + 0.25 * c) + f);
  }
  return img;
}

// Writes a master tile: data (0 where alpha is 0, as ZeMosaic exports), ALPHA, optional constant COVERAGE.
void write_tile(const fs::path& path, const Wcs& wcs, ImageF img, const std::vector<std::uint8_t>& alpha,
                float coverage) {
  for (int c = 0; c < img.channels; ++c)
    for (std::size_t i = 0; i < alpha.size(); ++i)
      if (alpha[i] == 0) img.plane(c)[i] = 0.0f;
  FitsHeader h;
  wcs.write_to_header(h);
  std::vector<FitsExtension> ext;
  ext.push_back(FitsExtension{"ALPHA", img.width, img.height, alpha, {}, {}});
  if (coverage > 0)
    ext.push_back(FitsExtension{"COVERAGE", img.width, img.height, {}, std::vector<float>(alpha.size(), coverage), {}});
  write_fits_float(path, img, h, ext);
}

// Alpha with a ragged no-data margin: a 4 px strip on the left and a cut corner (like a cropped, rotated stack).
std::vector<std::uint8_t> ragged_alpha(int w, int h) {
  std::vector<std::uint8_t> a(static_cast<std::size_t>(w) * h, 255);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x < 4 || x + y < 25) a[static_cast<std::size_t>(y) * w + x] = 0;
  return a;
}

struct Result {
  CoaddStats stats;
  std::vector<float> image, weight, coverage;
};

struct CoaddTest : ::testing::Test {
  test::TempDir dir{"coadd"};
  int counter = 0;

  Result run(const std::vector<CoaddInput>& tiles, const Wcs& out, int channels, const CoaddOptions& opt) {
    const std::string tag = "run" + std::to_string(counter++);
    CoaddOutputs o{dir / (tag + "_image.raw"), dir / (tag + "_weight.raw"), dir / (tag + "_cov.raw")};
    CoaddOptions o2 = opt;
    if (o2.scratch_dir.empty()) o2.scratch_dir = dir.path() / "scratch";
    Result r;
    r.stats = coadd_tiles(tiles, out, out.width(), out.height(), channels, o2, o);
    if (r.stats.cancelled) return r;
    r.image = read_raw(o.image);
    r.weight = read_raw(o.weight);
    r.coverage = read_raw(o.coverage);
    return r;
  }
};

// Two overlapping 3-channel tiles on rotated TAN grids and a north-up canvas covering their union.
struct TwoTiles {
  std::vector<CoaddInput> tiles;
  Wcs out = tan_wcs(kCentre, kScale, 0.0, 330, 230);
  std::vector<Star> stars = make_stars();

  // With `photometric`, tile b is stored as (sky - o) / g and carries gain g / offset o, so only a coadd that
  // applies the correction matches the sky (an uncorrected one shows a 10 % step at the seam).
  explicit TwoTiles(const fs::path& dir, float cov_a = 5.0f, float cov_b = 7.0f, bool photometric = false) {
    const double ddeg = 62 * kScale / 3600.0 / std::cos(kCentre.dec * kDeg);
    const Wcs a = tan_wcs({kCentre.ra + ddeg, kCentre.dec + 0.004}, kScale, 9.0, 200, 160);
    const Wcs b = tan_wcs({kCentre.ra - ddeg, kCentre.dec - 0.003}, kScale, -12.0, 210, 150);
    int k = 0;
    for (const Wcs& w : {a, b}) {
      const fs::path p = dir / ("tile" + std::to_string(k) + ".fits");
      ImageF img = render(w, 3, stars);
      CoaddInput in{p, w, w.width(), w.height(), 3};
      if (photometric && k == 1) {
        in.gain = {1.1f, 0.9f, 1.05f};
        in.offset = {-4.0f, 6.0f, 2.5f};
        for (int c = 0; c < 3; ++c)
          for (std::size_t i = 0; i < img.plane_size(); ++i)
            img.plane(c)[i] = static_cast<float>((img.plane(c)[i] - double(in.offset[c])) / double(in.gain[c]));
      }
      write_tile(p, w, img, ragged_alpha(w.width(), w.height()), k == 0 ? cov_a : cov_b);
      tiles.push_back(in);
      ++k;
    }
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_F(CoaddTest, IdentityCoaddOfOneTileReproducesIt) {
  const Wcs w = tan_wcs(kCentre, kScale, 17.0, 120, 90);
  const ImageF img = reproject_test::random_image(3, 120, 90, 5);
  const auto alpha = ragged_alpha(120, 90);
  const fs::path p = dir / "one.fits";
  write_tile(p, w, img, alpha, 4.0f);
  for (Kernel k : {Kernel::Lanczos3, Kernel::Bicubic, Kernel::Bilinear, Kernel::Nearest}) {
    CoaddOptions opt;
    opt.kernel = k;
    opt.band_rows = 32;
    opt.feather_px = 16;
    const Result r = run({CoaddInput{p, w, 120, 90, 3}}, w, 3, opt);
    auto fw = feather_weights(alpha, 120, 90, 16, 0.02);
    mark_last_resort_samples(alpha, 120, 90, fw);  // the ragged edge's pixels (coverage 4 everywhere: factor 1)
    ASSERT_EQ(r.image.size(), img.data.size());
    long long valid = 0;
    for (std::size_t i = 0; i < alpha.size(); ++i) {
      if (alpha[i] == 0) {
        ASSERT_TRUE(std::isnan(r.image[i])) << i;
        ASSERT_EQ(r.weight[i], 0.0f);
        ASSERT_EQ(r.coverage[i], 0.0f);
        continue;
      }
      ++valid;
      for (int c = 0; c < 3; ++c) ASSERT_EQ(r.image[c * alpha.size() + i], img.data[c * alpha.size() + i]) << i;
      ASSERT_EQ(r.weight[i], fw[i]);
      ASSERT_EQ(r.coverage[i], 4.0f);
    }
    EXPECT_EQ(r.stats.covered_pixels, valid);
    EXPECT_EQ(r.stats.tiles_used, 1);
    EXPECT_EQ(r.stats.bands, 3);
  }
}

// Residuals of the mosaic against the analytic sky, split by where the pixel sits relative to the footprints.
struct Residuals {
  std::vector<double> boundary, interior, all;
  double max_abs_bg = 0.0;
  double max_rel_star = 0.0;
};

Residuals residuals(const TwoTiles& t, const Result& r, const std::vector<float>& cov_count, int ch) {
  Wcs out = t.out;
  const int W = out.width(), H = out.height();
  std::vector<double> ra, dec;
  reproject_test::pixel_sky(out, W, H, ra, dec);
  Residuals res;
  auto count_at = [&](int x, int y) { return cov_count[static_cast<std::size_t>(y) * W + x]; };
  const std::size_t plane = static_cast<std::size_t>(W) * H;
  for (int y = 4; y < H - 4; ++y)
    for (int x = 4; x < W - 4; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * W + x;
      const float c0 = count_at(x, y);
      if (c0 == 0) continue;
      const double stars = star_flux(t.stars, ra[i], dec[i]);
      const double want = reproject_test::sky_function(ra[i], dec[i]) * (1.0 + 0.25 * ch) + stars;
      const double d = r.image[ch * plane + i] - want;
      if (stars > 1.0) {
        if (stars > 100.0) res.max_rel_star = std::max(res.max_rel_star, std::abs(d) / stars);
        continue;
      }
      bool edge = false, flat = true, outer = false;
      for (int dy = -3; dy <= 3; ++dy)
        for (int dx = -3; dx <= 3; ++dx) {
          const float c = count_at(x + dx, y + dy);
          if (c != c0) flat = false;
          if (c == 0) outer = true;
          if (std::abs(dx) <= 1 && std::abs(dy) <= 1 && c != c0 && c > 0) edge = true;
        }
      // Within 3 px of the union's outer edge the kernels replicate the tile's edge pixels: not a seam.
      if (outer) continue;
      res.max_abs_bg = std::max(res.max_abs_bg, std::abs(d));
      res.all.push_back(std::abs(d));
      if (edge) res.boundary.push_back(std::abs(d));
      if (flat) res.interior.push_back(std::abs(d));
    }
  return res;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

TEST_F(CoaddTest, TwoRotatedTilesMatchTheAnalyticSkyWithoutSeams) {
  const TwoTiles t(dir.path(), 1.0f, 1.0f, true);
  for (Kernel k : {Kernel::Lanczos3, Kernel::Bilinear, Kernel::Bicubic}) {
    CoaddOptions opt;
    opt.kernel = k;
    opt.band_rows = 64;
    opt.feather_px = 40;
    const Result r = run(t.tiles, t.out, 3, opt);
    EXPECT_EQ(r.stats.tiles_used, 2);
    for (int ch : {0, 2}) {
      const Residuals res = residuals(t, r, r.coverage, ch);
      ASSERT_GT(res.boundary.size(), 200u);
      ASSERT_GT(res.interior.size(), 10000u);
      const double med_b = median(res.boundary), med_i = median(res.interior);
      SCOPED_TRACE(std::string(to_string(k)) + " channel " + std::to_string(ch) + ": boundary median " +
                   std::to_string(med_b) + " interior median " + std::to_string(med_i) + " max bg " +
                   std::to_string(res.max_abs_bg) + " max star rel " + std::to_string(res.max_rel_star));
      // Sky ~100-190 ADU with gradients up to ~3 ADU/px: Lanczos-3's 0.02 px moment error and bilinear's
      // curvature error (~h^2 f''/8) bound the background error; stars (sigma 2 px) within 3 % of their flux
      // (8 % for bilinear, whose peak error is ~f''/8 = 3 % plus phase).
      EXPECT_LT(median(res.all), 0.1);
      EXPECT_LT(res.max_abs_bg, 0.6);
      EXPECT_LT(res.max_rel_star, k == Kernel::Bilinear ? 0.08 : 0.03);
      if (k == Kernel::Bicubic) {
        // Bicubic is near exact here (interior median ~5e-4 ADU, 5e-6 relative), so the ratio would only measure
        // the other tile's edge-replicated border samples under their 2.5 % feather weight; bound it absolutely.
        EXPECT_LT(med_b, 0.003);
      } else {
        EXPECT_LE(med_b, 1.2 * med_i);
      }
    }
  }
}

TEST_F(CoaddTest, UnmaskedFillWouldShowAsASeam) {
  // Control for the seam metric: declaring the zero-filled margin as data (alpha 255 everywhere) must fail it.
  TwoTiles t(dir.path(), 1.0f, 1.0f);
  for (CoaddInput& in : t.tiles) {
    const fs::path p = in.path.parent_path() / ("full_" + in.path.filename().string());
    ImageF img = render(in.wcs, 3, t.stars);
    const auto ragged = ragged_alpha(in.width, in.height);
    for (int c = 0; c < 3; ++c)
      for (std::size_t i = 0; i < ragged.size(); ++i)
        if (ragged[i] == 0) img.plane(c)[i] = 0.0f;
    write_tile(p, in.wcs, img, std::vector<std::uint8_t>(ragged.size(), 255), 1.0f);
    in.path = p;
  }
  CoaddOptions opt;
  opt.feather_px = 40;
  const Result r = run(t.tiles, t.out, 3, opt);
  const Residuals res = residuals(t, r, r.coverage, 0);
  EXPECT_GT(res.max_abs_bg, 5.0);
}

TEST_F(CoaddTest, GainsAndOffsetsAreAppliedBeforeWeighting) {
  const Wcs w = tan_wcs(kCentre, kScale, 0.0, 64, 48);
  const auto alpha = std::vector<std::uint8_t>(64 * 48, 255);
  const fs::path pa = dir / "a.fits", pb = dir / "b.fits";
  ImageF a(3, 64, 48, 10.0f), b(3, 64, 48, 0.0f);
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < b.plane_size(); ++i) b.plane(c)[i] = static_cast<float>(c + i % 7);
  write_tile(pa, w, a, alpha, 0);
  write_tile(pb, w, b, alpha, 0);
  CoaddInput ta{pa, w, 64, 48, 3};
  CoaddInput tb{pb, w, 64, 48, 3};
  tb.gain = {2.0f, 0.5f, 1.0f};
  tb.offset = {10.0f, -5.0f, 0.25f};
  tb.weight = 3.0;
  CoaddOptions opt;
  opt.feather_px = 0;  // binary weights: the mean is exactly (1 * a + 3 * (g b + o)) / 4
  const Result r = run({ta, tb}, w, 3, opt);
  const std::size_t n = 64 * 48;
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < n; ++i) {
      const double corrected = double(tb.gain[c]) * b.plane(c)[i] + double(tb.offset[c]);
      ASSERT_NEAR(r.image[c * n + i], (10.0 + 3.0 * corrected) / 4.0, 1e-5) << c << " " << i;
    }
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(r.weight[i], 4.0f);
    ASSERT_EQ(r.coverage[i], 2.0f);  // no COVERAGE extension: one per tile
  }
}

TEST_F(CoaddTest, CoverageCountsFramesExactly) {
  const TwoTiles t(dir.path(), 5.0f, 7.0f);
  CoaddOptions opt;
  opt.band_rows = 50;
  const Result both = run(t.tiles, t.out, 3, opt);
  const Result only_a = run({t.tiles[0]}, t.out, 3, opt);
  const Result only_b = run({t.tiles[1]}, t.out, 3, opt);
  long long overlap = 0;
  for (std::size_t i = 0; i < both.coverage.size(); ++i) {
    const float want = (only_a.weight[i] > 0 ? 5.0f : 0.0f) + (only_b.weight[i] > 0 ? 7.0f : 0.0f);
    ASSERT_EQ(both.coverage[i], want) << i;
    ASSERT_EQ(both.weight[i] > 0, want > 0) << i;
    overlap += want == 12.0f ? 1 : 0;
  }
  EXPECT_GT(overlap, 5000);
  EXPECT_EQ(both.stats.covered_pixels,
            std::count_if(both.weight.begin(), both.weight.end(), [](float v) { return v > 0; }));
}

TEST_F(CoaddTest, BitIdenticalAcrossMethodsWorkersBandsAndBudgets) {
  const TwoTiles t(dir.path());
  CoaddOptions base;
  base.band_rows = 256;
  base.workers = 1;
  const Result ref = run(t.tiles, t.out, 3, base);
  auto expect_same = [&](const Result& r, const std::string& what) {
    EXPECT_TRUE(same_bits(r.image, ref.image)) << what;
    EXPECT_TRUE(same_bits(r.weight, ref.weight)) << what;
    EXPECT_TRUE(same_bits(r.coverage, ref.coverage)) << what;
  };
  CoaddOptions o = base;
  o.band_rows = 37;
  o.workers = 2;
  expect_same(run(t.tiles, t.out, 3, o), "reproject_coadd, 2 workers, 37 rows");
  o.workers = 1;
  expect_same(run(t.tiles, t.out, 3, o), "reproject_coadd, 1 worker, 37 rows");
  o = base;
  o.workers = 2;
  expect_same(run(t.tiles, t.out, 3, o), "reproject_coadd, 2 workers, 256 rows");
  o.method = CoaddMethod::Incremental;
  expect_same(run(t.tiles, t.out, 3, o), "incremental, 2 workers, 256 rows");
  o.band_rows = 37;
  o.workers = 1;
  expect_same(run(t.tiles, t.out, 3, o), "incremental, 1 worker, 37 rows");
  o = base;
  o.memory_budget_bytes = 1200000;  // forces fewer rows per band
  const Result small = run(t.tiles, t.out, 3, o);
  EXPECT_GT(small.stats.bands, ref.stats.bands);
  expect_same(small, "reproject_coadd under a small budget");
}

TEST_F(CoaddTest, CanvasTooBigForTheBudgetStillRunsIncrementally) {
  // A wide canvas: one 256-row band of it does not fit 6 MB, the incremental method does.
  const Wcs out = tan_wcs(kCentre, kScale, 0.0, 2400, 200);
  const Wcs tw = tan_wcs(kCentre, kScale, 5.0, 160, 120);
  const fs::path p = dir / "t.fits";
  write_tile(p, tw, reproject_test::random_image(3, 160, 120, 11), ragged_alpha(160, 120), 3.0f);
  const std::uint64_t budget = 6u << 20;
  ASSERT_GT(coadd_footprint(CoaddMethod::ReprojectCoadd, 2400, 256, 3, 160, 120), budget);
  ASSERT_LE(coadd_footprint(CoaddMethod::Incremental, 2400, 256, 3, 160, 120), budget);
  CoaddOptions opt;
  opt.method = CoaddMethod::Incremental;
  opt.memory_budget_bytes = budget;
  opt.workers = 2;
  const Result inc = run({CoaddInput{p, tw, 160, 120, 3}}, out, 3, opt);
  EXPECT_FALSE(inc.stats.cancelled);
  EXPECT_LE(inc.stats.peak_bytes_estimate, budget);
  EXPECT_GT(inc.stats.covered_pixels, 15000);
  CoaddOptions ref_opt;
  const Result ref = run({CoaddInput{p, tw, 160, 120, 3}}, out, 3, ref_opt);
  EXPECT_TRUE(same_bits(inc.image, ref.image));
  EXPECT_TRUE(fs::is_empty(dir.path() / "scratch"));  // accumulators and weight planes are removed
}

TEST_F(CoaddTest, CancelLeavesNoOutputsAndProgressIsMonotonic) {
  const TwoTiles t(dir.path());
  CancelToken token;
  token.request();
  CoaddOptions opt;
  opt.cancel = &token;
  const Result r = run(t.tiles, t.out, 3, opt);
  EXPECT_TRUE(r.stats.cancelled);
  for (const auto& e : fs::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().extension(), e.is_directory() ? "" : ".fits") << e.path();

  for (CoaddMethod m : {CoaddMethod::ReprojectCoadd, CoaddMethod::Incremental}) {
    CoaddOptions o;
    o.method = m;
    o.band_rows = 40;
    o.workers = 2;
    long long last = 0, total = -1, calls = 0;
    bool monotonic = true;
    o.progress = [&](long long done, long long tot) {
      monotonic = monotonic && done > last && (total < 0 || tot == total);
      last = done;
      total = tot;
      ++calls;
    };
    const Result ok = run(t.tiles, t.out, 3, o);
    EXPECT_FALSE(ok.stats.cancelled);
    EXPECT_TRUE(monotonic);
    EXPECT_EQ(last, total);
    EXPECT_EQ(calls, total);
  }
}

TEST_F(CoaddTest, BadInputsAreNamed) {
  const Wcs w = tan_wcs(kCentre, kScale, 0.0, 32, 32);
  const fs::path p = dir / "mono.fits";
  write_tile(p, w, ImageF(1, 32, 32, 1.0f), std::vector<std::uint8_t>(32 * 32, 255), 0);
  CoaddOptions opt;
  EXPECT_THROW(run({CoaddInput{p, w, 32, 32, 3}}, w, 3, opt), InputError);        // 1 channel into 3
  EXPECT_THROW(run({CoaddInput{p, w, 40, 32, 1}}, w, 1, opt), InputError);        // size disagrees
  EXPECT_THROW(run({CoaddInput{dir / "missing.fits", w, 32, 32, 1}}, w, 1, opt), InputError);
  EXPECT_THROW(run({}, w, 4, opt), std::invalid_argument);
  const Result mono = run({CoaddInput{p, w, 32, 32, 1}}, w, 1, opt);
  EXPECT_EQ(mono.stats.covered_pixels, 32 * 32);
  CoaddInput zero{p, w, 32, 32, 1};
  zero.weight = 0.0;
  const Result none = run({zero}, w, 1, opt);
  EXPECT_EQ(none.stats.tiles_used, 0);
  EXPECT_TRUE(std::all_of(none.image.begin(), none.image.end(), [](float v) { return std::isnan(v); }));
}

}  // namespace
