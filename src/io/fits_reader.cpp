#include "io/fits_reader.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "io/detail/cfitsio_handle.hpp"

namespace zm {

namespace {

// Only for files lacking their final padding: cfitsio reads whole 2880-byte records and fails on a partial
// last one, so such files are read from a padded copy in memory. cfitsio keeps pointers to `ptr` and `size`.
struct PaddedCopy {
  std::vector<char> bytes;
  void* ptr = nullptr;
  std::size_t size = 0;
};

}  // namespace

struct FitsImageReader::Handle {
  PaddedCopy memory;
  FitsFilePtr file;  // declared last: closed before the memory goes
};

struct FitsExtensionReader::Handle {
  FitsFilePtr file;
};

namespace {

namespace fs = std::filesystem;
using K = InputErrorKind;

constexpr long long kBlock = 2880;

[[noreturn]] void fail(K kind, const std::string& path, std::string reason) {
  throw InputError(kind, path, std::move(reason));
}

struct FileFacts {
  long long size = 0;
  bool gzip = false;  // cfitsio inflates these in memory; byte offsets then do not match the file
};

// Cheap checks before cfitsio sees the file, so each problem gets its own kind and a clear reason.
FileFacts inspect_file(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) fail(K::Io, path, "cannot access the file: " + ec.message());
  if (ec || !fs::exists(st)) fail(K::NotFound, path, "file not found");
  if (fs::is_directory(st)) fail(K::NotFits, path, "is a directory, not a FITS file");
  FileFacts facts;
  facts.size = static_cast<long long>(fs::file_size(path, ec));
  if (ec) fail(K::Io, path, "cannot get the file size: " + ec.message());
  if (facts.size == 0) fail(K::Empty, path, "file is empty (0 bytes)");
  std::array<char, 10> head{};
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(K::Io, path, "cannot open the file for reading");
  in.read(head.data(), head.size());
  std::size_t got = static_cast<std::size_t>(in.gcount());
  facts.gzip = got >= 2 && head[0] == '\x1f' && head[1] == '\x8b';
  if (facts.gzip) return facts;
  if (got < head.size() || std::string_view(head.data(), head.size()) != "SIMPLE  = ")
    fail(K::NotFits, path, "not a FITS file (it does not start with a SIMPLE card)");
  if (facts.size < kBlock)
    fail(K::Truncated, path,
         "truncated: " + std::to_string(facts.size) + " bytes, less than one 2880-byte header block");
  return facts;
}

K open_error_kind(int status) {
  switch (status) {
    case BAD_BITPIX:
      return K::UnsupportedBitpix;
    case BAD_NAXIS:
      return K::BadNaxis;
    case BAD_NAXES:
      return K::BadDimensions;
    case NO_END:
    case END_OF_FILE:
      return K::Truncated;
    case FILE_NOT_OPENED:
      return K::Io;
    default:
      return K::NotFits;
  }
}

FitsFilePtr open_readonly(const std::string& path) {
  fitsfile* raw = nullptr;
  int status = 0;
  // fits_open_diskfile: a path with [] or {} is a file name, never a filter expression.
  fits_open_diskfile(&raw, path.c_str(), READONLY, &status);
  FitsFilePtr f(raw);
  if (status) fail(open_error_kind(status), path, "cannot open as FITS: " + cfitsio_error_text(status));
  return f;
}

struct ImageParams {
  int bitpix = 0;
  int naxis = 0;
  std::array<LONGLONG, 9> naxes{};
  bool has_data() const {
    if (naxis <= 0) return false;
    for (int i = 0; i < std::min(naxis, 9); ++i)
      if (naxes[i] <= 0) return false;
    return true;
  }
};

ImageParams image_params(fitsfile* f, const std::string& path) {
  ImageParams p;
  int status = 0;
  fits_get_img_paramll(f, 9, &p.bitpix, &p.naxis, p.naxes.data(), &status);
  if (status) fail(K::NotFits, path, "cannot read the image parameters: " + cfitsio_error_text(status));
  return p;
}

// The first IMAGE extension holding pixels, if any (HDU number and its parameters).
std::optional<std::pair<int, ImageParams>> find_image_extension(fitsfile* f, const std::string& path) {
  for (int hdu = 2;; ++hdu) {
    int type = 0;
    int status = 0;
    if (fits_movabs_hdu(f, hdu, &type, &status)) {
      fits_clear_errmsg();  // past the last HDU (or an unreadable one): stop looking
      return std::nullopt;
    }
    if (type != IMAGE_HDU) continue;
    ImageParams p = image_params(f, path);
    if (p.has_data()) return std::make_pair(hdu, p);
  }
}

// Primary HDU if it holds a 2-D or 3-D image, else the first image extension with data.
std::pair<int, ImageParams> select_image_hdu(fitsfile* f, const std::string& path) {
  ImageParams primary = image_params(f, path);
  if (primary.has_data() && primary.naxis >= 2) return {1, primary};
  if (auto ext = find_image_extension(f, path)) return *ext;
  if (primary.has_data()) return {1, primary};  // NAXIS = 1: rejected by validation with its own reason
  fail(K::NoImage, path,
       "no image: the primary HDU has NAXIS = " + std::to_string(primary.naxis) +
           " and there is no image extension with data");
}

std::string read_header_text(fitsfile* f, const std::string& path) {
  int nkeys = 0;
  int more = 0;
  int status = 0;
  fits_get_hdrspace(f, &nkeys, &more, &status);
  std::string text;
  text.reserve(static_cast<std::size_t>(nkeys) * 80);
  char card[FLEN_CARD];
  for (int i = 1; i <= nkeys && !status; ++i) {
    fits_read_record(f, i, card, &status);
    std::string c(card);
    c.resize(80, ' ');
    text += c;
  }
  if (status) fail(K::NotFits, path, "cannot read the header: " + cfitsio_error_text(status));
  return text;
}

void validate(const ImageParams& p, const std::string& path, const FitsReadLimits& limits) {
  static constexpr std::array<int, 6> kBitpix = {8, 16, 32, 64, -32, -64};
  if (std::find(kBitpix.begin(), kBitpix.end(), p.bitpix) == kBitpix.end())
    fail(K::UnsupportedBitpix, path, "unsupported BITPIX = " + std::to_string(p.bitpix));
  if (p.naxis < 2 || p.naxis > 3)
    fail(K::BadNaxis, path, "NAXIS = " + std::to_string(p.naxis) + ": only 2-D images and 3-D cubes are supported");
  for (int i = 0; i < p.naxis; ++i)
    if (p.naxes[i] > limits.max_axis)
      fail(K::BadDimensions, path,
           "NAXIS" + std::to_string(i + 1) + " = " + std::to_string(p.naxes[i]) + " exceeds the limit " +
               std::to_string(limits.max_axis));
  if (p.naxis == 3 && p.naxes[2] > 4)
    fail(K::BadDimensions, path, "NAXIS3 = " + std::to_string(p.naxes[2]) + " channels: 1 to 4 are supported");
  if (p.naxes[0] * p.naxes[1] > limits.max_pixels)
    fail(K::BadDimensions, path,
         std::to_string(p.naxes[0]) + " x " + std::to_string(p.naxes[1]) + " pixels per plane exceed the limit " +
             std::to_string(limits.max_pixels));
}

// The data must be all there; only the final block's padding may be missing (some writers omit it).
// Returns true when that padding is missing.
bool check_not_truncated(fitsfile* f, const ImageParams& p, const FileFacts& facts, const std::string& path) {
  if (facts.gzip) return false;
  LONGLONG head = 0, data_start = 0, data_end = 0;
  int status = 0;
  fits_get_hduaddrll(f, &head, &data_start, &data_end, &status);
  if (status) fail(K::NotFits, path, "cannot locate the data: " + cfitsio_error_text(status));
  int compressed = fits_is_compressed_image(f, &status);
  long long needed = data_end - (kBlock - 1);  // tile-compressed: the table size is not NAXIS-derived
  if (!compressed) {
    long long pixels = p.naxes[0] * p.naxes[1] * (p.naxis == 3 ? p.naxes[2] : 1);
    needed = data_start + pixels * (std::abs(p.bitpix) / 8);
  }
  if (facts.size < needed)
    fail(K::Truncated, path,
         "truncated: the file has " + std::to_string(facts.size) + " bytes but its image data end at byte " +
             std::to_string(needed));
  return facts.size < data_end;
}

constexpr long long kMaxPaddedCopy = 1LL << 30;

void open_padded_copy(PaddedCopy& mem, FitsFilePtr& file, const std::string& path, long long size, int hdu) {
  if (size > kMaxPaddedCopy)
    fail(K::Truncated, path, "the final 2880-byte block is incomplete and the file is too large to pad in memory");
  file.reset();
  mem.bytes.assign(static_cast<std::size_t>((size + kBlock - 1) / kBlock * kBlock), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(mem.bytes.data(), size)) fail(K::Io, path, "cannot read the file");
  mem.ptr = mem.bytes.data();
  mem.size = mem.bytes.size();
  fitsfile* raw = nullptr;
  int status = 0;
  fits_open_memfile(&raw, path.c_str(), READONLY, &mem.ptr, &mem.size, 0, nullptr, &status);
  file.reset(raw);
  if (!status) fits_movabs_hdu(raw, hdu, nullptr, &status);
  if (status) fail(K::NotFits, path, "cannot open the padded copy: " + cfitsio_error_text(status));
}

// The checks every read_rows makes before touching the file: a live handle, rows inside the image, an output of
// `expected` values.
void check_row_request(const void* handle, const std::string& path, int row0, int nrows, int height,
                       std::size_t out_size, std::size_t expected) {
  if (handle == nullptr)
    throw std::logic_error(path + ": read_rows on a moved-from reader or with no extension selected");
  if (row0 < 0 || nrows < 0 || static_cast<long long>(row0) + nrows > height)
    throw std::out_of_range(path + ": rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) +
                            ") outside the image height " + std::to_string(height));
  if (out_size != expected) throw std::invalid_argument(path + ": read_rows output span has the wrong size");
}

// `n` values of `datatype` from pixel (1, row0 + 1, plane) of the current HDU; cfitsio applies BZERO/BSCALE and,
// with a `nulval`, maps BLANK (and float NaN) to it.
void read_plane_rows(fitsfile* f, const std::string& path, int datatype, int row0, int nrows, int plane,
                     std::size_t n, void* nulval, void* out) {
  std::array<LONGLONG, 3> first = {1, row0 + 1, plane};
  int anynul = 0;
  int status = 0;
  fits_read_pixll(f, datatype, first.data(), static_cast<LONGLONG>(n), nulval, out, &anynul, &status);
  if (status == NUM_OVERFLOW) status = 0;  // values beyond the type's range arrive clamped
  if (status)
    fail(K::Io, path,
         "cannot read rows " + std::to_string(row0) + ".." + std::to_string(row0 + nrows - 1) + ": " +
             cfitsio_error_text(status));
}

// The one rule for an extension holding one plane: NAXIS = 2, or NAXIS = 3 with NAXIS3 = 1.
bool is_single_plane(const ImageParams& p) {
  return p.has_data() && (p.naxis == 2 || (p.naxis == 3 && p.naxes[2] == 1));
}

// FitsExtensionReader::read_rows for float (BLANK and NaN to NaN) or uint8 values.
template <typename T>
void read_extension_rows(fitsfile* f, const std::string& path, const std::optional<FitsPlaneInfo>& plane, int row0,
                         int nrows, std::span<T> out) {
  const std::size_t n = static_cast<std::size_t>(nrows) * static_cast<std::size_t>(plane ? plane->width : 0);
  check_row_request(plane ? f : nullptr, path, row0, nrows, plane ? plane->height : 0, out.size(), n);
  if (nrows == 0) return;
  constexpr bool kFloat = std::is_same_v<T, float>;
  float nan = std::numeric_limits<float>::quiet_NaN();
  read_plane_rows(f, path, kFloat ? TFLOAT : TBYTE, row0, nrows, 1, n, kFloat ? &nan : nullptr, out.data());
}

FitsImageInfo describe(const std::string& path, int hdu, const ImageParams& p, std::string_view header_text) {
  FitsImageInfo info;
  info.path = path;
  info.hdu = hdu;
  info.bitpix = p.bitpix;
  info.naxis = p.naxis;
  info.width = static_cast<int>(p.naxes[0]);
  info.height = static_cast<int>(p.naxes[1]);
  info.channels = p.naxis == 3 ? static_cast<int>(p.naxes[2]) : 1;
  info.header = FitsHeader::parse_cards(header_text);
  info.bzero = info.header.get_double_or("BZERO", 0.0);
  info.bscale = info.header.get_double_or("BSCALE", 1.0);
  return info;
}

}  // namespace

FitsImageReader::FitsImageReader(const std::string& path, const FitsReadLimits& limits)
    : handle_(std::make_unique<Handle>()) {
  FileFacts facts = inspect_file(path);
  handle_->file = open_readonly(path);
  fitsfile* f = handle_->file.get();
  auto [hdu, params] = select_image_hdu(f, path);
  validate(params, path, limits);
  int status = 0;
  if (fits_movabs_hdu(f, hdu, nullptr, &status))
    fail(K::NotFits, path, "cannot move to HDU " + std::to_string(hdu) + ": " + cfitsio_error_text(status));
  bool unpadded = check_not_truncated(f, params, facts, path);
  info_ = describe(path, hdu, params, read_header_text(f, path));
  if (unpadded) open_padded_copy(handle_->memory, handle_->file, path, facts.size, hdu);
}

FitsImageReader::~FitsImageReader() = default;
FitsImageReader::FitsImageReader(FitsImageReader&&) noexcept = default;
FitsImageReader& FitsImageReader::operator=(FitsImageReader&&) noexcept = default;

void FitsImageReader::read_rows(int row0, int nrows, std::span<float> out) {
  std::size_t band = static_cast<std::size_t>(nrows) * static_cast<std::size_t>(info_.width);
  check_row_request(handle_ ? handle_->file.get() : nullptr, info_.path, row0, nrows, info_.height, out.size(),
                    band * static_cast<std::size_t>(info_.channels));
  if (nrows == 0) return;
  float nan = std::numeric_limits<float>::quiet_NaN();
  // One call per channel band.
  for (int c = 0; c < info_.channels; ++c)
    read_plane_rows(handle_->file.get(), info_.path, TFLOAT, row0, nrows, c + 1, band, &nan,
                    out.data() + band * static_cast<std::size_t>(c));
}

ImageF FitsImageReader::read_all(bool reject_all_nan) {
  ImageF img(info_.channels, info_.width, info_.height);
  read_rows(0, info_.height, img.data);
  if (reject_all_nan) {
    bool any_finite = false;
    for (float v : img.data)
      if (std::isfinite(v)) {
        any_finite = true;
        break;
      }
    if (!any_finite) fail(K::AllNan, info_.path, "the image has no finite pixel (all NaN or blank)");
  }
  return img;
}

FitsImageInfo read_fits_info(const std::string& path, const FitsReadLimits& limits) {
  return FitsImageReader(path, limits).info();
}

FitsExtensionReader::FitsExtensionReader(const std::string& path) : handle_(std::make_unique<Handle>()), path_(path) {
  inspect_file(path);
  handle_->file = open_readonly(path);
}

FitsExtensionReader::~FitsExtensionReader() = default;
FitsExtensionReader::FitsExtensionReader(FitsExtensionReader&&) noexcept = default;
FitsExtensionReader& FitsExtensionReader::operator=(FitsExtensionReader&&) noexcept = default;

std::optional<FitsPlaneInfo> FitsExtensionReader::select(std::string_view extname) {
  if (!handle_ || !handle_->file) throw std::logic_error(path_ + ": FitsExtensionReader used after move");
  current_.reset();
  fitsfile* f = handle_->file.get();
  std::string name(extname);
  int status = 0;
  fits_movnam_hdu(f, IMAGE_HDU, name.data(), 0, &status);
  if (status == BAD_HDU_NUM) {
    fits_clear_errmsg();
    return std::nullopt;
  }
  if (status) fail(K::Io, path_, "cannot find the " + name + " extension: " + cfitsio_error_text(status));
  ImageParams p = image_params(f, path_);
  if (!is_single_plane(p)) {
    std::string axes;
    for (int i = 0; i < std::min(p.naxis, 9); ++i) axes += (i ? " x " : "") + std::to_string(p.naxes[i]);
    fail(K::BadDimensions, path_,
         name + " extension has NAXIS = " + std::to_string(p.naxis) + (axes.empty() ? "" : " (" + axes + ")") +
             ": one plane is required (NAXIS = 2, or NAXIS = 3 with NAXIS3 = 1)");
  }
  int hdu = 0;
  fits_get_hdu_num(f, &hdu);
  current_ = FitsPlaneInfo{path_, name, hdu, p.bitpix, static_cast<int>(p.naxes[0]), static_cast<int>(p.naxes[1])};
  return current_;
}

void FitsExtensionReader::read_rows(int row0, int nrows, std::span<float> out) {
  read_extension_rows(handle_ ? handle_->file.get() : nullptr, path_, current_, row0, nrows, out);
}

void FitsExtensionReader::read_rows(int row0, int nrows, std::span<std::uint8_t> out) {
  read_extension_rows(handle_ ? handle_->file.get() : nullptr, path_, current_, row0, nrows, out);
}

void require_plane_size(const FitsPlaneInfo& plane, int width, int height) {
  if (plane.width != width || plane.height != height)
    fail(K::BadDimensions, plane.path,
         plane.extname + " extension is " + std::to_string(plane.width) + " x " + std::to_string(plane.height) +
             ", the image is " + std::to_string(width) + " x " + std::to_string(height));
}

}  // namespace zm
