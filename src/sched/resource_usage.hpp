// This process's resource use: resident memory now and at its peak, CPU time (telemetry and run summaries).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace zm {

// Resident set size now (/proc/self/statm), 0 when unreadable.
std::uint64_t current_rss_bytes();
// High-water mark of the resident set: VmHWM from /proc/self/status, else getrusage's ru_maxrss.
std::uint64_t peak_rss_bytes();
// Resets the high-water mark to the current RSS (writes "5" to /proc/self/clear_refs, Linux >= 4.0), so a phase
// can report its own peak. False when the kernel refuses.
bool reset_peak_rss();
// User + system CPU time of the whole process (all threads), seconds.
double process_cpu_seconds();

// "VmHWM:   123456 kB" -> bytes, from /proc/self/status-like text.
std::optional<std::uint64_t> parse_status_kb(std::string_view status, std::string_view key);

// Turns process CPU time into a percentage of `cores` since the previous sample() (or construction).
class CpuPercentMeter {
 public:
  explicit CpuPercentMeter(unsigned cores);
  double sample();

 private:
  unsigned cores_;
  double last_cpu_ = 0.0;
  double last_wall_ = 0.0;
};

}  // namespace zm
