// Atomic FITS writer fed by row bands, for float32 images larger than RAM (mosaic canvases) and their extensions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "io/fits_header.hpp"
#include "io/fits_writer.hpp"

namespace zm {

enum class FitsPixelType { UInt8, Float32 };

struct FitsStreamOptions {
  // Header cards kept free in every streamed HDU so that set_key after the data rewrites only the header.
  // Past that, cfitsio still adds the card but moves every following byte of the file to make room.
  int reserve_cards = 64;
};

// Writes, in this order: the float32 primary image (W x H, or W x H x C with NAXIS3 = C), then extension 1,
// extension 2, ... Each streamed HDU takes its rows by bands in any order (a row written twice keeps the last
// data) and must have every row written before the next HDU starts or commit(). Memory use does not depend
// on the image size: bands go straight to the file (cfitsio's few kilobytes of buffers) and only one flag per
// row of the HDU in progress is kept. Bands written far ahead of the rest cost one extra write of the gap,
// which cfitsio fills with zeros first.
//
// Misuse (wrong order, sizes, rows, channel, calls after commit) throws std::logic_error, std::invalid_argument
// or std::out_of_range; I/O failures throw InputError(Io, path, reason). Any exception abandons the file: the
// temp file is removed at once, the final path is left as it was, and later calls throw std::logic_error.
// One writer per thread, and never two writers on one path at a time.
class FitsStreamWriter {
 public:
  // Copies the non-structural cards of `header` (as write_fits_float does). channels >= 1.
  FitsStreamWriter(std::filesystem::path path, int width, int height, int channels, const FitsHeader& header,
                   const FitsStreamOptions& options = {});
  ~FitsStreamWriter();  // without commit(): removes the temp file
  FitsStreamWriter(FitsStreamWriter&&) noexcept;
  FitsStreamWriter& operator=(FitsStreamWriter&&) noexcept;

  // Rows [row0, row0 + nrows) of every channel of the HDU in progress, laid out channels x nrows x width
  // (the float32 primary or a float32 extension, which has one channel).
  void write_rows(int row0, int nrows, std::span<const float> data);
  // Same for a uint8 extension in progress.
  void write_rows(int row0, int nrows, std::span<const std::uint8_t> data);
  // Rows of one channel of the float32 HDU in progress, nrows x width values.
  void write_rows_channel(int channel, int row0, int nrows, std::span<const float> data);

  // Starts the next extension, written by bands like the primary. The HDU in progress must be complete.
  void add_extension_streamed(const std::string& extname, int width, int height, FitsPixelType type,
                              const FitsHeader& header = {});
  // Appends a whole in-memory extension. The HDU in progress must be complete.
  void add_extension(const FitsExtension& extension);

  // Adds or replaces a primary card (e.g. statistics known only after the data); "HISTORY" / "COMMENT" with a
  // string value append commentary. Applied at commit(); structural keys are refused (std::invalid_argument).
  void set_key(std::string_view key, FitsCard::Value value, std::string_view comment = {});
  // Same for extension `extension` (1 = the first one added; it must already exist).
  void set_extension_key(int extension, std::string_view key, FitsCard::Value value, std::string_view comment = {});

  // 0 while the primary is written, k while extension k is.
  int current_hdu() const;
  // Rows still missing in the HDU in progress (counting each channel's rows separately).
  long long rows_missing() const;
  const std::filesystem::path& path() const;

  // Applies the pending cards, closes, fsyncs and renames onto the final path. The HDU in progress must be
  // complete.
  void commit();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace zm
