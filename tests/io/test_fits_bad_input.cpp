#include <fitsio.h>
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.hpp"
#include "fits_test_util.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

using test::header_block;

// Runs `fn`, expecting an InputError of `kind` whose message names the file.
template <class Fn>
void expect_input_error(Fn fn, InputErrorKind kind, const std::filesystem::path& path) {
  try {
    fn();
    ADD_FAILURE() << "no error for " << path;
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
    EXPECT_EQ(e.path(), path.string());
    EXPECT_FALSE(e.reason().empty());
  }
}

void expect_open_error(const std::filesystem::path& path, InputErrorKind kind, const FitsReadLimits& limits = {}) {
  expect_input_error([&] { FitsImageReader r(path.string(), limits); }, kind, path);
  expect_input_error([&] { read_fits_info(path.string(), limits); }, kind, path);
}

class BadInput : public ::testing::Test {
 protected:
  test::TempDir dir{"io_bad"};
};

TEST_F(BadInput, MissingFile) { expect_open_error(dir / "nothere.fits", InputErrorKind::NotFound); }

TEST_F(BadInput, EmptyFile) {
  auto p = dir / "empty.fits";
  test::write_bytes(p, "");
  expect_open_error(p, InputErrorKind::Empty);
}

TEST_F(BadInput, TextFileNamedFits) {
  auto p = dir / "notes.fits";
  test::write_bytes(p, std::string(5000, 'x') + "\nhello, I am not a FITS file\n");
  expect_open_error(p, InputErrorKind::NotFits);
  auto shortp = dir / "short.fits";
  test::write_bytes(shortp, "hi\n");
  expect_open_error(shortp, InputErrorKind::NotFits);
}

TEST_F(BadInput, DirectoryIsNotFits) {
  std::filesystem::create_directories(dir / "folder.fits");
  expect_open_error(dir / "folder.fits", InputErrorKind::NotFits);
}

TEST_F(BadInput, TruncatedData) {
  auto p = dir / "cut.fits";
  std::vector<long> naxes = {100, 100};
  write_fits_typed(p, 16, naxes, std::vector<double>(10000, 7.0), FitsHeader{});
  std::filesystem::resize_file(p, 2880 + 20000 - 1);  // one byte of real data missing
  expect_open_error(p, InputErrorKind::Truncated);
  std::filesystem::resize_file(p, 2880);  // header only
  expect_open_error(p, InputErrorKind::Truncated);
}

TEST_F(BadInput, TruncatedHeader) {
  auto p = dir / "cuthead.fits";
  test::write_bytes(p, header_block({"SIMPLE  =                    T", "BITPIX  =                   16",
                                     "NAXIS   =                    2", "NAXIS1  =                   10",
                                     "NAXIS2  =                   10"})
                           .substr(0, 1000));
  expect_open_error(p, InputErrorKind::Truncated);
}

TEST_F(BadInput, HeaderWithoutEnd) {
  auto p = dir / "noend.fits";
  std::string h;
  for (const char* c :
       {"SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    0"})
    h += test::card(c);
  while (h.size() < 2880) h += test::card("COMMENT filler");
  test::write_bytes(p, h);
  expect_open_error(p, InputErrorKind::Truncated);
}

TEST_F(BadInput, NoImage) {
  auto p = dir / "noimage.fits";
  test::write_bytes(p, header_block({"SIMPLE  =                    T", "BITPIX  =                    8",
                                     "NAXIS   =                    0", "EXTEND  =                    T"}));
  expect_open_error(p, InputErrorKind::NoImage);
}

TEST_F(BadInput, FourAxes) {
  auto p = dir / "naxis4.fits";
  fitsfile* f = nullptr;
  int status = 0;
  fits_create_diskfile(&f, p.c_str(), &status);
  long naxes[4] = {4, 3, 2, 2};
  fits_create_img(f, FLOAT_IMG, 4, naxes, &status);
  std::vector<float> v(48, 1.0f);
  fits_write_img(f, TFLOAT, 1, 48, v.data(), &status);
  fits_close_file(f, &status);
  ASSERT_EQ(status, 0);
  expect_open_error(p, InputErrorKind::BadNaxis);
}

TEST_F(BadInput, OneAxis) {
  auto p = dir / "naxis1.fits";
  test::write_bytes(p, header_block({"SIMPLE  =                    T", "BITPIX  =                    8",
                                     "NAXIS   =                    1", "NAXIS1  =                   16"}) +
                           std::string(2880, '\0'));
  expect_open_error(p, InputErrorKind::BadNaxis);
}

TEST_F(BadInput, AbsurdDimensionsAreRejectedBeforeAllocating) {
  auto p = dir / "huge.fits";
  // 100000 x 100000 int16 would be 20 GB: the header alone must be refused.
  test::write_bytes(p, header_block({"SIMPLE  =                    T", "BITPIX  =                   16",
                                     "NAXIS   =                    2", "NAXIS1  =               100000",
                                     "NAXIS2  =               100000"}));
  expect_open_error(p, InputErrorKind::BadDimensions);
}

TEST_F(BadInput, TooManyChannelsAndPixelLimit) {
  auto p = dir / "five.fits";
  std::vector<long> naxes = {4, 4, 5};
  write_fits_typed(p, -32, naxes, std::vector<double>(80, 1.0), FitsHeader{});
  expect_open_error(p, InputErrorKind::BadDimensions);
  auto q = dir / "small.fits";
  std::vector<long> qaxes = {4, 4};
  write_fits_typed(q, -32, qaxes, std::vector<double>(16, 1.0), FitsHeader{});
  FitsReadLimits tight;
  tight.max_pixels = 15;
  expect_open_error(q, InputErrorKind::BadDimensions, tight);
  tight = FitsReadLimits{};
  tight.max_axis = 3;
  expect_open_error(q, InputErrorKind::BadDimensions, tight);
  EXPECT_NO_THROW(FitsImageReader(q.string()));
}

TEST_F(BadInput, UnsupportedBitpix) {
  auto p = dir / "bitpix24.fits";
  test::write_bytes(p, header_block({"SIMPLE  =                    T", "BITPIX  =                   24",
                                     "NAXIS   =                    2", "NAXIS1  =                    4",
                                     "NAXIS2  =                    4"}) +
                           std::string(2880, '\0'));
  expect_open_error(p, InputErrorKind::UnsupportedBitpix);
}

TEST_F(BadInput, AllNan) {
  auto p = dir / "nan.fits";
  ImageF img(1, 8, 4, std::nanf(""));
  write_fits_float(p, img, FitsHeader{});
  FitsImageReader r(p.string());
  expect_input_error([&] { r.read_all(true); }, InputErrorKind::AllNan, p);
  ImageF raw = r.read_all(false);
  EXPECT_EQ(raw.data.size(), 32u);
  EXPECT_TRUE(std::isnan(raw.data[0]));
  // Integer data that are all BLANK are just as empty.
  auto q = dir / "blank.fits";
  std::vector<long> naxes = {2, 2};
  write_fits_typed(q, 16, naxes, std::vector<double>(4, std::nan("")), FitsHeader{});
  expect_input_error([&] { FitsImageReader(q.string()).read_all(); }, InputErrorKind::AllNan, q);
}

TEST_F(BadInput, GarbageAfterSimpleNeverCrashes) {
  // A valid first card, then noise: any InputError is acceptable, a crash or a silent success is not.
  std::string bytes = test::card("SIMPLE  =                    T");
  unsigned x = 12345;
  while (bytes.size() < 2 * 2880) {
    x = x * 1103515245u + 12345u;
    bytes += static_cast<char>(32 + (x >> 16) % 95);
  }
  auto p = dir / "noise.fits";
  test::write_bytes(p, bytes);
  EXPECT_THROW(FitsImageReader(p.string()), InputError);
}

}  // namespace
}  // namespace zm
