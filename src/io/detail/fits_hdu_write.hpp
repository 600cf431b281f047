// cfitsio calls shared by the FITS writers (whole-image, streamed, table), with our error reporting. Private to the
// io layer (io/detail/).
#pragma once

#include <fitsio.h>

#include <filesystem>
#include <span>
#include <string>

#include "io/atomic_file.hpp"
#include "io/detail/cfitsio_handle.hpp"
#include "io/fits_header.hpp"
#include "io/fits_writer.hpp"

namespace zm::fitswrite {

// Throws InputError(Io, final path, "<what>: <cfitsio text>") when status is non-zero.
void check(int status, const AtomicOutput& out, const std::string& what);

// The temp file of `out` as a new, empty FITS file.
FitsFilePtr create_fits(const AtomicOutput& out);

// Appends an image HDU (primary if the file is empty) of the given BITPIX and axes.
void create_image(fitsfile* f, int bitpix, std::span<const LONGLONG> naxes, const AtomicOutput& out);

// Appends `card` to the current header (long strings through the CONTINUE convention).
void write_card(fitsfile* f, const FitsCard& card, const AtomicOutput& out);

// Replaces the card with the same key where it stands (with its CONTINUE cards; an empty comment keeps the old
// one), else appends it.
// HISTORY and COMMENT (string values) are appended as commentary cards.
void update_card(fitsfile* f, const FitsCard& card, const AtomicOutput& out);

// Copies the non-structural cards of `header` (typed values, HISTORY, COMMENT) into the current HDU.
void write_header_cards(fitsfile* f, const FitsHeader& header, const AtomicOutput& out);

// Appends an image extension (BYTE_IMG or FLOAT_IMG, width x height) named `extname` with `header`'s cards.
void begin_extension(fitsfile* f, int bitpix, int width, int height, const std::string& extname,
                     const FitsHeader& header, const AtomicOutput& out);

// nelem values of `datatype` (TFLOAT, TBYTE, ...) from the 1-based element `first` of the current image.
// On little-endian machines cfitsio converts through its own buffer and leaves `data` untouched.
void write_pixels(fitsfile* f, int datatype, LONGLONG first, std::size_t n, const void* data,
                  const AtomicOutput& out);

// Throws std::invalid_argument unless the extension has a size and exactly one payload of width * height values.
void validate_extension(const FitsExtension& ext, const std::filesystem::path& path);
// begin_extension + its pixels.
void write_extension(fitsfile* f, const FitsExtension& ext, const AtomicOutput& out);

// Closes (reporting a failing final flush) and commits the temp file.
void finish(FitsFilePtr& f, AtomicOutput& out);

}  // namespace zm::fitswrite
