// FitsExtensionReader (named single-plane extensions by rows) and write_fits_table (binary tables of doubles).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "fits_test_util.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

// A 4 x 3 float32 image with ALPHA (uint8) and COVERAGE (float32) extensions holding 0, 1, 2, ...
fs::path write_tile(const fs::path& dir) {
  ImageF img(1, 4, 3, 1.0f);
  std::vector<FitsExtension> ext(2);
  ext[0] = FitsExtension{"ALPHA", 4, 3, std::vector<std::uint8_t>(12), {}, {}};
  ext[1] = FitsExtension{"COVERAGE", 4, 3, {}, std::vector<float>(12), {}};
  for (int i = 0; i < 12; ++i) {
    ext[0].u8[i] = static_cast<std::uint8_t>(i * 20);
    ext[1].f32[i] = 0.5f * static_cast<float>(i);
  }
  const fs::path path = dir / "tile.fits";
  write_fits_float(path, img, FitsHeader{}, ext);
  return path;
}

// A file whose only extension is a uint8 image EXTNAME = 'ALPHA' of 4 x 3 x `naxis3` (values 0, 1, 2, ...).
fs::path write_cube_alpha(const fs::path& dir, int naxis3) {
  std::string bytes = test::header_block({"SIMPLE  =                    T", "BITPIX  =                    8",
                                          "NAXIS   =                    0", "EXTEND  =                    T"});
  bytes += test::header_block({"XTENSION= 'IMAGE   '", "BITPIX  =                    8",
                               "NAXIS   =                    3", "NAXIS1  =                    4",
                               "NAXIS2  =                    3", "NAXIS3  =                    " + std::to_string(naxis3),
                               "PCOUNT  =                    0", "GCOUNT  =                    1",
                               "EXTNAME = 'ALPHA   '"});
  std::string data(static_cast<std::size_t>(12 * naxis3), '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i);
  data.resize(2880, '\0');
  const fs::path path = dir / ("alpha_cube" + std::to_string(naxis3) + ".fits");
  test::write_bytes(path, bytes + data);
  return path;
}

TEST(FitsExtensionReader, ReadsNamedExtensionsByRowsAsUint8AndFloat) {
  test::TempDir dir("ext");
  const fs::path path = write_tile(dir.path());
  FitsExtensionReader r(path.string());
  const auto alpha = r.select("ALPHA");
  ASSERT_TRUE(alpha);
  EXPECT_EQ(alpha->width, 4);
  EXPECT_EQ(alpha->height, 3);
  EXPECT_EQ(alpha->hdu, 2);
  EXPECT_EQ(alpha->bitpix, 8);
  EXPECT_EQ(alpha->path, path.string());
  std::vector<std::uint8_t> a(8);
  r.read_rows(1, 2, std::span(a));
  EXPECT_EQ(a, (std::vector<std::uint8_t>{80, 100, 120, 140, 160, 180, 200, 220}));

  const auto coverage = r.select("COVERAGE");
  ASSERT_TRUE(coverage);
  EXPECT_EQ(coverage->hdu, 3);
  std::vector<float> c(12);
  r.read_rows(0, 3, std::span(c));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(c[i], 0.5f * static_cast<float>(i));
  require_plane_size(*coverage, 4, 3);

  EXPECT_FALSE(r.select("WEIGHTS"));
  EXPECT_THROW(r.read_rows(0, 1, std::span(c).first(4)), std::logic_error) << "no extension selected";
  ASSERT_TRUE(r.select("ALPHA"));
  EXPECT_THROW(r.read_rows(2, 2, std::span(a)), std::out_of_range);
  EXPECT_THROW(r.read_rows(0, 1, std::span(a)), std::invalid_argument) << "8 values for a 4-value row";
}

TEST(FitsExtensionReader, OnePlaneRuleAcceptsNaxis3Of1Only) {
  test::TempDir dir("ext");
  FitsExtensionReader one(write_cube_alpha(dir.path(), 1).string());
  const auto alpha = one.select("ALPHA");
  ASSERT_TRUE(alpha);
  EXPECT_EQ(alpha->width, 4);
  EXPECT_EQ(alpha->height, 3);
  std::vector<std::uint8_t> row(4);
  one.read_rows(2, 1, std::span(row));
  EXPECT_EQ(row, (std::vector<std::uint8_t>{8, 9, 10, 11}));

  const fs::path two = write_cube_alpha(dir.path(), 2);
  FitsExtensionReader r(two.string());
  try {
    r.select("ALPHA");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadDimensions);
    EXPECT_EQ(e.path(), two.string());
    EXPECT_NE(e.reason().find("ALPHA extension has NAXIS = 3 (4 x 3 x 2)"), std::string::npos) << e.reason();
  }
}

TEST(FitsExtensionReader, ErrorsNameTheFileAndTheProblem) {
  test::TempDir dir("ext");
  const fs::path path = write_tile(dir.path());
  FitsExtensionReader r(path.string());
  try {
    require_plane_size(*r.select("ALPHA"), 5, 3);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadDimensions);
    EXPECT_EQ(std::string(e.what()), path.string() + ": ALPHA extension is 4 x 3, the image is 5 x 3");
  }
  try {
    FitsExtensionReader missing((dir.path() / "missing.fits").string());
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::NotFound);
    EXPECT_EQ(e.path(), (dir.path() / "missing.fits").string());
  }
  test::write_bytes(dir.path() / "text.fits", std::string(4000, 'x'));
  EXPECT_THROW(FitsExtensionReader((dir.path() / "text.fits").string()), InputError);
}

// Big-endian IEEE double at `offset`.
double be_double(const std::string& bytes, std::size_t offset) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return std::bit_cast<double>(u);
}

TEST(FitsTableWriter, WritesOneBintableOfDoubleColumns) {
  test::TempDir dir("table");
  const std::vector<double> x = {1.5, 2.5, 3.5}, y = {10.0, 20.0, 30.0}, f = {-1.0, 0.0, 1e30};
  const std::vector<FitsTableColumn> cols = {{"X", x}, {"Y", y}, {"FLUX", f}};
  const fs::path path = dir / "stars.xyls";
  write_fits_table(path, cols);
  const std::string bytes = test::read_bytes(path);
  ASSERT_EQ(bytes.size(), 3u * 2880u);
  const FitsHeader primary = FitsHeader::parse_cards(std::string_view(bytes).substr(0, 2880));
  EXPECT_EQ(primary.get_int("NAXIS"), 0);
  const FitsHeader table = FitsHeader::parse_cards(std::string_view(bytes).substr(2880, 2880));
  EXPECT_EQ(table.get_string("XTENSION"), "BINTABLE");
  EXPECT_EQ(table.get_int("NAXIS1"), 24);
  EXPECT_EQ(table.get_int("NAXIS2"), 3);
  EXPECT_EQ(table.get_int("TFIELDS"), 3);
  EXPECT_EQ(table.get_string("TTYPE1"), "X");
  EXPECT_EQ(table.get_string("TTYPE3"), "FLUX");
  EXPECT_EQ(table.get_string("TFORM2"), "1D");
  for (std::size_t row = 0; row < 3; ++row) {
    EXPECT_EQ(be_double(bytes, 5760 + row * 24), x[row]);
    EXPECT_EQ(be_double(bytes, 5760 + row * 24 + 8), y[row]);
    EXPECT_EQ(be_double(bytes, 5760 + row * 24 + 16), f[row]);
  }
  EXPECT_EQ(test::files_in(dir.path()).size(), 1u) << "no temp file left behind";
}

TEST(FitsTableWriter, ZeroRowsMismatchedColumnsAndUnwritablePaths) {
  test::TempDir dir("table");
  const std::vector<double> none, two = {1.0, 2.0};
  const std::vector<FitsTableColumn> empty = {{"X", none}, {"Y", none}};
  write_fits_table(dir / "empty.xyls", empty);
  const std::string bytes = test::read_bytes(dir / "empty.xyls");
  ASSERT_EQ(bytes.size(), 2u * 2880u);
  EXPECT_EQ(FitsHeader::parse_cards(std::string_view(bytes).substr(2880)).get_int("NAXIS2"), 0);

  const std::vector<FitsTableColumn> ragged = {{"X", two}, {"Y", none}};
  EXPECT_THROW(write_fits_table(dir / "ragged.xyls", ragged), std::invalid_argument);
  EXPECT_THROW(write_fits_table(dir / "nothing.xyls", {}), std::invalid_argument);
  const fs::path bad = dir.path() / "no_such_folder" / "t.xyls";
  try {
    write_fits_table(bad, empty);
    FAIL() << "expected OutputError";
  } catch (const OutputError& e) {
    EXPECT_EQ(e.path(), bad.string());
  }
}

}  // namespace
}  // namespace zm
