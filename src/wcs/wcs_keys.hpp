// Keyword and wcslib record-field matching for the wcs layer: a tiny pattern language instead of std::regex.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

namespace zm::wcskeys {

// Whole-key match. In `pattern`, '#' stands for one or more digits, '@' for the single digit 1 or 2 (the two
// celestial axes); every other character is literal.
bool matches(std::string_view key, std::string_view pattern);
bool matches_any(std::string_view key, std::initializer_list<std::string_view> patterns);

// Non-negative decimal integer filling all of `s`.
std::optional<int> parse_uint(std::string_view s);
// "p_q" -> {p, q}.
std::optional<std::pair<int, int>> parse_pq(std::string_view s);

// A wcslib DPja/DQia record field, "DP1.SIP.FWD.2_0" -> {1, "SIP.FWD.2_0"}.
struct DpField {
  int axis = 0;
  std::string_view rest;
};
std::optional<DpField> split_dp_field(std::string_view field);

}  // namespace zm::wcskeys
