#include "io/fits_writer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/atomic_file.hpp"
#include "io/detail/cfitsio_handle.hpp"
#include "io/detail/fits_hdu_write.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;
using namespace fitswrite;

void write_key_number(fitsfile* f, const char* key, double v, const char* comment, const AtomicOutput& out) {
  FitsCard card{key, v, comment};
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) card.value = static_cast<long long>(v);
  write_card(f, card, out);
}

std::size_t product(std::span<const long> naxes) {
  std::size_t n = 1;
  for (long a : naxes) n *= static_cast<std::size_t>(std::max(a, 0L));
  return n;
}

// Raw code marking undefined pixels in integer images (only written when NaN values are present).
LONGLONG blank_code(int bitpix) {
  switch (bitpix) {
    case 8:
      return 255;
    case 16:
      return std::numeric_limits<short>::min();
    case 32:
      return std::numeric_limits<int>::min();
    default:
      return std::numeric_limits<LONGLONG>::min();
  }
}

void write_typed_pixels(fitsfile* f, int bitpix, std::span<const double> values, const AtomicOutput& out) {
  int status = 0;
  bool has_nan = bitpix > 0 && std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
  if (!has_nan) {
    fits_write_img(f, TDOUBLE, 1, static_cast<LONGLONG>(values.size()), const_cast<double*>(values.data()), &status);
  } else {
    // cfitsio compares with ==, which never holds for NaN: stand in a value no integer image can store.
    double marker = std::numeric_limits<double>::lowest();
    std::vector<double> copy(values.begin(), values.end());
    std::replace_if(
        copy.begin(), copy.end(), [](double v) { return std::isnan(v); }, marker);
    LONGLONG blank = blank_code(bitpix);
    fits_write_key_lng(f, "BLANK", blank, "raw value of undefined pixels", &status);
    fits_set_imgnull(f, blank, &status);
    fits_write_imgnull(f, TDOUBLE, 1, static_cast<LONGLONG>(copy.size()), copy.data(), &marker, &status);
  }
  if (status == NUM_OVERFLOW)
    throw std::invalid_argument(out.final_path().string() + ": values out of range for BITPIX " +
                                std::to_string(bitpix));
  check(status, out, "cannot write the pixels");
}

}  // namespace

void write_fits_float(const fs::path& path, const ImageF& image, const FitsHeader& header,
                      std::span<const FitsExtension> extensions) {
  if (image.channels < 1 || image.width < 1 || image.height < 1 ||
      image.data.size() != static_cast<std::size_t>(image.channels) * image.plane_size())
    throw std::invalid_argument(path.string() + ": write_fits_float needs a non-empty image of C x H x W values");
  for (const FitsExtension& ext : extensions) validate_extension(ext, path);
  AtomicOutput out(path);
  FitsFilePtr f = create_fits(out);
  std::array<LONGLONG, 3> naxes = {image.width, image.height, image.channels};
  create_image(f.get(), FLOAT_IMG, std::span(naxes.data(), image.channels == 1 ? 2 : 3), out);
  write_header_cards(f.get(), header, out);
  write_pixels(f.get(), TFLOAT, 1, image.data.size(), image.data.data(), out);
  for (const FitsExtension& ext : extensions) write_extension(f.get(), ext, out);
  finish(f, out);
}

void write_fits_u16(const fs::path& path, int width, int height, std::span<const std::uint16_t> pixels,
                    const FitsHeader& header) {
  if (width < 1 || height < 1 || pixels.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height))
    throw std::invalid_argument(path.string() + ": write_fits_u16 needs width * height pixels");
  AtomicOutput out(path);
  FitsFilePtr f = create_fits(out);
  std::array<LONGLONG, 2> naxes = {width, height};
  create_image(f.get(), USHORT_IMG, naxes, out);  // BITPIX 16 + BZERO 32768, like the Seestar
  write_header_cards(f.get(), header, out);
  write_pixels(f.get(), TUSHORT, 1, pixels.size(), pixels.data(), out);
  finish(f, out);
}

void write_fits_typed(const fs::path& path, int bitpix, std::span<const long> naxes, std::span<const double> values,
                      const FitsHeader& header, double bzero, double bscale) {
  static constexpr std::array<int, 6> kBitpix = {8, 16, 32, 64, -32, -64};
  if (std::find(kBitpix.begin(), kBitpix.end(), bitpix) == kBitpix.end())
    throw std::invalid_argument(path.string() + ": unsupported BITPIX " + std::to_string(bitpix));
  if (naxes.size() < 2 || naxes.size() > 3 || std::any_of(naxes.begin(), naxes.end(), [](long a) { return a < 1; }) ||
      values.size() != product(naxes))
    throw std::invalid_argument(path.string() + ": write_fits_typed needs 2 or 3 axes and one value per pixel");
  if (bscale == 0.0 || !std::isfinite(bscale) || !std::isfinite(bzero))
    throw std::invalid_argument(path.string() + ": BSCALE must be finite and non-zero, BZERO finite");
  AtomicOutput out(path);
  FitsFilePtr f = create_fits(out);
  std::array<LONGLONG, 3> axes{};
  std::copy(naxes.begin(), naxes.end(), axes.begin());
  create_image(f.get(), bitpix, std::span(axes.data(), naxes.size()), out);
  if (bzero != 0.0 || bscale != 1.0) {
    write_key_number(f.get(), "BZERO", bzero, "physical = raw * BSCALE + BZERO", out);
    write_key_number(f.get(), "BSCALE", bscale, "", out);
    int status = 0;
    fits_set_bscale(f.get(), bscale, bzero, &status);  // the writer stores (v - BZERO) / BSCALE
    check(status, out, "cannot set the scaling");
  }
  write_header_cards(f.get(), header, out);
  write_typed_pixels(f.get(), bitpix, values, out);
  finish(f, out);
}

void write_fits_table(const fs::path& path, std::span<const FitsTableColumn> columns) {
  if (columns.empty() || std::any_of(columns.begin(), columns.end(), [&](const FitsTableColumn& c) {
        return c.values.size() != columns.front().values.size();
      }))
    throw std::invalid_argument(path.string() + ": write_fits_table needs at least one column, all of the same length");
  AtomicOutput out(path);
  FitsFilePtr f = create_fits(out);
  std::vector<std::string> names;
  std::vector<char*> ttype;
  std::string form = "1D";
  std::vector<char*> tform(columns.size(), form.data());
  for (const FitsTableColumn& c : columns) names.push_back(c.name);
  for (std::string& n : names) ttype.push_back(n.data());
  int status = 0;
  // Rows are added as the columns are written (NAXIS2 = 0 at creation); cfitsio puts an empty primary HDU first.
  fits_create_tbl(f.get(), BINARY_TBL, 0, static_cast<int>(columns.size()), ttype.data(), tform.data(), nullptr,
                  nullptr, &status);
  check(status, out, "cannot create the binary table");
  const auto rows = static_cast<LONGLONG>(columns.front().values.size());
  for (std::size_t k = 0; k < columns.size() && rows > 0; ++k) {
    fits_write_col(f.get(), TDOUBLE, static_cast<int>(k) + 1, 1, 1, rows, const_cast<double*>(columns[k].values.data()),
                   &status);
    check(status, out, "cannot write table column " + columns[k].name);
  }
  finish(f, out);
}

}  // namespace zm
