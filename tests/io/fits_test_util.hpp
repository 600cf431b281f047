// Helpers for the io tests: hand-made FITS bytes, whole-file reads and small statistics.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <csignal>
#include <functional>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace zm::test {

// Runs `body` in a forked child whose files may not grow past `limit_bytes` (a full disk, confined to the child) and
// returns the child's exit code (body's return value), or -1 when the child did not exit normally.
inline int exit_code_under_file_size_limit(rlim_t limit_bytes, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{limit_bytes, limit_bytes};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    int code = 3;
    try {
      code = body();
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  int wstatus = 0;
  if (::waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus)) return -1;
  return WEXITSTATUS(wstatus);
}

// One 80-column card (no validation: tests use it to craft headers cfitsio would refuse to write).
inline std::string card(const std::string& text) {
  std::string c = text;
  c.resize(80, ' ');
  return c;
}

// Cards + END, padded with blanks to whole 2880-byte blocks.
inline std::string header_block(const std::vector<std::string>& lines) {
  std::string h;
  for (const auto& l : lines) h += card(l);
  h += card("END");
  h.resize((h.size() + 2879) / 2880 * 2880, ' ');
  return h;
}

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Median of the finite values (NaN blanks excluded), upper middle for even counts.
inline double finite_median(const std::vector<float>& v) {
  std::vector<float> f;
  f.reserve(v.size());
  std::copy_if(v.begin(), v.end(), std::back_inserter(f), [](float x) { return std::isfinite(x); });
  if (f.empty()) return std::nan("");
  auto mid = f.begin() + static_cast<std::ptrdiff_t>(f.size() / 2);
  std::nth_element(f.begin(), mid, f.end());
  return *mid;
}

inline std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace zm::test
