// WCS sidecar files written by plate solvers next to a frame: astrometry.net / ASTAP `.wcs`, ASTAP `.ini`.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "io/fits_header.hpp"

namespace zm {

// Parses a sidecar: a `.wcs` FITS header (80-char cards or text lines) or an ASTAP `.ini` (KEY=value lines).
// nullopt when the file is unreadable or holds no CTYPE1/CRVAL1 card.
std::optional<FitsHeader> read_wcs_sidecar(const std::filesystem::path& path);

// Candidate sidecar paths of `input`, in lookup order: <stem>.wcs and <stem>.ini next to it, then in
// `sidecar_dir` (when not empty). Only existing files are returned.
std::vector<std::filesystem::path> sidecar_candidates(const std::filesystem::path& input,
                                                      const std::filesystem::path& sidecar_dir);

}  // namespace zm
