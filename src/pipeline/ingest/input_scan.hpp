// Finding the input frames: a recursive, deterministic scan for FITS files that never enters the output folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace zm {

struct InputFile {
  std::filesystem::path path;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

// *.fit / *.fits / *.fts (any case) under `input_dir`, recursively, sorted by path; `exclude_dir` (the output
// folder, possibly inside the input) is skipped, as are unreadable sub-folders. Throws InputError(NotFound) when
// `input_dir` is not a folder.
std::vector<InputFile> scan_input_folder(const std::filesystem::path& input_dir,
                                         const std::filesystem::path& exclude_dir = {});

bool has_fits_extension(const std::filesystem::path& p);

}  // namespace zm
