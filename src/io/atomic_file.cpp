#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace zm {
namespace {

std::atomic<unsigned long> g_temp_counter{0};

[[noreturn]] void throw_errno(const std::filesystem::path& path, const std::string& what) {
  throw OutputError(path.string(), what + ": " + std::strerror(errno));
}

void fsync_path(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_errno(path, "cannot open for fsync");
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  errno = err;
  if (rc != 0) throw_errno(path, "fsync failed");
}

// Makes the rename durable. Best effort: some filesystems refuse fsync on a folder, and the rename is done.
void fsync_folder(const std::filesystem::path& folder) {
  int fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicOutput::AtomicOutput(std::filesystem::path final_path) : final_(std::move(final_path)) {
  // Built by appending: GCC 12 at -O3 gives a false -Wrestrict on "." + std::string.
  std::string name(1, '.');
  name += final_.filename().string();
  name += ".tmp.";
  name += std::to_string(::getpid());
  name += '.';
  name += std::to_string(g_temp_counter.fetch_add(1));
  temp_ = final_.parent_path() / name;
  // Same pid and counter means a dead process of ours left it: safe to clear so creation cannot collide.
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

AtomicOutput::~AtomicOutput() {
  if (committed_) return;
  std::error_code ec;
  std::filesystem::remove(temp_, ec);
}

void AtomicOutput::commit() {
  if (committed_) throw std::logic_error("AtomicOutput::commit called twice for " + final_.string());
  fsync_path(temp_);
  if (::rename(temp_.c_str(), final_.c_str()) != 0) throw_errno(final_, "cannot rename " + temp_.string());
  committed_ = true;
  fsync_folder(final_.parent_path());
}

void write_text_atomic(const std::filesystem::path& path, const std::string& text) {
  AtomicOutput out(path);
  int fd = ::open(out.temp_path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw_errno(path, "cannot create " + out.temp_path().string());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      errno = err;
      throw_errno(path, "write failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw_errno(path, "close failed");
  out.commit();
}

}  // namespace zm
