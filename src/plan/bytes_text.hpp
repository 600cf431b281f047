// Human-readable byte counts for reasons, tables and logs ("24.43 GiB").
#pragma once

#include <cstdint>
#include <string>

namespace zm {

inline constexpr std::uint64_t kKiB = 1024ULL;
inline constexpr std::uint64_t kMiB = 1024ULL * kKiB;
inline constexpr std::uint64_t kGiB = 1024ULL * kMiB;

// Binary units with two decimals above 1 KiB: "512 B", "1.50 KiB", "24.43 GiB".
std::string human_bytes(std::uint64_t bytes);

// GiB given as a (possibly fractional) number, rounded down to whole bytes.
std::uint64_t gib_to_bytes(double gib);

}  // namespace zm
