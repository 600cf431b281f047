#include <fitsio.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "fits_test_util.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_stream_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

// A distinct value per (channel, row, column), NaN blanks included. No infinities, -0 or denormals: the reader
// (cfitsio's null checking) reads those as NaN and +0; SpecialValuesAreWrittenBitExact checks them raw.
float pixel(int c, int y, int x) {
  std::uint32_t h = static_cast<std::uint32_t>(c) * 2654435761u ^ static_cast<std::uint32_t>(y) * 40503u ^
                    static_cast<std::uint32_t>(x) * 2246822519u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  if (h % 499 == 0) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(static_cast<std::int32_t>(h)) * 1.0e-6f;
}

std::uint8_t alpha_pixel(int y, int x) { return static_cast<std::uint8_t>((y * 7 + x * 13) & 0xff); }
float coverage_pixel(int y, int x) { return static_cast<float>(y) + static_cast<float>(x) * 0.5f; }

// channels [c0, c0 + nc) x nrows x width, as write_rows takes them.
std::vector<float> band(int c0, int nc, int row0, int nrows, int width) {
  std::vector<float> v;
  v.reserve(static_cast<std::size_t>(nc) * nrows * width);
  for (int c = c0; c < c0 + nc; ++c)
    for (int y = row0; y < row0 + nrows; ++y)
      for (int x = 0; x < width; ++x) v.push_back(pixel(c, y, x));
  return v;
}

bool same_bits(float a, float b) {
  if (std::isnan(a)) return std::isnan(b);  // the reader maps every NaN to its own quiet NaN
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// Reads the file back by bands and compares every pixel bit for bit with pixel(); returns the mismatches.
long long mismatches(const fs::path& path, int width, int height, int channels) {
  FitsImageReader r(path.string());
  EXPECT_EQ(r.info().bitpix, -32);
  EXPECT_EQ(r.info().naxis, channels == 1 ? 2 : 3);
  EXPECT_EQ(r.info().width, width);
  EXPECT_EQ(r.info().height, height);
  EXPECT_EQ(r.info().channels, channels);
  long long bad = 0;
  const int rows = 64;
  std::vector<float> got;
  for (int y0 = 0; y0 < height; y0 += rows) {
    int n = std::min(rows, height - y0);
    got.resize(static_cast<std::size_t>(channels) * n * width);
    r.read_rows(y0, n, got);
    std::size_t i = 0;
    for (int c = 0; c < channels; ++c)
      for (int y = y0; y < y0 + n; ++y)
        for (int x = 0; x < width; ++x) bad += !same_bits(pixel(c, y, x), got[i++]);
  }
  return bad;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& p : test::files_in(dir)) out.push_back(p.filename().string());
  return out;
}

// Bands {row0, nrows} covering `height` rows of `size` rows each, last one partial.
std::vector<std::pair<int, int>> bands_of(int height, int size) {
  std::vector<std::pair<int, int>> out;
  for (int y = 0; y < height; y += size) out.emplace_back(y, std::min(size, height - y));
  return out;
}

enum class Order { InOrder, OutOfOrder, SingleRowsBackwards };

std::string order_name(Order o) {
  switch (o) {
    case Order::InOrder:
      return "in_order";
    case Order::OutOfOrder:
      return "out_of_order";
    case Order::SingleRowsBackwards:
      return "single_rows_backwards";
  }
  return "?";
}

class StreamBands : public ::testing::TestWithParam<std::tuple<int, Order>> {};

TEST_P(StreamBands, ReadsBackBitExact) {
  auto [channels, order] = GetParam();
  const int w = 37, h = 50;
  std::vector<std::pair<int, int>> plan = bands_of(h, order == Order::SingleRowsBackwards ? 1 : 16);
  if (order == Order::SingleRowsBackwards) std::reverse(plan.begin(), plan.end());
  if (order == Order::OutOfOrder) {
    std::shuffle(plan.begin(), plan.end(), std::mt19937(7));
    std::iter_swap(plan.begin(), std::max_element(plan.begin(), plan.end()));  // the last band first: a gap
  }
  test::TempDir dir("io_stream");
  auto path = dir / "img.fits";
  FitsHeader hdr;
  hdr.set("OBJECT", std::string("M 31"), "target");
  hdr.set("NAXIS3", 9LL);  // structural: the writer's own axes win
  hdr.add_history("streamed");
  FitsStreamWriter wr(path, w, h, channels, hdr);
  EXPECT_EQ(wr.current_hdu(), 0);
  EXPECT_EQ(wr.rows_missing(), static_cast<long long>(channels) * h);
  for (auto [row0, n] : plan) {
    EXPECT_FALSE(fs::exists(path)) << "nothing at the final path before commit";
    wr.write_rows(row0, n, band(0, channels, row0, n, w));
  }
  EXPECT_EQ(wr.rows_missing(), 0);
  wr.commit();
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"img.fits"}) << "no temp left";
  EXPECT_EQ(mismatches(path, w, h, channels), 0);
  FitsImageInfo info = read_fits_info(path.string());
  EXPECT_EQ(info.header.get_string("OBJECT"), "M 31");
  EXPECT_EQ(info.header.find("OBJECT")->comment, "target");
  EXPECT_EQ(info.header.get_int("NAXIS3"), channels == 1 ? std::nullopt : std::optional<long long>(channels));
  EXPECT_NE(std::find(info.header.history().begin(), info.header.history().end(), "streamed"),
            info.header.history().end());
  EXPECT_EQ(fs::file_size(path) % 2880, 0u);
}

INSTANTIATE_TEST_SUITE_P(ChannelsAndOrders, StreamBands,
                         ::testing::Combine(::testing::Values(1, 3),
                                            ::testing::Values(Order::InOrder, Order::OutOfOrder,
                                                              Order::SingleRowsBackwards)),
                         [](const auto& info) {
                           return "c" + std::to_string(std::get<0>(info.param)) + "_" +
                                  order_name(std::get<1>(info.param));
                         });

TEST(FitsStreamWriter, ChannelsWrittenSeparatelyAndRowsRewritten) {
  test::TempDir dir("io_stream_ch");
  const int w = 23, h = 31, channels = 3;
  auto path = dir / "img.fits";
  FitsStreamWriter wr(path, w, h, channels, FitsHeader{});
  std::vector<float> junk(static_cast<std::size_t>(channels) * 10 * w, 12345.0f);
  wr.write_rows(5, 10, junk);  // overwritten below: the last data written wins
  for (int c = channels - 1; c >= 0; --c) {
    int size = 4 + c * 3;
    auto plan = bands_of(h, size);
    if (c == 1) std::reverse(plan.begin(), plan.end());
    for (auto [row0, n] : plan) wr.write_rows_channel(c, row0, n, band(c, 1, row0, n, w));
    EXPECT_EQ(wr.rows_missing(), static_cast<long long>(c) * h - (c > 0 ? 10 * c : 0));
  }
  wr.commit();
  EXPECT_EQ(mismatches(path, w, h, channels), 0);
}

TEST(FitsStreamWriter, StreamedAndInMemoryExtensions) {
  test::TempDir dir("io_stream_ext");
  const int w = 40, h = 30, channels = 3;
  auto path = dir / "mosaic.fits";
  FitsStreamWriter wr(path, w, h, channels, FitsHeader{});
  for (auto [row0, n] : bands_of(h, 7)) wr.write_rows(row0, n, band(0, channels, row0, n, w));

  FitsHeader alpha_hdr;
  alpha_hdr.set("BUNIT", std::string("mask"));
  wr.add_extension_streamed("ALPHA", w, h, FitsPixelType::UInt8, alpha_hdr);
  EXPECT_EQ(wr.current_hdu(), 1);
  EXPECT_EQ(wr.rows_missing(), h);
  auto plan = bands_of(h, 8);
  std::reverse(plan.begin(), plan.end());
  for (auto [row0, n] : plan) {
    std::vector<std::uint8_t> a;
    for (int y = row0; y < row0 + n; ++y)
      for (int x = 0; x < w; ++x) a.push_back(alpha_pixel(y, x));
    wr.write_rows(row0, n, a);
  }

  wr.add_extension_streamed("COVERAGE", w, h, FitsPixelType::Float32);
  EXPECT_EQ(wr.current_hdu(), 2);
  for (auto [row0, n] : bands_of(h, 11)) {
    std::vector<float> cv;
    for (int y = row0; y < row0 + n; ++y)
      for (int x = 0; x < w; ++x) cv.push_back(coverage_pixel(y, x));
    if (row0 == 0)
      wr.write_rows_channel(0, row0, n, cv);
    else
      wr.write_rows(row0, n, cv);
  }

  FitsExtension mask;
  mask.extname = "SMALL";
  mask.width = 3;
  mask.height = 2;
  mask.f32 = {1, 2, 3, 4, 5, 6};
  wr.add_extension(mask);
  EXPECT_EQ(wr.current_hdu(), 3);
  EXPECT_EQ(wr.rows_missing(), 0);
  wr.commit();

  EXPECT_EQ(mismatches(path, w, h, channels), 0) << "the primary is still what the reader picks";
  fitsfile* f = nullptr;
  int status = 0;
  ASSERT_EQ(fits_open_diskfile(&f, path.c_str(), READONLY, &status), 0);
  int nhdus = 0;
  fits_get_num_hdus(f, &nhdus, &status);
  EXPECT_EQ(nhdus, 4);

  fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>("ALPHA"), 0, &status);
  int bitpix = 0, naxis = 0;
  long naxes[3] = {};
  fits_get_img_param(f, 3, &bitpix, &naxis, naxes, &status);
  EXPECT_EQ(bitpix, BYTE_IMG);
  EXPECT_EQ(naxis, 2);
  EXPECT_EQ(naxes[0], w);
  EXPECT_EQ(naxes[1], h);
  char bunit[FLEN_VALUE] = {};
  fits_read_key(f, TSTRING, "BUNIT", bunit, nullptr, &status);
  EXPECT_STREQ(bunit, "mask");
  std::vector<unsigned char> a(static_cast<std::size_t>(w) * h);
  fits_read_img(f, TBYTE, 1, static_cast<LONGLONG>(a.size()), nullptr, a.data(), nullptr, &status);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ASSERT_EQ(a[static_cast<std::size_t>(y) * w + x], alpha_pixel(y, x)) << y << "," << x;

  fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>("COVERAGE"), 0, &status);
  fits_get_img_type(f, &bitpix, &status);
  EXPECT_EQ(bitpix, FLOAT_IMG);
  std::vector<float> cv(static_cast<std::size_t>(w) * h);
  fits_read_img(f, TFLOAT, 1, static_cast<LONGLONG>(cv.size()), nullptr, cv.data(), nullptr, &status);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ASSERT_EQ(cv[static_cast<std::size_t>(y) * w + x], coverage_pixel(y, x));

  fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>("SMALL"), 0, &status);
  std::vector<float> small(6);
  fits_read_img(f, TFLOAT, 1, 6, nullptr, small.data(), nullptr, &status);
  EXPECT_EQ(small, mask.f32);
  EXPECT_EQ(status, 0);
  fits_close_file(f, &status);
}

TEST(FitsStreamWriter, SetKeyAfterTheDataAppearsInTheHeader) {
  test::TempDir dir("io_stream_key");
  const int w = 16, h = 12, channels = 3;
  auto path = dir / "keys.fits";
  FitsHeader hdr;
  hdr.set("OBJECT", std::string("M 94"), "target");
  hdr.set("DATAMIN", 0.0, "placeholder");
  hdr.set("TELESCOP", std::string("S50"));
  FitsStreamWriter wr(path, w, h, channels, hdr);
  for (auto [row0, n] : bands_of(h, 5)) wr.write_rows(row0, n, band(0, channels, row0, n, w));
  wr.set_key("datamin", -3.5);  // keys are case-insensitive; the comment is replaced only when given
  wr.set_key("NFRAMES", 120, "frames stacked");
  wr.set_key("OBJECT", std::string("M 101"));
  std::string files(200, 'x');
  files += "'end";
  wr.set_key("FILELIST", files);
  wr.set_key("HISTORY", std::string("statistics added after the data"));
  wr.add_extension_streamed("ALPHA", w, h, FitsPixelType::UInt8);
  wr.write_rows(0, h, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h, 255));
  wr.set_extension_key(1, "BUNIT", std::string("alpha"));
  wr.set_key("EXPTOTAL", 3600.0, "s");  // the primary still takes cards while an extension is written
  wr.commit();

  FitsHeader back = read_fits_info(path.string()).header;
  EXPECT_EQ(back.get_double("DATAMIN"), -3.5);
  EXPECT_EQ(back.find("DATAMIN")->comment, "placeholder");
  EXPECT_EQ(back.get_int("NFRAMES"), 120);
  EXPECT_TRUE(std::holds_alternative<long long>(back.find("NFRAMES")->value));
  EXPECT_EQ(back.get_string("OBJECT"), "M 101");
  EXPECT_EQ(back.get_string("FILELIST"), files) << "long string through CONTINUE";
  EXPECT_EQ(back.get_double("EXPTOTAL"), 3600.0);
  EXPECT_NE(std::find(back.history().begin(), back.history().end(), "statistics added after the data"),
            back.history().end());
  auto pos = [&](const char* key) {
    const auto& cards = back.cards();
    return std::find_if(cards.begin(), cards.end(), [&](const FitsCard& c) { return c.key == key; }) - cards.begin();
  };
  EXPECT_LT(pos("OBJECT"), pos("DATAMIN")) << "a replaced card keeps its place";
  EXPECT_LT(pos("DATAMIN"), pos("TELESCOP"));
  EXPECT_EQ(std::count_if(back.cards().begin(), back.cards().end(), [](const FitsCard& c) { return c.key == "OBJECT"; }),
            1);
  EXPECT_EQ(mismatches(path, w, h, channels), 0);

  fitsfile* f = nullptr;
  int status = 0;
  fits_open_diskfile(&f, path.c_str(), READONLY, &status);
  fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>("ALPHA"), 0, &status);
  char bunit[FLEN_VALUE] = {};
  fits_read_key(f, TSTRING, "BUNIT", bunit, nullptr, &status);
  EXPECT_STREQ(bunit, "alpha");
  EXPECT_EQ(status, 0);
  fits_close_file(f, &status);
}

// More cards than the reserved header space: cfitsio moves the data to make room, and nothing is lost.
TEST(FitsStreamWriter, SetKeyBeyondTheReservedSpaceKeepsTheData) {
  test::TempDir dir("io_stream_reserve");
  const int w = 50, h = 40;
  auto path = dir / "many.fits";
  FitsStreamWriter wr(path, w, h, 1, FitsHeader{}, FitsStreamOptions{.reserve_cards = 0});
  for (auto [row0, n] : bands_of(h, 9)) wr.write_rows(row0, n, band(0, 1, row0, n, w));
  for (int i = 0; i < 150; ++i) wr.set_key("STAT" + std::to_string(i), static_cast<double>(i) + 0.25);
  FitsExtension ext;
  ext.extname = "COVERAGE";
  ext.width = 2;
  ext.height = 2;
  ext.f32 = {9, 8, 7, 6};
  wr.add_extension(ext);
  wr.commit();
  FitsHeader back = read_fits_info(path.string()).header;
  for (int i = 0; i < 150; ++i) ASSERT_EQ(back.get_double("STAT" + std::to_string(i)), i + 0.25) << i;
  EXPECT_EQ(mismatches(path, w, h, 1), 0);
}

// The writer stores the caller's bits unchanged, whatever they are; read raw (no null checking) to see them.
TEST(FitsStreamWriter, SpecialValuesAreWrittenBitExact) {
  test::TempDir dir("io_stream_special");
  const std::uint32_t bits[] = {0x7fc00000u, 0x7fa00001u, 0xffc00123u, 0x7f800000u, 0xff800000u,
                                0x80000000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0x3f800000u};
  const int w = 5, h = 2;
  std::vector<float> values(std::size(bits));
  std::memcpy(values.data(), bits, sizeof bits);
  auto path = dir / "special.fits";
  FitsStreamWriter wr(path, w, h, 1, FitsHeader{});
  wr.write_rows(1, 1, std::span<const float>(values).subspan(5));
  wr.write_rows(0, 1, std::span<const float>(values).first(5));
  wr.commit();
  fitsfile* f = nullptr;
  int status = 0;
  fits_open_diskfile(&f, path.c_str(), READONLY, &status);
  std::vector<float> got(values.size());
  fits_read_img(f, TFLOAT, 1, static_cast<LONGLONG>(got.size()), nullptr, got.data(), nullptr, &status);
  fits_close_file(f, &status);
  ASSERT_EQ(status, 0);
  std::vector<std::uint32_t> got_bits(got.size());
  std::memcpy(got_bits.data(), got.data(), got.size() * sizeof(float));
  EXPECT_EQ(got_bits, std::vector<std::uint32_t>(std::begin(bits), std::end(bits)))
      << "NaN payloads, infinities, -0 and denormals kept";
}

class StreamMisuse : public ::testing::Test {
 protected:
  test::TempDir dir{"io_stream_misuse"};
  fs::path path = dir / "out.fits";
  std::string before;
  void SetUp() override {
    FitsStreamWriter old(path, 2, 2, 1, FitsHeader{});
    old.write_rows(0, 2, std::vector<float>{1, 2, 3, 4});
    old.commit();
    before = test::read_bytes(path);
  }
  // After an error: only the previous final file, unchanged, even while the writer object still lives.
  void expect_clean() {
    EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.fits"});
    EXPECT_EQ(test::read_bytes(path), before);
  }
};

TEST_F(StreamMisuse, ExtensionBeforeThePrimaryIsCompleteThenAbandoned) {
  FitsStreamWriter wr(path, 10, 8, 3, FitsHeader{});
  wr.write_rows(0, 5, band(0, 3, 0, 5, 10));
  try {
    wr.add_extension_streamed("ALPHA", 10, 8, FitsPixelType::UInt8);
    FAIL() << "must throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("primary HDU still misses 9 of 24 rows"), std::string::npos) << e.what();
  }
  expect_clean();
  try {
    wr.write_rows(5, 3, band(0, 3, 5, 3, 10));
    FAIL() << "must throw";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("abandoned"), std::string::npos) << e.what();
  }
  EXPECT_THROW(wr.commit(), std::logic_error);
  expect_clean();
}

TEST_F(StreamMisuse, InMemoryExtensionBeforeTheStreamedOneIsComplete) {
  FitsStreamWriter wr(path, 4, 4, 1, FitsHeader{});
  wr.write_rows(0, 4, band(0, 1, 0, 4, 4));
  wr.add_extension_streamed("ALPHA", 4, 4, FitsPixelType::UInt8);
  wr.write_rows(0, 3, std::vector<std::uint8_t>(12, 1));
  FitsExtension ext;
  ext.extname = "COVERAGE";
  ext.width = 1;
  ext.height = 1;
  ext.f32 = {1};
  EXPECT_THROW(wr.add_extension(ext), std::logic_error);
  expect_clean();
}

TEST_F(StreamMisuse, WrongSizesRowsChannelsAndTypes) {
  auto expect_throw_clean = [&](auto&& call, const char* what) {
    FitsStreamWriter wr(path, 6, 5, 3, FitsHeader{});
    wr.write_rows(0, 2, band(0, 3, 0, 2, 6));
    try {
      call(wr);
      ADD_FAILURE() << what << ": no exception";
    } catch (const std::invalid_argument&) {
    } catch (const std::out_of_range&) {
    } catch (const std::logic_error&) {
    }
    expect_clean();
  };
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows(2, 2, band(0, 3, 2, 1, 6)); }, "short band");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows(2, 1, band(0, 1, 2, 1, 6)); }, "one channel only");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows(4, 2, band(0, 3, 4, 2, 6)); }, "past the last row");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows(-1, 1, band(0, 3, 0, 1, 6)); }, "negative row");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows_channel(3, 0, 1, band(0, 1, 0, 1, 6)); }, "channel 3");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows_channel(0, 0, 1, band(0, 1, 0, 2, 6)); }, "ch size");
  expect_throw_clean([](FitsStreamWriter& w) { w.write_rows(0, 1, std::vector<std::uint8_t>(18)); }, "uint8");
  expect_throw_clean([](FitsStreamWriter& w) { w.commit(); }, "commit incomplete");
  expect_throw_clean([](FitsStreamWriter& w) { w.set_key("NAXIS1", 5); }, "structural key");
  expect_throw_clean([](FitsStreamWriter& w) { w.set_key("BAD KEY", 5); }, "bad key");
  expect_throw_clean([](FitsStreamWriter& w) { w.set_key("HISTORY", 5); }, "numeric history");
  expect_throw_clean([](FitsStreamWriter& w) { w.set_extension_key(1, "BUNIT", std::string("x")); }, "no ext 1");
  EXPECT_THROW(FitsStreamWriter(path, 6, 5, 3, FitsHeader{}).write_rows(0, 5, std::span<const float>(
                                                                                  std::vector<float>(89))),
               std::invalid_argument);
  expect_clean();

  // A float extension refuses uint8 rows, a uint8 one float rows.
  FitsStreamWriter wr(path, 2, 2, 1, FitsHeader{});
  wr.write_rows(0, 2, band(0, 1, 0, 2, 2));
  wr.add_extension_streamed("ALPHA", 3, 3, FitsPixelType::UInt8);
  EXPECT_THROW(wr.write_rows(0, 3, std::vector<float>(9)), std::logic_error);
  expect_clean();
}

TEST_F(StreamMisuse, WriteAfterCommitThrowsAndKeepsTheFile) {
  FitsStreamWriter wr(path, 5, 3, 1, FitsHeader{});
  wr.write_rows(0, 3, band(0, 1, 0, 3, 5));
  wr.commit();
  std::string written = test::read_bytes(path);
  EXPECT_THROW(wr.write_rows(0, 1, band(0, 1, 0, 1, 5)), std::logic_error);
  EXPECT_THROW(wr.set_key("LATE", 1), std::logic_error);
  EXPECT_THROW(wr.add_extension_streamed("ALPHA", 5, 3, FitsPixelType::UInt8), std::logic_error);
  EXPECT_THROW(wr.commit(), std::logic_error);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.fits"});
  EXPECT_EQ(test::read_bytes(path), written);
  EXPECT_EQ(mismatches(path, 5, 3, 1), 0);
}

TEST_F(StreamMisuse, DestroyedWithoutCommitOrBadConstruction) {
  {
    FitsStreamWriter wr(path, 300, 200, 3, FitsHeader{});
    wr.write_rows(190, 10, band(0, 3, 190, 10, 300));  // a band at the end: far past the current end of file
    EXPECT_EQ(names_in(dir.path()).size(), 2u) << "the temp file exists while writing";
  }
  expect_clean();
  EXPECT_THROW(FitsStreamWriter(path, 0, 5, 1, FitsHeader{}), std::invalid_argument);
  EXPECT_THROW(FitsStreamWriter(path, 5, 5, 0, FitsHeader{}), std::invalid_argument);
  try {
    FitsStreamWriter(dir / "no/such/folder/x.fits", 5, 5, 1, FitsHeader{});
    FAIL() << "must throw";
  } catch (const OutputError& e) {
    EXPECT_EQ(e.path(), (dir / "no/such/folder/x.fits").string());
  }
  expect_clean();
}

TEST_F(StreamMisuse, MovedWriterCarriesOnAndTheOldOneRefuses) {
  FitsStreamWriter a(path, 4, 3, 1, FitsHeader{});
  a.write_rows(0, 1, band(0, 1, 0, 1, 4));
  FitsStreamWriter b = std::move(a);
  b.write_rows(1, 2, band(0, 1, 1, 2, 4));
  EXPECT_THROW(a.write_rows(1, 2, band(0, 1, 1, 2, 4)), std::logic_error);  // NOLINT(bugprone-use-after-move)
  b.commit();
  EXPECT_EQ(mismatches(path, 4, 3, 1), 0);
}

// A real I/O failure while streaming (file size limit, like a full disk): OutputError naming the file and the OS
// reason, no temp, final intact.
// Runs in a child process to confine the limit.
TEST_F(StreamMisuse, IoFailureMidStreamLeavesNoTemp) {
  const int code = test::exit_code_under_file_size_limit(64 * 1024, [&] {
    try {
      FitsStreamWriter wr(path, 256, 256, 1, FitsHeader{});  // 256 KB of pixels
      for (auto [row0, n] : bands_of(256, 32)) wr.write_rows(row0, n, band(0, 1, row0, n, 256));
      wr.commit();
      return 1;
    } catch (const OutputError& e) {
      return e.path() == path.string() && e.reason().find("File too large") != std::string::npos ? 0 : 2;
    }
  });
  EXPECT_EQ(code, 0) << "1: no exception, 2: wrong path or no OS reason, 3: not an OutputError";
  expect_clean();
}

TEST(FitsStreamWriter, OneWriterPerThread) {
  test::TempDir dir("io_stream_threads");
  std::vector<std::thread> threads;
  std::vector<std::string> errors(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      try {
        FitsStreamWriter wr(dir / ("t" + std::to_string(t) + ".fits"), 33, 40, 2, FitsHeader{});
        auto plan = bands_of(40, 3 + t);
        if (t % 2) std::reverse(plan.begin(), plan.end());
        for (auto [row0, n] : plan) wr.write_rows(row0, n, band(0, 2, row0, n, 33));
        wr.commit();
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(errors[t], "");
    EXPECT_EQ(mismatches(dir / ("t" + std::to_string(t) + ".fits"), 33, 40, 2), 0) << t;
  }
}

// Resident anonymous memory (heap, stacks) in KiB: unlike VmRSS it ignores library code paged in on first use.
long long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  long long vm_rss = -1;
  while (std::getline(in, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoll(line.substr(8));
    if (line.rfind("VmRSS:", 0) == 0) vm_rss = std::stoll(line.substr(6));
  }
  return vm_rss;  // kernels before 4.5
}

// The motivating case, scaled down: an image far larger than any buffer, written band by band with a bounded
// out-of-order window, must not make the process grow with the image.
TEST(FitsStreamWriter, BigImageByBandsKeepsMemoryFlat) {
  const int w = 4000, h = 3000, channels = 3, rows = 64;
  const long long image_kib = static_cast<long long>(w) * h * channels * 4 / 1024;
  test::TempDir dir("io_stream_big");
  auto path = dir / "big.fits";
  auto plan = bands_of(h, rows);
  for (std::size_t i = 0; i + 1 < plan.size(); i += 2) std::swap(plan[i], plan[i + 1]);  // pairs out of order
  {
    long long before = rss_kib();
    std::vector<char> touched(16 << 20, 1);
    asm volatile("" : : "r"(touched.data()) : "memory");  // keeps the compiler from eliding the buffer
    ASSERT_GE(rss_kib() - before, 15 << 10) << "the RSS probe must see a 16 MiB buffer, or this test proves nothing";
  }
  std::vector<float> buf(static_cast<std::size_t>(channels) * rows * w, 1.0f);
  long long base = rss_kib();
  ASSERT_GT(base, 0);
  long long peak = base;
  auto t0 = std::chrono::steady_clock::now();
  {
    FitsStreamWriter wr(path, w, h, channels, FitsHeader{});
    for (auto [row0, n] : plan) {
      buf.resize(static_cast<std::size_t>(channels) * n * w);
      std::size_t i = 0;
      for (int c = 0; c < channels; ++c)
        for (int y = row0; y < row0 + n; ++y)
          for (int x = 0; x < w; ++x) buf[i++] = pixel(c, y, x);
      wr.write_rows(row0, n, buf);
      peak = std::max(peak, rss_kib());
    }
    wr.set_key("DATAMAX", 1.0e30);
    wr.commit();
    peak = std::max(peak, rss_kib());
  }
  auto t1 = std::chrono::steady_clock::now();
  double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  std::printf("[ timing ] streamed %d x %d x %d float32 (%lld MiB) in %zu bands: %.0f ms incl. fsync, "
              "RSS growth %lld KiB\n",
              w, h, channels, image_kib / 1024, plan.size(), ms, peak - base);
  RecordProperty("write_ms", std::to_string(ms));
  RecordProperty("rss_growth_kib", std::to_string(peak - base));
  EXPECT_LT(peak - base, image_kib / 16) << "memory must not grow with the image";
  auto data_bytes = static_cast<std::uintmax_t>(image_kib) * 1024;
  EXPECT_EQ(fs::file_size(path) % 2880, 0u);
  EXPECT_LE(fs::file_size(path) - data_bytes, 5u * 2880) << "header + data, nothing written twice at the end";
  EXPECT_EQ(mismatches(path, w, h, channels), 0);
}

}  // namespace
}  // namespace zm
