// Branch-free sorting of the sample keys of one pixel stack: pruned Batcher networks for up to 32 keys, then
// branch-free merges of 32-key runs. Random sample order makes comparison sorts mispredict about once per
// element; this path has no data-dependent branches.
//
// A key is a double carrying a float sample and its frame index: the float converted to double leaves the low
// 29 mantissa bits zero, and the frame index goes there. Keys then order by value (ties by frame index; the
// index order is reversed for negative values, still a fixed order), and double min/max compile to minsd/maxsd
// where 64-bit integer min/max would branch.
#pragma once

#include <bit>
#include <cstdint>

namespace zm::detail {

inline constexpr int kSortRun = 32;
inline constexpr int kKeyIndexBits = 29;
inline constexpr std::uint64_t kKeyIndexMask = (std::uint64_t{1} << kKeyIndexBits) - 1;

// Finite sample x of frame k < 2^29.
inline double make_key(float x, std::uint32_t k) {
  return std::bit_cast<double>(std::bit_cast<std::uint64_t>(static_cast<double>(x)) | k);
}
inline float key_value(double key) {
  return static_cast<float>(std::bit_cast<double>(std::bit_cast<std::uint64_t>(key) & ~kKeyIndexMask));
}
inline std::uint32_t key_frame(double key) {
  return static_cast<std::uint32_t>(std::bit_cast<std::uint64_t>(key) & kKeyIndexMask);
}

// Capacity sort_keys needs in `keys` and `tmp` for m keys: m rounded up to a whole run (the tail is padded).
inline constexpr int sort_capacity(int m) { return (m + kSortRun - 1) / kSortRun * kSortRun; }

// Sorts keys[0..m) ascending. keys and tmp must each hold sort_capacity(m) entries; keys[m..capacity) are
// overwritten.
void sort_keys(double* keys, int m, double* tmp);

}  // namespace zm::detail
