#include <map>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/ingest/preprocess.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

sim::SimConfig small_config() {
  sim::SimConfig c;
  c.layout.grid_cols = 1;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 2;
  c.layout.width = 160;
  c.layout.height = 120;
  c.defects.drop_wcs = 1;
  c.defects.corrupt = true;
  c.write_truth = false;
  return c;
}

TEST(Preprocess, GoodFrameIsDebayeredCachedAndDescribed) {
  test::TempDir dir("pre");
  auto files = sim::write_dataset(small_config(), dir / "in");
  std::filesystem::create_directories(dir / "cache");
  auto inputs = scan_input_folder(dir / "in" / sim::kLightsFolder);
  int usable = 0, no_wcs = 0;
  std::map<std::string, std::string> errors;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    try {
      FrameRecord r = preprocess_frame(inputs[i], static_cast<int>(i), {}, dir / "cache");
      ++usable;
      EXPECT_EQ(r.channels, 3);
      EXPECT_EQ(r.bayer_pattern, "GRBG");
      EXPECT_NEAR(r.scale_arcsec, 2.39, 0.01);
      EXPECT_EQ(r.wcs_provenance, "header");
      EXPECT_GT(r.sky_median[1], 400.0f);
      EXPECT_GT(r.sky_sigma[1], 1.0f);
      EXPECT_GT(r.time_s, 7.9e8);  // 2025 is ~25 years after 2000
      CachedFrameReader cache(dir / "cache" / r.cache_file, r.width, r.height, 3);
      ImageF rgb = cache.read_all();
      // The cache holds exactly the debayered, hot-pixel-corrected input.
      FitsImageReader reader(r.path);
      ImageF raw = reader.read_all();
      correct_hot_pixels_cfa(raw, BayerPattern::GRBG);
      EXPECT_EQ(rgb.data, debayer(raw, BayerPattern::GRBG, DebayerMethod::Bilinear).data);
      Wcs w = r.make_wcs();
      EXPECT_EQ(w.width(), r.width);
    } catch (const InputError& e) {
      if (e.kind() == InputErrorKind::NoWcs) ++no_wcs;
      errors[inputs[i].path.filename().string()] = std::string(to_string(e.kind()));
      EXPECT_NE(std::string(e.what()).find(inputs[i].path.filename().string()), std::string::npos);
    }
  }
  EXPECT_EQ(usable, 1);
  EXPECT_EQ(no_wcs, 1);
  for (const auto& cf : files.corrupt)
    EXPECT_EQ(errors[std::filesystem::path(cf.file).filename().string()], cf.expected_error) << cf.file;
}

TEST(Preprocess, FitsDatesParse) {
  EXPECT_DOUBLE_EQ(*parse_fits_date("2000-01-01T00:00:00"), 0.0);
  EXPECT_DOUBLE_EQ(*parse_fits_date("2000-01-02"), 86400.0);
  EXPECT_DOUBLE_EQ(*parse_fits_date("2001-03-01T00:00:01.5") - *parse_fits_date("2001-02-28T00:00:00"), 86401.5);
  EXPECT_FALSE(parse_fits_date("yesterday").has_value());
  EXPECT_FALSE(parse_fits_date("2020-13-01").has_value());
}

}  // namespace
}  // namespace zm
