// Read-only access to the first image HDU of a FITS file, whole or by row ranges, as float32.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

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

}  // namespace zm
