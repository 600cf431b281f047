#include "wcs/wcs_keys.hpp"

#include <charconv>

namespace zm::wcskeys {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool matches(std::string_view key, std::string_view pattern) {
  std::size_t k = 0;
  for (char p : pattern) {
    if (p == '#') {
      const std::size_t start = k;
      while (k < key.size() && is_digit(key[k])) ++k;
      if (k == start) return false;
    } else if (p == '@') {
      if (k >= key.size() || (key[k] != '1' && key[k] != '2')) return false;
      ++k;
    } else {
      if (k >= key.size() || key[k] != p) return false;
      ++k;
    }
  }
  return k == key.size();
}

bool matches_any(std::string_view key, std::initializer_list<std::string_view> patterns) {
  for (std::string_view p : patterns)
    if (matches(key, p)) return true;
  return false;
}

std::optional<int> parse_uint(std::string_view s) {
  if (s.empty() || !is_digit(s.front())) return std::nullopt;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::pair<int, int>> parse_pq(std::string_view s) {
  const std::size_t us = s.find('_');
  if (us == std::string_view::npos) return std::nullopt;
  auto p = parse_uint(s.substr(0, us)), q = parse_uint(s.substr(us + 1));
  if (!p || !q) return std::nullopt;
  return std::pair{*p, *q};
}

std::optional<DpField> split_dp_field(std::string_view field) {
  if (field.size() < 5 || field[0] != 'D' || (field[1] != 'P' && field[1] != 'Q')) return std::nullopt;
  const std::size_t dot = field.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto axis = parse_uint(field.substr(2, dot - 2));
  if (!axis) return std::nullopt;
  return DpField{*axis, field.substr(dot + 1)};
}

}  // namespace zm::wcskeys
