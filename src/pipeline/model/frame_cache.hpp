// Preprocessed frames on disk as raw float32 planes (C x H x W, native byte order): cheap to write, readable by
// row range with one pread per channel, so later phases stream bands instead of loading whole frames.
#pragma once

#include <filesystem>
#include <span>

#include "image/image.hpp"
#include "image/sensor_flat.hpp"

namespace zm {

// Atomically writes `image` as raw planes.
void write_cached_frame(const std::filesystem::path& path, const ImageF& image);

// Reads bands of a cached frame. One reader per thread (it owns a file descriptor). With a sensor flat that
// applies to the frame's size, every band read is divided by the vignetting profile.
class CachedFrameReader {
 public:
  CachedFrameReader(const std::filesystem::path& path, int width, int height, int channels, SensorFlat flat = {});
  ~CachedFrameReader();
  CachedFrameReader(const CachedFrameReader&) = delete;
  CachedFrameReader& operator=(const CachedFrameReader&) = delete;

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int channels() const noexcept { return channels_; }
  // Rows [row0, row0 + nrows) of every channel into out (channels x nrows x width).
  void read_rows(int row0, int nrows, std::span<float> out) const;
  ImageF read_all() const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  int width_, height_, channels_;
  SensorFlat flat_;
};

}  // namespace zm
