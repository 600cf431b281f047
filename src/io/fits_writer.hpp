// Atomic FITS writers: float32 images/cubes with extensions, raw integer frames (the simulator's), and binary tables
// of double columns (star lists for astrometry.net).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "io/fits_header.hpp"

namespace zm {

// An extra image HDU (e.g. ALPHA as uint8, COVERAGE as float32). Exactly one of u8 / f32 is non-empty.
struct FitsExtension {
  std::string extname;
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> u8;
  std::vector<float> f32;
  FitsHeader header;  // extra cards (WCS, BUNIT, ...)
};

// Writes `image` as float32 (NAXIS=2 when 1 channel, else NAXIS3=channels) with the non-structural cards of
// `header` (WCS, HISTORY, COMMENT), then the extensions. Temp file in the same folder, then rename.
void write_fits_float(const std::filesystem::path& path, const ImageF& image, const FitsHeader& header,
                      std::span<const FitsExtension> extensions = {});

// Writes a 2-D unsigned 16-bit image (BITPIX=16, BZERO=32768), as Seestar does. Atomic.
void write_fits_u16(const std::filesystem::path& path, int width, int height, std::span<const std::uint16_t> pixels,
                    const FitsHeader& header);

// Writes any supported BITPIX (8, 16, 32, 64, -32, -64) from double values with the given BZERO/BSCALE
// (values are the physical ones; the writer stores (v - bzero) / bscale). naxes = {W, H} or {W, H, C}. Atomic.
// Used by tests and tools; pipelines write float32 via write_fits_float.
void write_fits_typed(const std::filesystem::path& path, int bitpix, std::span<const long> naxes,
                      std::span<const double> values, const FitsHeader& header, double bzero = 0.0,
                      double bscale = 1.0);

// One column of a FITS binary table: TTYPE = name, TFORM = '1D' (one double per row).
struct FitsTableColumn {
  std::string name;
  std::span<const double> values;
};

// Writes an empty primary HDU and one BINTABLE extension holding `columns` (at least one, all of the same length,
// else std::invalid_argument; zero rows is fine). I/O failures: InputError(Io, path, reason). Atomic.
void write_fits_table(const std::filesystem::path& path, std::span<const FitsTableColumn> columns);

}  // namespace zm
