#include <fitsio.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <thread>

#include "fits_test_util.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

struct TypedCase {
  const char* name;
  int bitpix;
  double bzero;
  double bscale;
  double lo, step;  // values lo, lo + step, ... (cycling through 997 distinct values)
};

// Every supported BITPIX, plus the scaled encodings seen in the wild (uint16, BSCALE 0.5, offset int32).
const TypedCase kCases[] = {
    {"u8", 8, 0, 1, 0, 1},
    {"i8_bzero", 8, -128, 1, -128, 1},
    {"i16", 16, 0, 1, -32768, 65.5},
    {"u16_bzero32768", 16, 32768, 1, 0, 65},
    {"i16_bscale_half", 16, 0, 0.5, -8000, 0.5},
    {"i32", 32, 0, 1, -2000000000, 4000000},
    {"i32_bzero", 32, 1000, 1, -500000, 997},
    {"i64", 64, 0, 1, -1e15, 2e12},
    {"f32", -32, 0, 1, -1e5, 0.37},
    {"f64", -64, 0, 1, -1e-3, 1.234567e-6},
};

std::vector<double> make_values(const TypedCase& c, std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x = c.lo + c.step * static_cast<double>((i * 7919) % 997 % (c.bitpix == 8 ? 256 : 997));
    if (c.bitpix > 0) x = c.bzero + c.bscale * std::round((x - c.bzero) / c.bscale);  // representable
    v[i] = x;
  }
  return v;
}

class TypedRoundTrip : public ::testing::TestWithParam<std::tuple<TypedCase, int>> {};

TEST_P(TypedRoundTrip, ReadsBackWhatWasWritten) {
  auto [c, channels] = GetParam();
  test::TempDir dir("io_rt");
  const long w = 37, h = 23;
  std::vector<long> naxes = {w, h};
  if (channels > 1) naxes.push_back(channels);
  std::vector<double> values = make_values(c, static_cast<std::size_t>(w * h * channels));
  auto path = dir / "img.fits";
  write_fits_typed(path, c.bitpix, naxes, values, FitsHeader{}, c.bzero, c.bscale);

  FitsImageReader r(path.string());
  EXPECT_EQ(r.info().bitpix, c.bitpix);
  EXPECT_EQ(r.info().naxis, channels > 1 ? 3 : 2);
  EXPECT_EQ(r.info().width, w);
  EXPECT_EQ(r.info().height, h);
  EXPECT_EQ(r.info().channels, channels);
  EXPECT_EQ(r.info().bzero, c.bzero);
  EXPECT_EQ(r.info().bscale, c.bscale);
  ImageF img = r.read_all();
  ASSERT_EQ(img.data.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    ASSERT_EQ(img.data[i], static_cast<float>(values[i])) << c.name << " pixel " << i;
}

INSTANTIATE_TEST_SUITE_P(AllBitpix, TypedRoundTrip,
                         ::testing::Combine(::testing::ValuesIn(kCases), ::testing::Values(1, 3)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param).name) + "_c" +
                                  std::to_string(std::get<1>(info.param));
                         });

TEST(FitsRoundTrip, IntegerBlanksAndFloatNansReadAsNan) {
  test::TempDir dir("io_nan");
  std::vector<long> naxes = {4, 2};
  std::vector<double> v = {1, std::nan(""), 3, 4, 5, 6, std::nan(""), 8};
  for (int bitpix : {16, 32, -32, -64}) {
    auto path = dir / ("nan" + std::to_string(bitpix) + ".fits");
    write_fits_typed(path, bitpix, naxes, v, FitsHeader{}, bitpix == 16 ? 32768.0 : 0.0);
    ImageF img = FitsImageReader(path.string()).read_all();
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i]))
        EXPECT_TRUE(std::isnan(img.data[i])) << bitpix << " " << i;
      else
        EXPECT_EQ(img.data[i], v[i]) << bitpix << " " << i;
    }
  }
}

class RowBands : public ::testing::TestWithParam<int> {};

TEST_P(RowBands, ReadRowsMatchesReadAll) {
  const int channels = GetParam();
  test::TempDir dir("io_rows");
  const int w = 19, h = 31;
  ImageF src(channels, w, h);
  for (std::size_t i = 0; i < src.data.size(); ++i) src.data[i] = static_cast<float>(i) * 0.25f - 100.0f;
  auto path = dir / "rows.fits";
  write_fits_float(path, src, FitsHeader{});
  FitsImageReader r(path.string());
  ImageF all = r.read_all();
  ASSERT_EQ(all.data, src.data);
  const std::pair<int, int> bands[] = {{0, 5}, {13, 7}, {h - 4, 4}, {h - 1, 1}, {0, 1}, {0, h}, {10, 0}};
  for (auto [row0, n] : bands) {
    std::vector<float> out(static_cast<std::size_t>(channels) * n * w, -1.0f);
    r.read_rows(row0, n, out);
    for (int c = 0; c < channels; ++c)
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < w; ++x)
          ASSERT_EQ(out[(static_cast<std::size_t>(c) * n + y) * w + x], all.at(c, row0 + y, x))
              << "band " << row0 << "+" << n << " c" << c << " y" << y << " x" << x;
  }
  std::vector<float> wrong(5);
  EXPECT_THROW(r.read_rows(0, 2, wrong), std::invalid_argument);
  std::vector<float> out(static_cast<std::size_t>(channels) * 2 * w);
  EXPECT_THROW(r.read_rows(h - 1, 2, out), std::out_of_range);
  EXPECT_THROW(r.read_rows(-1, 2, out), std::out_of_range);
}

INSTANTIATE_TEST_SUITE_P(Channels, RowBands, ::testing::Values(1, 3, 4));

TEST(FitsWriter, FloatCopiesNonStructuralCardsWithTheirTypes) {
  test::TempDir dir("io_hdr");
  FitsHeader h;
  h.set("SIMPLE", false);
  h.set("BITPIX", 99LL);
  h.set("NAXIS", 7LL);
  h.set("NAXIS1", 5LL);
  h.set("BZERO", 5.0);
  h.set("BSCALE", 3.0);
  h.set("EXTNAME", std::string("NOPE"));
  h.set("OBJECT", std::string("M 94"), "target");
  h.set("EXPTIME", 10.0);
  h.set("GAIN", 80LL);
  h.set("CRVAL1", 192.73009043123456);
  h.set("PLTSOLVD", true);
  h.set("FILENAME", std::string(150, 'f') + "'q");
  h.set("ODD", std::string("tab\there"));
  h.add_history("stacked by zemosaic-cpp");
  h.add_history("bell\x07");
  h.add_comment("a comment");
  ImageF img(1, 3, 2, 1.5f);
  auto path = dir / "hdr.fits";
  write_fits_float(path, img, h);
  FitsImageInfo info = read_fits_info(path.string());
  const FitsHeader& back = info.header;
  EXPECT_EQ(info.bitpix, -32);
  EXPECT_EQ(info.naxis, 2);
  EXPECT_EQ(back.get_int("NAXIS1"), 3);
  EXPECT_EQ(back.get_bool("SIMPLE"), true);
  EXPECT_FALSE(back.has("BZERO"));
  EXPECT_FALSE(back.has("BSCALE"));
  EXPECT_FALSE(back.has("EXTNAME"));
  EXPECT_EQ(back.get_string("OBJECT"), "M 94");
  EXPECT_EQ(back.find("OBJECT")->comment, "target");
  EXPECT_TRUE(std::holds_alternative<double>(back.find("EXPTIME")->value));
  EXPECT_TRUE(std::holds_alternative<long long>(back.find("GAIN")->value));
  EXPECT_EQ(*back.get_double("CRVAL1"), 192.73009043123456) << "full double precision";
  EXPECT_EQ(back.get_bool("PLTSOLVD"), true);
  EXPECT_EQ(back.get_string("FILENAME"), std::string(150, 'f') + "'q") << "long strings survive via CONTINUE";
  EXPECT_NE(std::find(back.history().begin(), back.history().end(), "stacked by zemosaic-cpp"), back.history().end());
  EXPECT_NE(std::find(back.comments().begin(), back.comments().end(), "a comment"), back.comments().end());
  EXPECT_EQ(back.get_string("ODD"), "tab?here") << "bytes cfitsio refuses are replaced, not fatal";
  EXPECT_NE(std::find(back.history().begin(), back.history().end(), "bell?"), back.history().end());
  EXPECT_EQ(FitsImageReader(path.string()).read_all().data, img.data);

  // Copying a read header again does not multiply cfitsio's boilerplate COMMENT cards.
  auto again = dir / "again.fits";
  write_fits_float(again, img, back);
  FitsHeader twice = read_fits_info(again.string()).header;
  EXPECT_EQ(twice.comments(), back.comments());
  EXPECT_EQ(twice.history(), back.history());
  EXPECT_EQ(twice.cards().size(), back.cards().size());
}

TEST(FitsWriter, FloatCubeHasNaxis3) {
  test::TempDir dir("io_cube");
  ImageF img(3, 4, 5);
  std::iota(img.data.begin(), img.data.end(), 0.0f);
  auto path = dir / "cube.fits";
  write_fits_float(path, img, FitsHeader{});
  FitsImageReader r(path.string());
  EXPECT_EQ(r.info().naxis, 3);
  EXPECT_EQ(r.info().channels, 3);
  EXPECT_EQ(r.read_all().data, img.data);
}

TEST(FitsWriter, ExtensionsAreWrittenWithNameCardsAndType) {
  test::TempDir dir("io_ext");
  ImageF img(1, 4, 3, 2.0f);
  FitsExtension alpha;
  alpha.extname = "ALPHA";
  alpha.width = 4;
  alpha.height = 3;
  for (int i = 0; i < 12; ++i) alpha.u8.push_back(static_cast<std::uint8_t>(i * 20));
  alpha.header.set("BUNIT", std::string("mask"));
  FitsExtension cov;
  cov.extname = "COVERAGE";
  cov.width = 4;
  cov.height = 3;
  cov.f32.assign(12, 0.5f);
  auto path = dir / "ext.fits";
  std::vector<FitsExtension> exts = {alpha, cov};
  write_fits_float(path, img, FitsHeader{}, exts);

  fitsfile* f = nullptr;
  int status = 0;
  ASSERT_EQ(fits_open_diskfile(&f, path.c_str(), READONLY, &status), 0);
  int n = 0;
  fits_get_num_hdus(f, &n, &status);
  EXPECT_EQ(n, 3);
  int type = 0;
  fits_movabs_hdu(f, 2, &type, &status);
  EXPECT_EQ(type, IMAGE_HDU);
  char extname[FLEN_VALUE] = {};
  fits_read_key(f, TSTRING, "EXTNAME", extname, nullptr, &status);
  EXPECT_STREQ(extname, "ALPHA");
  char bunit[FLEN_VALUE] = {};
  fits_read_key(f, TSTRING, "BUNIT", bunit, nullptr, &status);
  EXPECT_STREQ(bunit, "mask");
  int bitpix = 0;
  fits_get_img_type(f, &bitpix, &status);
  EXPECT_EQ(bitpix, BYTE_IMG);
  std::vector<unsigned char> a(12);
  fits_read_img(f, TBYTE, 1, 12, nullptr, a.data(), nullptr, &status);
  EXPECT_EQ(std::vector<std::uint8_t>(a.begin(), a.end()), alpha.u8);
  fits_movnam_hdu(f, IMAGE_HDU, const_cast<char*>("COVERAGE"), 0, &status);
  fits_get_img_type(f, &bitpix, &status);
  EXPECT_EQ(bitpix, FLOAT_IMG);
  std::vector<float> cv(12);
  fits_read_img(f, TFLOAT, 1, 12, nullptr, cv.data(), nullptr, &status);
  EXPECT_EQ(cv, cov.f32);
  EXPECT_EQ(status, 0);
  fits_close_file(f, &status);

  FitsExtension bad = cov;
  bad.u8.assign(12, 1);  // both payloads set
  std::vector<FitsExtension> bads = {bad};
  EXPECT_THROW(write_fits_float(dir / "bad.fits", img, FitsHeader{}, bads), std::invalid_argument);
}

TEST(FitsWriter, U16FrameIsBitpix16WithBzeroAndFast) {
  test::TempDir dir("io_u16");
  const int w = 1080, h = 1920;
  std::vector<std::uint16_t> px(static_cast<std::size_t>(w) * h);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint16_t>((i * 2654435761u) >> 16);
  FitsHeader hdr;
  hdr.set("BAYERPAT", std::string("GRBG"));
  auto path = dir / "frame.fit";
  auto t0 = std::chrono::steady_clock::now();
  write_fits_u16(path, w, h, px, hdr);
  auto t1 = std::chrono::steady_clock::now();
  FitsImageReader r(path.string());
  ImageF img = r.read_all();
  auto t2 = std::chrono::steady_clock::now();
  std::vector<float> band(static_cast<std::size_t>(w) * 64);
  for (int y = 0; y < h; y += 64) r.read_rows(y, 64, band);
  auto t3 = std::chrono::steady_clock::now();
  auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
  RecordProperty("write_ms", std::to_string(ms(t0, t1)));
  RecordProperty("read_all_ms", std::to_string(ms(t1, t2)));
  RecordProperty("read_bands_ms", std::to_string(ms(t2, t3)));
  std::printf("[ timing ] write_fits_u16 %.1f ms (incl. fsync), read_all %.1f ms, 30 bands of 64 rows %.1f ms\n",
              ms(t0, t1), ms(t1, t2), ms(t2, t3));
  EXPECT_EQ(r.info().bitpix, 16);
  EXPECT_EQ(r.info().bzero, 32768.0);
  EXPECT_EQ(r.info().header.get_string("BAYERPAT"), "GRBG");
  for (std::size_t i = 0; i < px.size(); ++i) ASSERT_EQ(img.data[i], static_cast<float>(px[i])) << i;
  EXPECT_LT(ms(t1, t2), 500.0) << "generous bound: a whole frame should take a few ms";
}

TEST(FitsReader, OneReaderPerThreadOnTheSameFileAndMovable) {
  test::TempDir dir("io_threads");
  ImageF src(2, 64, 96);
  for (std::size_t i = 0; i < src.data.size(); ++i) src.data[i] = static_cast<float>(i % 1009);
  auto path = dir / "shared.fits";
  write_fits_float(path, src, FitsHeader{});
  std::vector<ImageF> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      FitsImageReader r(path.string());
      ImageF img(2, 64, 96);
      std::vector<float> band(2u * 8 * 64);
      for (int y = 0; y < 96; y += 8) {
        r.read_rows(y, 8, band);
        for (int c = 0; c < 2; ++c)
          std::copy_n(band.begin() + c * 8 * 64, 8 * 64, img.plane(c) + static_cast<std::size_t>(y) * 64);
      }
      got[t] = std::move(img);
    });
  for (auto& th : threads) th.join();
  for (const ImageF& g : got) EXPECT_EQ(g.data, src.data);

  FitsImageReader a(path.string());
  FitsImageReader b = std::move(a);
  EXPECT_EQ(b.read_all().data, src.data);
  a = std::move(b);
  EXPECT_EQ(a.info().width, 64);
  EXPECT_EQ(a.read_all().data, src.data);
}

TEST(FitsReader, ReadsFirstImageExtensionWhenPrimaryIsEmpty) {
  test::TempDir dir("io_ext_read");
  auto path = dir / "mef.fits";
  fitsfile* f = nullptr;
  int status = 0;
  fits_create_diskfile(&f, path.c_str(), &status);
  fits_create_img(f, BYTE_IMG, 0, nullptr, &status);
  long tnaxes[2] = {3, 2};
  fits_create_img(f, SHORT_IMG, 2, tnaxes, &status);
  fits_write_key_str(f, "EXTNAME", "SCI", "", &status);
  short data[6] = {1, -2, 3, -4, 5, -6};
  fits_write_img(f, TSHORT, 1, 6, data, &status);
  fits_close_file(f, &status);
  ASSERT_EQ(status, 0);
  FitsImageReader r(path.string());
  EXPECT_EQ(r.info().hdu, 2);
  EXPECT_EQ(r.info().header.get_string("EXTNAME"), "SCI");
  EXPECT_EQ(r.read_all().data, (std::vector<float>{1, -2, 3, -4, 5, -6}));
}

TEST(FitsReader, AcceptsFileMissingOnlyTheFinalPadding) {
  test::TempDir dir("io_pad");
  auto path = dir / "unpadded.fits";
  std::vector<long> naxes = {10, 10};
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), -50.0);
  write_fits_typed(path, 16, naxes, v, FitsHeader{});
  std::string bytes = test::read_bytes(path);
  ASSERT_EQ(bytes.size(), 2u * 2880);
  std::filesystem::resize_file(path, 2880 + 200);  // header + 100 int16, no padding
  ImageF img = FitsImageReader(path.string()).read_all();
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(img.data[i], v[i]);
}

TEST(FitsReader, PathsWithBracketsAreFileNamesNotFilters) {
  test::TempDir dir("io_brackets");
  auto path = dir / "frame[1]{x}.fits";
  ImageF img(1, 2, 2, 3.0f);
  write_fits_float(path, img, FitsHeader{});
  EXPECT_EQ(FitsImageReader(path.string()).read_all().data, img.data);
}

}  // namespace
}  // namespace zm
