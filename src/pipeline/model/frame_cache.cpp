#include "pipeline/model/frame_cache.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "io/atomic_file.hpp"

namespace zm {

void write_cached_frame(const std::filesystem::path& path, const ImageF& image) {
  AtomicOutput out(path);
  {
    std::ofstream f(out.temp_path(), std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(image.data.data()),
            static_cast<std::streamsize>(image.data.size() * sizeof(float)));
    if (!f) throw OutputError(path.string(), std::string("cannot write the cached frame: ") + std::strerror(errno));
  }
  out.commit();
}

CachedFrameReader::CachedFrameReader(const std::filesystem::path& path, int width, int height, int channels,
                                     SensorFlat flat)
    : path_(path), width_(width), height_(height), channels_(channels), flat_(flat) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw InputError(InputErrorKind::NotFound, path.string(), std::strerror(errno));
  struct stat st {};
  const auto expected = static_cast<off_t>(sizeof(float)) * width * height * channels;
  if (::fstat(fd_, &st) != 0 || st.st_size != expected) {
    ::close(fd_);
    throw InputError(InputErrorKind::Truncated, path.string(),
                     fmt::format("cached frame has {} bytes, expected {}", st.st_size, expected));
  }
}

CachedFrameReader::~CachedFrameReader() {
  if (fd_ >= 0) ::close(fd_);
}

void CachedFrameReader::read_rows(int row0, int nrows, std::span<float> out) const {
  const std::size_t band = static_cast<std::size_t>(nrows) * width_;
  if (row0 < 0 || nrows < 0 || row0 + nrows > height_ || out.size() < band * channels_)
    throw std::out_of_range(fmt::format("{}: rows [{}, {}) out of range", path_.string(), row0, row0 + nrows));
  for (int c = 0; c < channels_; ++c) {
    const off_t offset = (static_cast<off_t>(c) * height_ + row0) * width_ * static_cast<off_t>(sizeof(float));
    auto* dst = reinterpret_cast<char*>(out.data() + c * band);
    std::size_t left = band * sizeof(float);
    off_t at = offset;
    while (left > 0) {
      const ssize_t got = ::pread(fd_, dst, left, at);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        throw InputError(InputErrorKind::Io, path_.string(), "short read from cached frame");
      }
      dst += got;
      at += got;
      left -= static_cast<std::size_t>(got);
    }
  }
  if (flat_.applies_to(width_, height_)) flat_.apply_rows(out.data(), channels_, row0, nrows);
}

ImageF CachedFrameReader::read_all() const {
  ImageF img(channels_, width_, height_);
  read_rows(0, height_, img.data);
  return img;
}

}  // namespace zm
