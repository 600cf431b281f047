// `zemosaic run` end to end on the real Seestar M94 subs (no WCS in their headers): Phase 1 plate-solves one frame
// per session and propagates the rest, every frame reaches the mosaic, and the science FITS has a WCS that puts
// M94 where it is on the sky. The input's wcs/ folder holds astrometry.net reference solutions that the run must
// NOT use (no sidecar provenance); the test reads them only to check the frames' solutions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "io/fits_reader.hpp"
#ifndef ZM_CLI_BINARY
#define ZM_CLI_BINARY ZM_BINARY_DIR "/src/cli/zemosaic"  // the CLI target of this build tree
#endif
#include "child_run.hpp"
#include "pipeline/model/frame_record.hpp"
#include "solve/absolute_solver.hpp"
#include "solve/sidecar.hpp"
#include "stars/detect.hpp"
#include "test_support.hpp"
#include "wcs/geometry.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

const SkyCoord kM94{192.721, 41.120};  // NED position of the nucleus (deg)
constexpr int kRealFrames = 8;
constexpr int kSessions = 2;

// Pixel position of the brightest block mean of a plane: the galaxy core dominates at this block size (a bright
// star's flux is spread over far fewer pixels). NaN pixels are skipped.
PixelCoord brightest_block(const float* plane, int w, int h, int block) {
  double best = -1e300;
  PixelCoord at{0, 0};
  for (int by = 0; by + block <= h; by += block / 2)
    for (int bx = 0; bx + block <= w; bx += block / 2) {
      double sum = 0.0;
      int n = 0;
      for (int y = by; y < by + block; ++y)
        for (int x = bx; x < bx + block; ++x) {
          const float v = plane[static_cast<std::size_t>(y) * w + x];
          if (std::isfinite(v)) sum += v, ++n;
        }
      if (n == block * block && sum > best) {
        best = sum;
        at = {bx + (block - 1) / 2.0, by + (block - 1) / 2.0};
      }
    }
  return at;
}

TEST(RealSeestarRun, M94EndToEndWithPlateSolving) {
  const auto shared = test::shared_data_dir();
  if (!shared) GTEST_SKIP() << "shared real data (../shared/data) not found";
  const fs::path input = *shared / "real" / "seestar_m94";
  if (!fs::is_directory(input)) GTEST_SKIP() << input << " not found";
  {
    std::string unavailable;
    SolverSettings ss;  // the run's default: solver auto
    if (!make_absolute_solver(ss, unavailable))
      GTEST_SKIP() << "no usable plate solver (install astrometry.net and astrometry-data-tycho2 index files): "
                   << unavailable;
  }
  ASSERT_TRUE(fs::is_regular_file(ZM_CLI_BINARY)) << "build the zemosaic target first: " << ZM_CLI_BINARY;
  test::TempDir dir("realrun");
  const fs::path out = dir.path() / "m94";
  const test::ChildRun run = test::run_zemosaic(input, out, {});
  std::printf("zemosaic run on seestar_m94: exit %d, %.1f s, peak RSS %ld MiB\n", run.exit_code, run.seconds,
              run.peak_rss_kib / 1024);
  ASSERT_EQ(run.exit_code, 0);

  // Every real frame is used; none got its WCS from the reference folder (or any sidecar / cache: fresh output).
  const auto summary = test::events_with(run, "RUN_SUMMARY");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0].value("frames_used", 0), kRealFrames);
  EXPECT_EQ(summary[0].value("inputs_set_aside", -1), 0);
  const auto acquired = test::events_with(run, "WCS_ACQUIRED", "1");
  ASSERT_EQ(acquired.size(), static_cast<std::size_t>(kRealFrames));
  std::set<std::string> provenances;
  for (const auto& e : acquired) provenances.insert(e.value("provenance", ""));
  EXPECT_EQ(provenances, (std::set<std::string>{"solved", "propagated"}));
  const auto solve = test::events_with(run, "WCS_ACQUISITION_SUMMARY", "1");
  ASSERT_EQ(solve.size(), 1u);
  EXPECT_EQ(solve[0].value("groups", 0), kSessions);
  EXPECT_EQ(solve[0].value("absolute_solves", 0), kSessions) << "one absolute solve per session";
  EXPECT_EQ(solve[0].value("propagated", 0), kRealFrames - kSessions);
  EXPECT_EQ(solve[0].value("unsolved", -1), 0);
  std::printf("WCS: %d groups, %d absolute solves (%.2f s solver time), %d propagated, acquisition %.2f s\n",
              solve[0].value("groups", 0), solve[0].value("absolute_solves", 0),
              solve[0].value("solve_seconds", 0.0), solve[0].value("propagated", 0), solve[0].value("seconds", 0.0));

  // Each frame's WCS as the pipeline used it agrees with astrometry.net's reference solution (centre < 1",
  // corners within the references' own scatter; see test_wcs_acquire_real.cpp).
  std::ifstream manifest(out / ".zemosaic_cache" / "phase1_manifest.json");
  ASSERT_TRUE(manifest) << "phase 1 manifest missing";
  const auto frames = nlohmann::json::parse(manifest).at("frames");
  ASSERT_EQ(frames.size(), static_cast<std::size_t>(kRealFrames));
  for (const auto& j : frames) {
    const FrameRecord r = j.get<FrameRecord>();
    const fs::path ref_file = input / "wcs" / (fs::path(r.path).stem().string() + ".wcs");
    const auto ref_header = read_wcs_sidecar(ref_file);
    ASSERT_TRUE(ref_header) << ref_file;
    Wcs ref = Wcs::from_header(*ref_header, ref_file.string(), r.width, r.height);
    Wcs got = r.make_wcs();
    const auto a = footprint_corners(ref);
    const auto b = footprint_corners(got);
    double worst = 0.0;
    for (int c = 0; c < 4; ++c) worst = std::max(worst, angular_distance_deg(a[c], b[c]) * 3600.0);
    const double centre_arcsec = angular_distance_deg(image_centre(ref), image_centre(got)) * 3600.0;
    std::printf("  %s %-10s vs reference: centre %.2f\", worst corner %.2f\"\n",
                fs::path(r.path).filename().string().c_str(), r.wcs_provenance.c_str(), centre_arcsec, worst);
    EXPECT_LT(centre_arcsec, 1.0) << r.path;
    EXPECT_LT(worst, 3.5) << r.path;
  }

  // Master tiles written: one per group, stacked from all 8 frames.
  const auto tiles = test::events_with(run, "MASTER_TILE_DONE", "3");
  ASSERT_FALSE(tiles.empty());
  int stacked = 0;
  for (const auto& t : tiles) {
    ASSERT_TRUE(fs::is_regular_file(t.value("path", ""))) << t.dump();
    stacked += t.value("frames", 0);
  }
  EXPECT_EQ(stacked, kRealFrames);

  // The science mosaic: a celestial WCS centred near M94, M94's core where the WCS says it is, stars.
  const std::string science = summary[0].value("science", "");
  ASSERT_TRUE(fs::is_regular_file(science)) << science;
  FitsImageReader reader(science);
  const ImageF img = reader.read_all(false);
  ASSERT_EQ(img.channels, 3);
  Wcs wcs = Wcs::from_header(reader.info().header, science, img.width, img.height);
  EXPECT_EQ(reader.info().header.get_int("NRAWPROC").value_or(0), kRealFrames);
  const SkyCoord centre = wcs.pixel_to_world(PixelCoord{(img.width - 1) / 2.0, (img.height - 1) / 2.0});
  const double centre_dist = angular_distance_deg(centre, kM94);
  const float* green = img.plane(1);
  const PixelCoord core = brightest_block(green, img.width, img.height, 32);
  const double core_dist = angular_distance_deg(wcs.pixel_to_world(core), kM94);
  std::printf("mosaic %d x %d, centre (%.4f, %.4f) %.3f deg from M94; brightest 32 px block at (%.0f, %.0f), "
              "%.1f arcsec from M94\n",
              img.width, img.height, centre.ra, centre.dec, centre_dist, core.x, core.y, core_dist * 3600.0);
  EXPECT_LT(centre_dist, 0.5);
  EXPECT_LT(core_dist * 3600.0, 60.0) << "M94's core is not where the mosaic WCS puts M94";

  DetectInfo info;
  const auto stars = detect_stars(green, img.width, img.height, DetectParams{}, &info);
  const auto good = std::count_if(stars.begin(), stars.end(), [](const Star& s) { return s.snr >= 20.0; });
  const double fwhm = median_fwhm(stars);
  std::printf("mosaic stars: %zu detected, %ld with SNR >= 20, median FWHM %.2f px, background %.1f, noise %.2f\n",
              stars.size(), static_cast<long>(good), fwhm, info.background, info.noise);
  EXPECT_GE(good, 50);
  EXPECT_GT(fwhm, 1.0);
  EXPECT_LT(fwhm, 6.0);
}

}  // namespace
}  // namespace zm
