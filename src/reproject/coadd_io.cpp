#include "reproject/coadd_io.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.hpp"
#include "io/fits_reader.hpp"

namespace zm::coadd_io {
namespace {

std::atomic<unsigned long> g_scratch_counter{0};

[[noreturn]] void io_fail(const std::filesystem::path& path, const std::string& what) {
  throw InputError(InputErrorKind::Io, path.string(), what + ": " + std::strerror(errno));
}

void pwrite_all(int fd, std::uint64_t offset, const void* data, std::size_t bytes, const std::filesystem::path& p) {
  const char* src = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pwrite(fd, src, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) io_fail(p, "write failed");
    src += n;
    offset += static_cast<std::uint64_t>(n);
    bytes -= static_cast<std::size_t>(n);
  }
}

void pread_all(int fd, std::uint64_t offset, void* data, std::size_t bytes, const std::filesystem::path& p) {
  char* dst = static_cast<char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::pread(fd, dst, bytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) io_fail(p, "read failed");
    dst += n;
    offset += static_cast<std::uint64_t>(n);
    bytes -= static_cast<std::size_t>(n);
  }
}

int create_sized(const std::filesystem::path& path, std::uint64_t bytes) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) io_fail(path, "cannot create");
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    io_fail(path, "cannot size the file");
  }
  return fd;
}

}  // namespace

RawOutput::RawOutput(const std::filesystem::path& path, std::uint64_t bytes) : out_(path) {
  fd_ = create_sized(out_.temp_path(), bytes);
}

RawOutput::~RawOutput() {
  if (fd_ >= 0) ::close(fd_);
}

void RawOutput::pwrite(std::uint64_t offset, const void* data, std::size_t bytes) const {
  pwrite_all(fd_, offset, data, bytes, out_.final_path());
}

void RawOutput::commit() {
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) io_fail(out_.final_path(), "close failed");
  out_.commit();
}

ScratchFile::ScratchFile(const std::filesystem::path& dir, const std::string& tag, std::uint64_t bytes)
    : bytes_(bytes) {
  std::filesystem::create_directories(dir);
  path_ = dir / (".zm_coadd_" + tag + "_" + std::to_string(::getpid()) + "_" +
                 std::to_string(g_scratch_counter.fetch_add(1)) + ".bin");
  fd_ = create_sized(path_, bytes);
}

ScratchFile::~ScratchFile() {
  if (map_ != nullptr) ::munmap(map_, bytes_);
  if (fd_ >= 0) ::close(fd_);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

void ScratchFile::pwrite(std::uint64_t offset, const void* data, std::size_t bytes) const {
  pwrite_all(fd_, offset, data, bytes, path_);
}

void ScratchFile::pread(std::uint64_t offset, void* data, std::size_t bytes) const {
  pread_all(fd_, offset, data, bytes, path_);
}

void* ScratchFile::map() {
  if (map_ != nullptr || bytes_ == 0) return map_;
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) io_fail(path_, "cannot map the accumulator file");
  map_ = p;
  return map_;
}

void ScratchFile::release(std::uint64_t offset, std::uint64_t bytes) const {
  if (map_ == nullptr || bytes == 0 || offset >= bytes_) return;
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t begin = offset / page * page;
  const std::uint64_t end = std::min(bytes_, offset + bytes);
  ::madvise(static_cast<char*>(map_) + begin, end - begin, MADV_DONTNEED);
}

TileExtensions read_tile_extensions(const std::filesystem::path& path, int width, int height) {
  FitsExtensionReader reader(path.string());
  const std::size_t n = static_cast<std::size_t>(width) * height;
  TileExtensions ext;
  if (const auto alpha = reader.select("ALPHA")) {
    require_plane_size(*alpha, width, height);
    ext.alpha.emplace(n);
    reader.read_rows(0, height, std::span(*ext.alpha));
  }
  if (const auto coverage = reader.select("COVERAGE")) {
    require_plane_size(*coverage, width, height);
    ext.coverage.emplace(n);
    reader.read_rows(0, height, std::span(*ext.coverage));
  }
  return ext;
}

}  // namespace zm::coadd_io
