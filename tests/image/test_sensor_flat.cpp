// SensorFlat and sky_mesh against analytic vignetting.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "image/sensor_flat.hpp"

namespace zm {
namespace {

// A vignetted flat sky: level * (1 + q r^2), r over the half-diagonal.
ImageF vignetted_sky(int w, int h, double q, float level) {
  ImageF img(3, w, h);
  const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1), r2n = 0.25 * (double(w) * w + double(h) * h);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        img.at(c, y, x) = static_cast<float>(level * (1.0 + q * ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r2n));
  return img;
}

TEST(SensorFlat, DividesTheProfileOutOfEveryChannelAndRow) {
  const int w = 90, h = 60;
  ImageF img = vignetted_sky(w, h, -0.05, 200.0f);
  const SensorFlat flat{-0.05, w, h};
  ASSERT_TRUE(flat.applies_to(w, h));
  // In two bands, as a reader would, to check row0 is honoured.
  flat.apply_rows(img.data.data(), 3, 0, h);  // whole image first
  for (float v : img.data) EXPECT_NEAR(v, 200.0f, 1e-3f);
  ImageF band = vignetted_sky(w, h, -0.05, 200.0f);
  std::vector<float> rows(static_cast<std::size_t>(3) * 20 * w);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < w; ++x) rows[(static_cast<std::size_t>(c) * 20 + y) * w + x] = band.at(c, 40 + y, x);
  flat.apply_rows(rows.data(), 3, 40, 20);
  for (float v : rows) EXPECT_NEAR(v, 200.0f, 1e-3f);
}

TEST(SensorFlat, LeavesOtherSizesAndZeroProfilesAlone) {
  const SensorFlat flat{-0.05, 90, 60};
  EXPECT_FALSE(flat.applies_to(60, 90));
  EXPECT_FALSE(SensorFlat{}.applies_to(90, 60));
  EXPECT_FALSE((SensorFlat{0.0, 90, 60}.applies_to(90, 60)));
}

TEST(SkyMesh, ReadsTheProfileRelativeToTheLevel) {
  const int w = 240, h = 360;
  const ImageF img = vignetted_sky(w, h, -0.08, 500.0f);
  const std::vector<float> mesh = sky_mesh(img, 1, 500.0f);
  ASSERT_EQ(mesh.size(), static_cast<std::size_t>(kSkyMeshSide * kSkyMeshSide));
  // A corner block's median sits at roughly its centre's radius; the centre blocks are near 1.
  const int c = kSkyMeshSide / 2;
  EXPECT_NEAR(mesh[static_cast<std::size_t>(c) * kSkyMeshSide + c], 1.0, 0.005);
  const double bx = (0.5) * w / kSkyMeshSide - 0.5 - 0.5 * (w - 1), by = (0.5) * h / kSkyMeshSide - 0.5 - 0.5 * (h - 1);
  const double expected = 1.0 - 0.08 * (bx * bx + by * by) / (0.25 * (w * w + h * h));
  EXPECT_NEAR(mesh[0], expected, 0.004);
  EXPECT_TRUE(std::isnan(sky_mesh(img, 1, 0.0f)[0]));  // no level, no mesh
}

TEST(FlattenedSkyFactor, TakesTheRawMedianToTheFlattenedSky) {
  const int w = 240, h = 180;
  const ImageF img = vignetted_sky(w, h, -0.06, 500.0f);
  std::vector<float> g(img.plane(1), img.plane(1) + img.plane_size());
  std::nth_element(g.begin(), g.begin() + g.size() / 2, g.end());
  const float raw_median = g[g.size() / 2];
  ASSERT_LT(raw_median, 495.0f);  // the raw median reads the vignetting (the sky is 500 once divided)
  const SensorFlat flat{-0.06, w, h};
  const double k = flattened_sky_factor(sky_mesh(img, 1, raw_median), flat, w, h);
  EXPECT_NEAR(raw_median * k, 500.0, 0.25);
  // Not for another sensor, no profile, or a mesh with too few blocks.
  EXPECT_EQ(flattened_sky_factor(sky_mesh(img, 1, raw_median), SensorFlat{-0.06, h, w}, w, h), 1.0);
  EXPECT_EQ(flattened_sky_factor(sky_mesh(img, 1, raw_median), SensorFlat{}, w, h), 1.0);
  std::vector<float> holes(static_cast<std::size_t>(kSkyMeshSide) * kSkyMeshSide, std::nanf(""));
  holes[0] = 1.0f;
  EXPECT_EQ(flattened_sky_factor(holes, flat, w, h), 1.0);
}

}  // namespace
}  // namespace zm
