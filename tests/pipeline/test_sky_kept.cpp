// The sky-kept invariant (issue 14) measured on an analytic case: two frames side by side, a mosaic that has data
// on one of them only.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "io/fits_header.hpp"
#include "pipeline/output/sky_kept.hpp"
#include "sim/tan_plane.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

constexpr double kScale = 2.0;

FrameRecord frame(std::string path, const Wcs& w) {
  FitsHeader h;
  w.write_to_header(h);
  FrameRecord r;
  r.path = std::move(path);
  r.width = w.width();
  r.height = w.height();
  r.channels = 1;
  r.wcs_cards = h.to_card_string();
  return r;
}

TEST(SkyKept, CountsTheUnionAndNamesTheFramesWhoseSkyIsGone) {
  test::TempDir dir("sky_kept");
  const SkyCoord c{150.0, 0.0};
  const auto cd = sim::cd_for_position_angle(kScale, 0.0);
  // The grid: 400 x 200 px; frame A on its left half, frame B on its right half.
  OutputGrid grid{Wcs::make_tan(c, {199.5, 99.5}, cd, 400, 200), 400, 200, kScale, 0.0, c};
  const FrameRecord a = frame("A", Wcs::make_tan(c, {199.5, 99.5}, cd, 200, 200));
  const FrameRecord b = frame("B", Wcs::make_tan(c, {-0.5, 99.5}, cd, 200, 200));
  // The mosaic has data where grid x maps onto frame A's pixels only.
  const Wcs& gw = grid.wcs;
  const bool a_on_left = [&] {
    Wcs g = gw, wa = a.make_wcs();
    const auto p = wa.world_to_pixel(g.pixel_to_world({100.0, 100.0}));
    return p && p->x >= 0 && p->x < 200;
  }();
  std::vector<float> img(400 * 200, std::numeric_limits<float>::quiet_NaN());
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 400; ++x)
      if ((x < 200) == a_on_left) img[y * 400 + x] = 1.0f;
  MosaicArtifacts m{dir / "m.f32", dir / "w.f32", dir / "c.f32", 400, 200, 1, "", false};
  std::ofstream(m.image, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), img.size() * 4);
  const SkyKept s = measure_sky_kept({a, b}, grid, m);
  EXPECT_NEAR(s.fraction, 0.5, 0.01);
  ASSERT_EQ(s.short_frames.size(), 1u);
  EXPECT_EQ(s.short_frames[0].path, "B");
  EXPECT_NEAR(s.short_frames[0].kept, 0.0, 0.01);
  // Frame B's data box is its left quarter only (NaN borders elsewhere): the lost sky shrinks to that quarter.
  FrameRecord b_box = b;
  b_box.data_box = {0, 0, 50, 200};
  const SkyKept t = measure_sky_kept({a, b_box}, grid, m);
  EXPECT_NEAR(t.fraction, 200.0 / 250.0, 0.01);
  // Everything kept: 1.
  std::fill(img.begin(), img.end(), 1.0f);
  std::ofstream(m.image, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), img.size() * 4);
  EXPECT_NEAR(measure_sky_kept({a, b}, grid, m).fraction, 1.0, 1e-9);
}

}  // namespace
}  // namespace zm
