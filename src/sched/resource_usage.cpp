#include "sched/resource_usage.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace zm {
namespace {

std::string read_proc(const char* path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::optional<std::uint64_t> parse_status_kb(std::string_view status, std::string_view key) {
  while (!status.empty()) {
    const auto nl = status.find('\n');
    std::string_view line = status.substr(0, nl);
    status = nl == std::string_view::npos ? std::string_view{} : status.substr(nl + 1);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    line.remove_prefix(key.size() + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    std::uint64_t kb = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), kb);
    if (ec != std::errc() || p == line.data()) return std::nullopt;
    return kb * 1024;
  }
  return std::nullopt;
}

std::uint64_t current_rss_bytes() {
  std::ifstream in("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t peak_rss_bytes() {
  if (auto hwm = parse_status_kb(read_proc("/proc/self/status"), "VmHWM")) return *hwm;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports kilobytes
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

double process_cpu_seconds() {
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

CpuPercentMeter::CpuPercentMeter(unsigned cores)
    : cores_(std::max(1u, cores)), last_cpu_(process_cpu_seconds()), last_wall_(wall_seconds()) {}

double CpuPercentMeter::sample() {
  const double cpu = process_cpu_seconds(), wall = wall_seconds();
  const double dt = wall - last_wall_;
  const double used = cpu - last_cpu_;
  last_cpu_ = cpu;
  last_wall_ = wall;
  if (dt <= 0.0) return 0.0;
  return std::clamp(100.0 * used / (dt * cores_), 0.0, 100.0);
}

}  // namespace zm
