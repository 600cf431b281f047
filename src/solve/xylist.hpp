// Star lists as FITS binary tables (X, Y, FLUX; 1-based FITS pixels), the input astrometry.net solves from.
#pragma once

#include <filesystem>
#include <span>

#include "stars/star.hpp"

namespace zm {

// Writes (atomically replaces) `path`. Our 0-based pixel (0,0) is FITS pixel (1,1). Throws InputError(Io) naming the
// file when it cannot be written.
void write_xylist(const std::filesystem::path& path, std::span<const Star> stars);

}  // namespace zm
