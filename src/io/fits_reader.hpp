// Read-only access to FITS images: the first image HDU of a file, whole or by row ranges, as float32; and named
// single-plane image extensions (a master tile's ALPHA, COVERAGE) by row ranges, as float32 or uint8.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "image/image.hpp"
#include "io/fits_header.hpp"

namespace zm {

struct FitsReadLimits {
  long long max_axis = 65535;       // any NAXISn above this is rejected before allocating
  long long max_pixels = 1LL << 31; // per plane
};

struct FitsImageInfo {
  std::string path;
  int hdu = 1;        // 1-based HDU number holding the image
  int bitpix = 0;
  int naxis = 0;
  int width = 0;      // NAXIS1
  int height = 0;     // NAXIS2
  int channels = 1;   // NAXIS3 (1 for 2-D images)
  double bzero = 0.0;
  double bscale = 1.0;
  FitsHeader header;  // every card of that HDU (structural ones included)
};

// Opens `path` read-only (fits_open_diskfile: no extended-filename parsing), finds the primary or the first
// image HDU with data, validates it. Every failure is an InputError naming the file and the problem:
// missing / zero-size / not FITS / truncated / NAXIS 0 or > 3 / absurd dimensions / unsupported BITPIX.
// One reader per thread: a cfitsio handle must not be shared between threads.
class FitsImageReader {
 public:
  explicit FitsImageReader(const std::string& path, const FitsReadLimits& limits = {});
  ~FitsImageReader();
  FitsImageReader(FitsImageReader&&) noexcept;
  FitsImageReader& operator=(FitsImageReader&&) noexcept;

  const FitsImageInfo& info() const noexcept { return info_; }

  // Reads rows [row0, row0 + nrows) of every channel, BZERO/BSCALE applied, into `out`
  // laid out as channels x nrows x width. out.size() must be channels * nrows * width.
  void read_rows(int row0, int nrows, std::span<float> out);
  // Whole image. With reject_all_nan, an image without a single finite pixel is InputError(AllNan).
  ImageF read_all(bool reject_all_nan = true);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  FitsImageInfo info_;
};

// Header-only read of the image HDU (cheap: no pixel access). Same validation as the reader.
FitsImageInfo read_fits_info(const std::string& path, const FitsReadLimits& limits = {});

// One image plane held by a named extension.
struct FitsPlaneInfo {
  std::string path;
  std::string extname;
  int hdu = 0;     // 1-based HDU number
  int bitpix = 0;
  int width = 0;   // NAXIS1
  int height = 0;  // NAXIS2
};

// The named image extensions of a FITS file (EXTNAME = 'ALPHA', 'COVERAGE', ...), each read as one plane.
// A valid extension is a single plane: NAXIS = 2, or NAXIS = 3 with NAXIS3 = 1 (the one rule of the project).
// Every failure is an InputError naming the file: it cannot be opened as FITS (kinds as for FitsImageReader), the
// extension is not a single plane (BadDimensions), a read fails (Io). One reader per thread.
class FitsExtensionReader {
 public:
  explicit FitsExtensionReader(const std::string& path);
  ~FitsExtensionReader();
  FitsExtensionReader(FitsExtensionReader&&) noexcept;
  FitsExtensionReader& operator=(FitsExtensionReader&&) noexcept;

  // Makes the image extension named `extname` the current one and describes it; nullopt when the file has none.
  std::optional<FitsPlaneInfo> select(std::string_view extname);

  // Rows [row0, row0 + nrows) of the current extension, nrows x width values, BZERO/BSCALE applied; as float,
  // BLANK and NaN read as NaN; values beyond the type's range arrive clamped. Needs a successful select().
  void read_rows(int row0, int nrows, std::span<float> out);
  void read_rows(int row0, int nrows, std::span<std::uint8_t> out);

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::string path_;
  std::optional<FitsPlaneInfo> current_;
};

// InputError(BadDimensions, path, "<EXTNAME> extension is w x h, the image is W x H") unless `plane` is
// width x height.
void require_plane_size(const FitsPlaneInfo& plane, int width, int height);

}  // namespace zm
