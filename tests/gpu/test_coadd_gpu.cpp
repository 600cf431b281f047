// Phase 5 coadd on the GPU: byte-identical to the CPU for every kernel, both methods, one and three channels,
// photometric corrections, coverage extensions, ragged no-data and NaN pixels, any banding; a clean CPU fallback
// when there is no device or the VRAM budget is too small. Device tests skip without a usable GPU (CI); set
// ZM_EXPECT_GPU=1 on a GPU machine so that a silent skip fails instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gpu/device_probe.hpp"
#include "io/fits_writer.hpp"
#include "reproject/coadd.hpp"
#include "reproject/reproject_test_util.hpp"
#include "test_support.hpp"

namespace {

using namespace zm;
using zm::reproject_test::kDeg;
using zm::reproject_test::tan_wcs;
namespace fs = std::filesystem;
using zm::reproject_test::read_raw;

const SkyCoord kCentre{83.6, -5.4};
constexpr double kScale = 2.0;

bool have_gpu() {
  static const bool present = probe_gpu().present;
  return present;
}

bool gpu_expected() {
  const char* v = std::getenv("ZM_EXPECT_GPU");
  return v != nullptr && std::string(v) == "1";
}

#define REQUIRE_GPU()                                                                           \
  do {                                                                                          \
    if (!have_gpu()) {                                                                          \
      ASSERT_FALSE(gpu_expected()) << "ZM_EXPECT_GPU=1 but no usable GPU: " << probe_gpu().reason; \
      GTEST_SKIP() << "no usable GPU: " << probe_gpu().reason;                                  \
    }                                                                                           \
  } while (0)

// Smooth sky plus sharp stars (sub-pixel structure every kernel resolves differently), channel-scaled.
ImageF render(const Wcs& grid, int channels, unsigned seed) {
  Wcs w = grid;
  std::vector<double> ra, dec;
  reproject_test::pixel_sky(w, w.width(), w.height(), ra, dec);
  ImageF img(channels, w.width(), w.height());
  const ImageF noise = reproject_test::random_image(channels, w.width(), w.height(), seed);
  for (std::size_t i = 0; i < ra.size(); ++i) {
    const double x = (ra[i] - kCentre.ra) * std::cos(kCentre.dec * kDeg) * 3600.0 / kScale;
    const double y = (dec[i] - kCentre.dec) * 3600.0 / kScale;
    const double gx = std::round(x / 23.0) * 23.0, gy = std::round(y / 19.0) * 19.0;
    const double star = 900.0 * std::exp(-((x - gx) * (x - gx) + (y - gy) * (y - gy)) / 2.2);
    for (int c = 0; c < channels; ++c)
      img.plane(c)[i] = static_cast<float>(reproject_test::sky_function(ra[i], dec[i]) * (1.0 + 0.3 * c) + star +
                                           noise.plane(c)[i]);
  }
  return img;
}

// Tile k of a 3 x 2 layout: rotated, ragged no-data corner (0 in the data), a few NaN pixels inside the data,
// COVERAGE on every other tile.
CoaddInput write_tile(const fs::path& dir, int k, int channels) {
  const int w = 260 + 7 * k, h = 190 + 5 * k;
  const double dra = ((k % 3) - 1) * 200 * kScale / 3600.0 / std::cos(kCentre.dec * kDeg);
  const double ddec = ((k / 3) - 0.5) * 150 * kScale / 3600.0;
  const Wcs wcs = tan_wcs({kCentre.ra + dra, kCentre.dec + ddec}, kScale, -9.0 + 4.5 * k, w, h, 0.3 * k, -0.2 * k);
  ImageF img = render(wcs, channels, 40u + k);
  std::vector<std::uint8_t> alpha(static_cast<std::size_t>(w) * h, 255);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (x < 3 + k || x + y < 30) alpha[static_cast<std::size_t>(y) * w + x] = 0;
  for (int c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < alpha.size(); ++i)
      if (alpha[i] == 0) img.plane(c)[i] = 0.0f;
    img.plane(c)[static_cast<std::size_t>(h / 2) * w + w / 2 + 11 * c] = std::nanf("");
  }
  FitsHeader hd;
  wcs.write_to_header(hd);
  std::vector<FitsExtension> ext;
  ext.push_back(FitsExtension{"ALPHA", w, h, alpha, {}, {}});
  if (k % 2 == 0)
    ext.push_back(FitsExtension{"COVERAGE", w, h, {}, std::vector<float>(alpha.size(), 3.0f + k), {}});
  const fs::path p = dir / ("tile" + std::to_string(k) + ".fits");
  write_fits_float(p, img, hd, ext);
  CoaddInput in{p, wcs, w, h, channels};
  for (int c = 0; c < channels; ++c) {
    in.gain[c] = 1.0f + 0.013f * (k - 2) + 0.004f * c;
    in.offset[c] = -3.0f + 1.25f * k - 0.5f * c;
  }
  in.weight = 1.0 + k % 3;
  return in;
}

struct Result {
  CoaddStats stats;
  std::vector<float> image, weight, coverage;
};

// Where two outputs differ: pixels whose bits differ and the largest difference (NaN vs number counts as inf).
std::string diff_report(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return "sizes differ";
  long long n = 0;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) == 0) continue;
    ++n;
    const double d = (std::isnan(a[i]) != std::isnan(b[i])) ? INFINITY : std::fabs(double(a[i]) - b[i]);
    worst = std::max(worst, d);
  }
  return std::to_string(n) + " of " + std::to_string(a.size()) + " values differ, largest by " + std::to_string(worst);
}

struct CoaddGpuTest : ::testing::Test {
  test::TempDir dir{"coadd_gpu"};
  int counter = 0;
  std::vector<CoaddInput> tiles;
  Wcs out = tan_wcs(kCentre, kScale, 0.0, 700, 440);

  void make_tiles(int channels) {
    tiles.clear();
    for (int k = 0; k < 6; ++k) tiles.push_back(write_tile(dir.path(), k, channels));
  }

  Result run(const CoaddOptions& opt, int channels) {
    const std::string tag = "run" + std::to_string(counter++);
    const CoaddOutputs o{dir / (tag + "_image.raw"), dir / (tag + "_weight.raw"), dir / (tag + "_cov.raw")};
    CoaddOptions o2 = opt;
    o2.scratch_dir = dir.path() / "scratch";
    Result r;
    r.stats = coadd_tiles(tiles, out, out.width(), out.height(), channels, o2, o);
    r.image = read_raw(o.image);
    r.weight = read_raw(o.weight);
    r.coverage = read_raw(o.coverage);
    return r;
  }

  static void expect_same(const Result& gpu, const Result& cpu, const std::string& what) {
    EXPECT_EQ(diff_report(gpu.image, cpu.image), diff_report(cpu.image, cpu.image)) << what << " (image)";
    EXPECT_EQ(diff_report(gpu.weight, cpu.weight), diff_report(cpu.weight, cpu.weight)) << what << " (weight)";
    EXPECT_EQ(diff_report(gpu.coverage, cpu.coverage), diff_report(cpu.coverage, cpu.coverage))
        << what << " (coverage)";
    EXPECT_EQ(gpu.stats.covered_pixels, cpu.stats.covered_pixels) << what;
  }
};

TEST_F(CoaddGpuTest, WithoutADeviceTheCpuDoesTheWorkAndSaysWhy) {
  if (have_gpu()) GTEST_SKIP() << "a GPU is present: the device tests cover this machine";
  make_tiles(3);
  CoaddOptions cpu;
  cpu.workers = 2;
  CoaddOptions gpu = cpu;
  gpu.use_gpu = true;
  const Result a = run(cpu, 3);
  const Result b = run(gpu, 3);
  expect_same(b, a, "use_gpu without a device");
  EXPECT_EQ(b.stats.gpu_units, 0);
  if (built_with_cuda()) {  // the device calls fail, every band falls back
    EXPECT_GE(b.stats.cpu_fallbacks, 1);
    EXPECT_NE(b.stats.gpu_note.find("GPU error"), std::string::npos) << b.stats.gpu_note;
  } else {
    EXPECT_EQ(b.stats.gpu_note, "built without CUDA");
  }
  gpu.method = CoaddMethod::Incremental;
  const Result c = run(gpu, 3);
  expect_same(c, a, "incremental, use_gpu without a device");
  EXPECT_EQ(c.stats.gpu_units, 0);
}

TEST_F(CoaddGpuTest, EveryKernelAndMethodMatchesTheCpuBitForBit) {
  REQUIRE_GPU();
  for (int channels : {3, 1}) {
    make_tiles(channels);
    for (Kernel k : {Kernel::Lanczos3, Kernel::Bicubic, Kernel::Bilinear, Kernel::Nearest}) {
      for (CoaddMethod m : {CoaddMethod::ReprojectCoadd, CoaddMethod::Incremental}) {
        CoaddOptions cpu;
        cpu.kernel = k;
        cpu.method = m;
        cpu.workers = 4;
        cpu.band_rows = 64;
        CoaddOptions gpu = cpu;
        gpu.use_gpu = true;
        const std::string what = std::string(to_string(k)) +
                                 (m == CoaddMethod::Incremental ? " incremental" : " reproject_coadd") +
                                 ", " + std::to_string(channels) + " channel(s)";
        const Result a = run(cpu, channels);
        const Result b = run(gpu, channels);
        expect_same(b, a, what);
        EXPECT_GT(b.stats.gpu_units, 0) << what << ": " << b.stats.gpu_note;
        EXPECT_EQ(b.stats.cpu_fallbacks, 0) << what << ": " << b.stats.gpu_note;
        EXPECT_GT(a.stats.covered_pixels, 150000) << what;
      }
    }
  }
}

TEST_F(CoaddGpuTest, BandingWorkersAndBudgetsDoNotChangeABit) {
  REQUIRE_GPU();
  make_tiles(3);
  CoaddOptions cpu;
  cpu.workers = 1;
  const Result ref = run(cpu, 3);
  int most_bands = 0;
  for (int workers : {1, 3, 8}) {
    for (std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{24} << 20, std::uint64_t{9} << 20}) {
      CoaddOptions gpu;
      gpu.use_gpu = true;
      gpu.workers = workers;
      gpu.gpu_budget_bytes = budget;
      const Result r = run(gpu, 3);
      expect_same(r, ref, std::to_string(workers) + " workers, GPU budget " + std::to_string(budget));
      EXPECT_EQ(r.stats.gpu_units, r.stats.bands);
      EXPECT_EQ(r.stats.cpu_fallbacks, 0);
      most_bands = std::max(most_bands, r.stats.bands);
    }
  }
  EXPECT_GE(most_bands, 4) << "the small budgets must split the canvas into bands";
}

TEST_F(CoaddGpuTest, ADeviceErrorMidRunIsRedoneOnTheCpuWithTheSameBytes) {
  REQUIRE_GPU();
  make_tiles(3);
  for (CoaddMethod m : {CoaddMethod::ReprojectCoadd, CoaddMethod::Incremental}) {
    CoaddOptions cpu;
    cpu.method = m;
    cpu.workers = 2;
    CoaddOptions gpu = cpu;
    gpu.use_gpu = true;
    gpu.gpu_budget_bytes = std::uint64_t{9} << 20;  // several bands: some rows are written before the failure
    gpu.gpu_fail_after_adds = 7;
    std::vector<std::pair<long long, long long>> ticks;
    gpu.progress = [&](long long done, long long total) { ticks.emplace_back(done, total); };
    const Result a = run(cpu, 3);
    const Result b = run(gpu, 3);
    expect_same(b, a, "device error after 7 additions");
    EXPECT_EQ(b.stats.cpu_fallbacks, 1);
    EXPECT_EQ(b.stats.gpu_units, 0);
    EXPECT_NE(b.stats.gpu_note.find("injected device failure"), std::string::npos) << b.stats.gpu_note;
    ASSERT_FALSE(ticks.empty());
    for (std::size_t i = 1; i < ticks.size(); ++i) EXPECT_GT(ticks[i].first, ticks[i - 1].first);
    EXPECT_EQ(ticks.back().first, ticks.back().second) << "progress must end at its total";
  }
}

TEST_F(CoaddGpuTest, AGpuBudgetTooSmallForOneBandRunsOnTheCpu) {
  REQUIRE_GPU();
  make_tiles(3);
  CoaddOptions cpu;
  cpu.workers = 2;
  CoaddOptions gpu = cpu;
  gpu.use_gpu = true;
  gpu.gpu_budget_bytes = 4096;
  const Result a = run(cpu, 3);
  const Result b = run(gpu, 3);
  expect_same(b, a, "tiny GPU budget");
  EXPECT_EQ(b.stats.gpu_units, 0);
  EXPECT_EQ(b.stats.cpu_fallbacks, 0);
  EXPECT_NE(b.stats.gpu_note.find("more than the GPU budget"), std::string::npos) << b.stats.gpu_note;
}

}  // namespace
