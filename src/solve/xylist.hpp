// Star lists as FITS binary tables (X, Y, FLUX; 1-based FITS pixels), the input astrometry.net solves from.
#pragma once

#include <filesystem>
#include <span>

#include "stars/star.hpp"

namespace zm {

// Writes (overwrites) `path`. Our 0-based pixel (0,0) is FITS pixel (1,1). Throws std::runtime_error.
void write_xylist(const std::filesystem::path& path, std::span<const Star> stars);

}  // namespace zm
