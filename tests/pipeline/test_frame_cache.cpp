#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

TEST(FrameCache, BandsReadBackExactly) {
  test::TempDir dir("cache");
  ImageF img(3, 37, 23);
  for (std::size_t i = 0; i < img.data.size(); ++i) img.data[i] = static_cast<float>(i) * 0.5f - 7.0f;
  write_cached_frame(dir / "f.raw", img);
  CachedFrameReader r(dir / "f.raw", 37, 23, 3);
  EXPECT_EQ(r.read_all().data, img.data);
  std::vector<float> band(3 * 5 * 37);
  r.read_rows(9, 5, band);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 5; ++y)
      for (int x = 0; x < 37; ++x) EXPECT_EQ(band[(c * 5 + y) * 37 + x], img.at(c, 9 + y, x));
  EXPECT_THROW(r.read_rows(20, 5, band), std::out_of_range);
}

TEST(FrameCache, WrongSizeIsReportedAsTruncated) {
  test::TempDir dir("cache");
  std::ofstream(dir / "short.raw") << "abc";
  try {
    CachedFrameReader r(dir / "short.raw", 4, 4, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::Truncated);
  }
}

TEST(InputScan, RecursiveCaseInsensitiveSortedAndSkipsOutput) {
  test::TempDir dir("scan");
  std::filesystem::create_directories(dir / "night2");
  std::filesystem::create_directories(dir / "out");
  for (const char* name : {"b.FIT", "a.fits", "night2/c.fts", "notes.txt", "out/mosaic.fits", "d.fit.bak"})
    std::ofstream(dir / name) << "x";
  auto files = scan_input_folder(dir.path(), dir / "out");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].path.filename(), "a.fits");
  EXPECT_EQ(files[1].path.filename(), "b.FIT");
  EXPECT_EQ(files[2].path.filename(), "c.fts");
  EXPECT_EQ(files[0].size, 1u);
  EXPECT_THROW(scan_input_folder(dir / "missing"), InputError);
}

}  // namespace
}  // namespace zm
