#include "pipeline/model/raw_planes.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "pipeline/model/frame_cache.hpp"

namespace zm {
namespace fs = std::filesystem;

RawPlanesWriter::RawPlanesWriter(const fs::path& path, int width, int height, int channels)
    : out_(path), width_(width), height_(height), channels_(channels) {
  fd_ = ::open(out_.temp_path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd_ < 0) throw InputError(InputErrorKind::Io, path.string(), std::string("cannot create: ") + std::strerror(errno));
  const off_t size = static_cast<off_t>(sizeof(float)) * width * height * channels;
  if (::ftruncate(fd_, size) != 0)
    throw InputError(InputErrorKind::Io, path.string(), std::string("cannot size: ") + std::strerror(errno));
}

RawPlanesWriter::~RawPlanesWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void RawPlanesWriter::write_rows(int row0, int nrows, const float* data) {
  if (row0 < 0 || nrows < 0 || row0 + nrows > height_) throw std::out_of_range("RawPlanesWriter: rows out of range");
  const std::size_t band = static_cast<std::size_t>(nrows) * width_;
  for (int c = 0; c < channels_; ++c) {
    const char* src = reinterpret_cast<const char*>(data + c * band);
    std::size_t left = band * sizeof(float);
    off_t at = (static_cast<off_t>(c) * height_ + row0) * width_ * static_cast<off_t>(sizeof(float));
    while (left > 0) {
      const ssize_t n = ::pwrite(fd_, src, left, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw InputError(InputErrorKind::Io, out_.final_path().string(), "short write (disk full?)");
      src += n;
      left -= static_cast<std::size_t>(n);
      at += n;
    }
  }
}

void RawPlanesWriter::commit() {
  ::close(fd_);
  fd_ = -1;
  out_.commit();
}

MosaicWriters::MosaicWriters(const MosaicArtifacts& a)
    : image(a.image, a.width, a.height, a.channels),
      weight(a.weight, a.width, a.height, 1),
      coverage(a.coverage, a.width, a.height, 1) {}

void MosaicWriters::commit() {
  image.commit();
  weight.commit();
  coverage.commit();
}

bool artifacts_complete(const MosaicArtifacts& a) {
  const std::uintmax_t plane = static_cast<std::uintmax_t>(a.width) * a.height * sizeof(float);
  std::error_code ec;
  return plane > 0 && fs::file_size(a.image, ec) == plane * a.channels && fs::file_size(a.weight, ec) == plane &&
         fs::file_size(a.coverage, ec) == plane;
}

TilePreview planes_preview(const fs::path& path, int width, int height, int channels, const Wcs& wcs, int id,
                           int max_side) {
  const int f = std::max(1, (std::max(width, height) + max_side - 1) / max_side);
  const int pw = width / f, ph = height / f;
  TilePreview p{id, ImageF(channels, pw, ph, std::numeric_limits<float>::quiet_NaN()), scale_wcs(wcs, f, pw, ph), f, 1.0};
  const CachedFrameReader reader(path, width, height, channels);
  std::vector<float> rows(static_cast<std::size_t>(channels) * f * width);
  const std::size_t band = static_cast<std::size_t>(f) * width;
  const double inv = 1.0 / (static_cast<double>(f) * f);
  for (int Y = 0; Y < ph; ++Y) {
    reader.read_rows(Y * f, f, rows);
    for (int X = 0; X < pw; ++X) {
      bool ok = true;
      double sums[4] = {0, 0, 0, 0};
      for (int c = 0; c < channels && ok; ++c)
        for (int dy = 0; dy < f && ok; ++dy) {
          const float* r = rows.data() + c * band + static_cast<std::size_t>(dy) * width + X * f;
          for (int dx = 0; dx < f; ++dx) {
            if (!std::isfinite(r[dx])) {
              ok = false;
              break;
            }
            sums[c] += r[dx];
          }
        }
      if (ok)
        for (int c = 0; c < channels; ++c) p.image.at(c, Y, X) = static_cast<float>(sums[c] * inv);
    }
  }
  return p;
}

}  // namespace zm
