// estimate_vignetting on synthetic sky meshes (a profile fixed on the sensor, a nebula that moves with the
// pointing), and end to end: the run's profile makes the mosaic's master tiles flat from centre to corners.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "io/fits_reader.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/ingest/vignetting.hpp"
#include "pipeline_run.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"
#include "truth_metrics.hpp"

namespace zm {
namespace {
namespace fs = std::filesystem;

// Frames of 1080 x 1920 at 2.4"/px (half-diagonal 0.73 deg) around `pointings` centres 0.5 deg apart, each mesh
// = (1 + q r^2) x (1 + a nebula of +30 % over ~2 blocks where the fixed sky point falls on the sensor) + noise.
std::vector<FrameRecord> frames(int n, int pointings, double q, unsigned seed = 3) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.002);
  std::vector<FrameRecord> out;
  for (int i = 0; i < n; ++i) {
    FrameRecord r;
    r.index = i;
    r.width = 1080, r.height = 1920, r.scale_arcsec = 2.4;
    const int p = i % pointings;
    const double dra = (p % 2) * 0.5, ddec = (p / 2) * 0.5;
    r.centre = {150.0 + dra, 30.0 + ddec};
    // The nebula sits at the mosaic's centre: on the sensor it is where that point falls for this pointing.
    const double nx = 0.5 + (pointings > 1 ? (0.25 - 0.5 * (p % 2)) : 0.0), ny = 0.5 + (pointings > 1 ? (0.25 - 0.5 * (p / 2)) : 0.0);
    for (int by = 0; by < kSkyMeshSide; ++by)
      for (int bx = 0; bx < kSkyMeshSide; ++bx) {
        const double x = (bx + 0.5) * 1080 / kSkyMeshSide - 0.5, y = (by + 0.5) * 1920 / kSkyMeshSide - 0.5;
        const double u = (x - 539.5) / (0.5 * std::hypot(1080, 1920)), v = (y - 959.5) / (0.5 * std::hypot(1080, 1920));
        const double du = (bx + 0.5) / kSkyMeshSide - nx, dv = (by + 0.5) / kSkyMeshSide - ny;
        const double nebula = 0.3 * std::exp(-0.5 * (du * du + dv * dv) / (0.12 * 0.12));
        r.sky_mesh.push_back(static_cast<float>((1.0 + q * (u * u + v * v)) * (1.0 + nebula) + noise(rng)));
      }
    out.push_back(std::move(r));
  }
  return out;
}

TEST(Vignetting, ProfileFromFourPointingsDespiteANebula) {
  const VignettingEstimate e = estimate_vignetting(frames(24, 4, -0.05));
  EXPECT_EQ(e.frames, 24);
  EXPECT_TRUE(e.reason.empty()) << e.reason;
  EXPECT_NEAR(e.flat.q, -0.05, 0.008);
  EXPECT_EQ(e.flat.width, 1080);
  EXPECT_EQ(e.flat.height, 1920);
}

TEST(Vignetting, ANebulaOnHalfThePointingsIsNotVignetting) {
  // No vignetting; a bright nebula centred on the sensor in pointings 2 and 3 only (3 frames each of 4 pointings,
  // the case that fooled a per-block median over frames into q = -0.078).
  std::vector<FrameRecord> f = frames(12, 4, 0.0);
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i % 4 < 2) continue;
    for (int by = 0; by < kSkyMeshSide; ++by)
      for (int bx = 0; bx < kSkyMeshSide; ++bx) {
        const double du = (bx + 0.5) / kSkyMeshSide - 0.5, dv = (by + 0.5) / kSkyMeshSide - 0.5;
        f[i].sky_mesh[static_cast<std::size_t>(by) * kSkyMeshSide + bx] *=
            static_cast<float>(1.0 + 0.8 * std::exp(-0.5 * (du * du + dv * dv) / (0.2 * 0.2)));
      }
  }
  f.resize(12);
  const VignettingEstimate e = estimate_vignetting(f);
  EXPECT_EQ(e.flat.q, 0.0) << "q " << e.q;
  EXPECT_NE(e.reason.find("disagree"), std::string::npos) << e.reason;
}

TEST(Vignetting, OnePointingIsNotTrusted) {
  // Dithered frames of one pointing keep the nebula on the same blocks: it would read as a radial term.
  const VignettingEstimate e = estimate_vignetting(frames(24, 1, -0.05));
  EXPECT_EQ(e.flat.q, 0.0);
  EXPECT_NE(e.reason.find("spread"), std::string::npos) << e.reason;
}

TEST(Vignetting, TooFewFramesOrNoProfileChangeNothing) {
  const VignettingEstimate few = estimate_vignetting(frames(5, 4, -0.05));
  EXPECT_EQ(few.flat.q, 0.0);
  EXPECT_NE(few.reason.find("needed"), std::string::npos) << few.reason;
  const VignettingEstimate none = estimate_vignetting(frames(24, 4, 0.0));
  EXPECT_EQ(none.flat.q, 0.0) << "q " << none.q;
  EXPECT_FALSE(none.reason.empty());
}

TEST(Vignetting, MostCommonSensorSizeOnly) {
  std::vector<FrameRecord> f = frames(24, 4, -0.05);
  for (int i = 0; i < 6; ++i) f[static_cast<std::size_t>(i)].width = 1920, f[static_cast<std::size_t>(i)].height = 1080;
  const VignettingEstimate e = estimate_vignetting(f);
  EXPECT_EQ(e.frames, 18);
  EXPECT_EQ(e.flat.width, 1080);
}

sim::SimConfig vignetted_mosaic() {
  sim::SimConfig c;
  c.seed = 9;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 2;
  c.layout.frames_per_pointing = 3;
  c.layout.width = 240;
  c.layout.height = 320;
  c.sky.nebula = false;  // the sky must be flat for the check below (nebulae: the synthetic tests above)
  c.observing.vignetting = 0.06;
  c.observing.gradient_fraction = 0.0;
  c.defects.trail_fraction = 0.0;
  return c;
}

double box_median(const ImageF& img, int x0, int y0) { return test::box_median(img, x0, y0, 30); }

// Worst |corner / centre - 1| of the sky over the master tiles.
double worst_corner(const RunOutcome& o) {
  double worst = 0;
  for (const auto& path : o.master_tiles) {
    FitsImageReader r(path);
    const ImageF t = r.read_all(false);
    // The reference frame's part of the tile (a tile also holds its members' dithered fringe).
    const FitsHeader& h = r.info().header;
    const int x0 = static_cast<int>(-h.get_int("ZMT_X0").value_or(0)), y0 = static_cast<int>(-h.get_int("ZMT_Y0").value_or(0));
    const int w = static_cast<int>(h.get_int("ZMT_REFW").value_or(t.width));
    const int hh = static_cast<int>(h.get_int("ZMT_REFH").value_or(t.height));
    const double centre = box_median(t, x0 + w / 2 - 15, y0 + hh / 2 - 15);
    for (auto [x, y] : {std::pair{15, 15}, {w - 45, 15}, {15, hh - 45}, {w - 45, hh - 45}})
      worst = std::max(worst, std::abs(box_median(t, x0 + x, y0 + y) / centre - 1.0));
  }
  return worst;
}

TEST(Vignetting, RunProfileFlattensEveryMasterTile) {
  test::TempDir dir("vignet");
  sim::write_dataset(sim::plan_dataset(vignetted_mosaic()), dir.path() / "data");
  const fs::path input = dir.path() / "data" / sim::kLightsFolder;
  const auto on = test::run_pipeline_in(input, dir.path() / "on", 2);
  const auto off = test::run_pipeline_in(input, dir.path() / "off", 2, {{"vignetting_correction", false}});
  const auto ev = on.events->with_key(pipeline_keys::kVignettingModel);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].fields.at("applied").get<bool>()) << ev[0].fields.dump();
  EXPECT_NEAR(ev[0].fields.at("q").get<double>(), -0.06, 0.012);
  EXPECT_EQ(off.events->count(pipeline_keys::kVignettingModel), 0);
  const double flat = worst_corner(on.outcome), raw = worst_corner(off.outcome);
  std::printf("corner vs centre sky over the master tiles: %.2f %% corrected, %.2f %% without\n", 100 * flat, 100 * raw);
  EXPECT_GT(raw, 0.03);
  EXPECT_LT(flat, 0.01);
}

}  // namespace
}  // namespace zm
