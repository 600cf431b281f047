// File plumbing of the coadd (private to reproject): raw float outputs written by positional writes and renamed
// when complete, raw scratch planes read by row range, a memory-mapped scratch file, and the master tile's
// ALPHA / COVERAGE extensions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "io/atomic_file.hpp"

namespace zm::coadd_io {

// A raw output file of `bytes` bytes: pwrite() from any thread (disjoint ranges), commit() renames it into place.
// Destroyed without commit(): the temp file is removed.
class RawOutput {
 public:
  RawOutput(const std::filesystem::path& path, std::uint64_t bytes);
  ~RawOutput();
  RawOutput(const RawOutput&) = delete;
  RawOutput& operator=(const RawOutput&) = delete;
  void pwrite(std::uint64_t offset, const void* data, std::size_t bytes) const;
  void commit();

 private:
  AtomicOutput out_;
  int fd_ = -1;
};

// Scratch file created (truncated) on construction and removed on destruction.
class ScratchFile {
 public:
  ScratchFile(const std::filesystem::path& dir, const std::string& tag, std::uint64_t bytes);
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void pwrite(std::uint64_t offset, const void* data, std::size_t bytes) const;
  void pread(std::uint64_t offset, void* data, std::size_t bytes) const;
  // Maps the whole file read-write (MAP_SHARED); the mapping lives until destruction.
  void* map();
  // Drops the mapped pages of [offset, offset + bytes) (widened to whole pages) from this process: with MAP_SHARED
  // their contents stay in the file / page cache and come back on the next access, but they stop counting in RSS.
  void release(std::uint64_t offset, std::uint64_t bytes) const;

 private:
  std::filesystem::path path_;
  std::uint64_t bytes_ = 0;
  int fd_ = -1;
  void* map_ = nullptr;
};

// A master tile's ALPHA (u8) and COVERAGE (float32) extensions, read whole through io's FitsExtensionReader. Absent
// extensions give nullopt; an extension that is not one plane of width x height is an InputError(BadDimensions).
struct TileExtensions {
  std::optional<std::vector<std::uint8_t>> alpha;
  std::optional<std::vector<float>> coverage;
};
TileExtensions read_tile_extensions(const std::filesystem::path& path, int width, int height);

}  // namespace zm::coadd_io
