#include "plan/bytes_text.hpp"

#include <fmt/format.h>

#include <cmath>

namespace zm {

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < kKiB) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (v >= 1024.0 && unit < 4) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.2f} {}", v, kUnits[unit]);
}

std::uint64_t gib_to_bytes(double gib) {
  if (!(gib > 0.0)) return 0;
  return static_cast<std::uint64_t>(std::floor(gib * static_cast<double>(kGiB)));
}

}  // namespace zm
