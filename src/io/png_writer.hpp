// Atomic 8-bit PNG output (previews of the mosaic), through libpng.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace zm {

// Writes width x height pixels given as interleaved R, G, B bytes, row 0 first (the top row of the PNG).
// Temp file in the same folder, then rename. A wrong size throws std::invalid_argument; a failure to write
// throws InputError(Io, path, reason) and leaves `path` as it was.
void write_png_rgb8(const std::filesystem::path& path, int width, int height, std::span<const std::uint8_t> rgb);

// Same with interleaved R, G, B, A bytes (A = 0 transparent, 255 opaque; not premultiplied).
void write_png_rgba8(const std::filesystem::path& path, int width, int height, std::span<const std::uint8_t> rgba);

}  // namespace zm
