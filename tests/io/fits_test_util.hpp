// Helpers for the io tests: hand-made FITS bytes, whole-file reads and small statistics.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace zm::test {

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
