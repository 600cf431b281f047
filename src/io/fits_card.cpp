#include "io/fits_card.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <tuple>
#include <utility>

namespace zm::fitscard {
namespace {

constexpr std::size_t kCard = 80;
constexpr std::size_t kMaxQuoted = kCard - 10;  // "KEY     = " takes the first 10 columns

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_key_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// HIERARCH keys ("HIERARCH ESO DET GAIN") may hold spaces and dots; they are kept without the prefix.
std::optional<std::string> keyword_before_equals(std::string_view s) {
  s = trim(s);
  bool hierarch = s.size() > 9 && upper(s.substr(0, 9)) == "HIERARCH ";
  if (hierarch) s = trim(s.substr(9));
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (!is_key_char(c) && !(hierarch && (c == ' ' || c == '.'))) return std::nullopt;
  return upper(s);
}

// A quoted FITS string starting at s[0] == '\''; returns the string and what follows the closing quote.
std::pair<std::string, std::string_view> parse_quoted(std::string_view s) {
  std::string out;
  std::size_t i = 1;
  while (i < s.size()) {
    if (s[i] == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        out += '\'';
        i += 2;
        continue;
      }
      ++i;
      break;
    }
    out += s[i++];
  }
  // Trailing blanks inside the quotes are not significant (FITS 4.0, 4.2.1).
  out.erase(rtrim(out).size());
  return {out, s.substr(std::min(i, s.size()))};
}

std::string comment_after_slash(std::string_view rest) {
  std::size_t slash = rest.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(trim(rest.substr(slash + 1)));
}

FitsCard::Value parse_unquoted(std::string_view token) {
  if (token.empty()) return std::monostate{};
  if (token == "T") return true;
  if (token == "F") return false;
  if (auto i = parse_int(token)) return *i;
  if (auto d = parse_double(token)) return *d;
  return std::string(token);  // lenient: complex numbers, unquoted text in .ini sidecars
}

// Value field (everything after '='): the typed value and the comment.
std::pair<FitsCard::Value, std::string> parse_value_field(std::string_view v) {
  v = trim(v);
  if (!v.empty() && v.front() == '\'') {
    auto [str, rest] = parse_quoted(v);
    return {std::move(str), comment_after_slash(rest)};
  }
  std::size_t slash = v.find('/');
  std::string_view token = trim(v.substr(0, slash));
  std::string comment = slash == std::string_view::npos ? std::string() : std::string(trim(v.substr(slash + 1)));
  return {parse_unquoted(token), std::move(comment)};
}


std::string quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  // Pad to 8 characters so the closing quote is at column 20 or later, as the standard recommends.
  while (out.size() < 9) out += ' ';
  return out + "'";
}

// Longest prefix of s whose quoted form fits on one card (never splitting a '' escape).
std::string_view fitting_prefix(std::string_view s) {
  std::size_t len = 2;
  std::size_t i = 0;
  for (; i < s.size(); ++i) {
    std::size_t add = s[i] == '\'' ? 2 : 1;
    if (len + add > kMaxQuoted) break;
    len += add;
  }
  return s.substr(0, i);
}

std::string value_text(const FitsCard::Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return {}; }
    std::string operator()(bool b) const { return b ? "T" : "F"; }
    std::string operator()(long long i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_double(d); }
    std::string operator()(const std::string& s) const { return quoted(printable(fitting_prefix(s))); }
  };
  return std::visit(Visitor{}, value);
}

std::string padded_key(std::string_view key) {
  std::string k(key);
  k.resize(8, ' ');
  return k;
}

std::string finish_card(std::string card, std::string_view comment) {
  if (!comment.empty() && card.size() + 3 < kCard) card += " / " + printable(comment);
  card.resize(kCard, ' ');
  return card;
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c < 32 || c > 126) c = '?';
  return out;
}

bool is_standard_key(std::string_view key) {
  if (key.empty() || key.size() > 8) return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

std::optional<long long> parse_int(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty() || (text.front() == '-' && text.size() == 1)) return std::nullopt;
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::string s(text);
  for (char& c : s)
    if (c == 'D' || c == 'd') c = 'E';
  double v = 0.0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string format_double(double v) {
  if (!std::isfinite(v)) return {};
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? ptr : buf);
  for (char& c : s)
    if (c == 'e') c = 'E';
  if (s.find_first_of(".E") == std::string::npos) s += ".0";
  return s;
}

std::size_t quoted_length(std::string_view s) {
  return 2 + s.size() + static_cast<std::size_t>(std::count(s.begin(), s.end(), '\''));
}

std::string format_card(const FitsCard& card) {
  if (!is_standard_key(card.key)) return {};
  std::string out = padded_key(card.key);
  if (std::holds_alternative<std::monostate>(card.value)) {
    if (!card.comment.empty()) out += printable(card.comment);
    out.resize(kCard, ' ');
    return out;
  }
  std::string value = value_text(card.value);
  out += "= ";
  if (std::holds_alternative<std::string>(card.value))
    out += value;
  else  // numbers and logicals right-justified to column 30 (fixed format)
    out += std::string(value.size() < 20 ? 20 - value.size() : 0, ' ') + value;
  return finish_card(std::move(out), card.comment);
}

std::string format_commentary(std::string_view key, std::string_view text) {
  std::string out;
  std::string clean = printable(text);
  std::size_t pos = 0;
  do {
    std::string card = padded_key(key) + clean.substr(pos, 72);
    card.resize(kCard, ' ');
    out += card;
    pos += 72;
  } while (pos < clean.size());
  return out;
}

ParsedLine parse_line(std::string_view raw) {
  ParsedLine p;
  std::string_view line = rtrim(raw);
  if (trim(line).empty()) {
    p.kind = LineKind::Blank;
    return p;
  }
  bool has_indicator = line.size() > 8 && line[8] == '=';
  std::string key8 = upper(trim(line.substr(0, std::min<std::size_t>(8, line.size()))));
  std::string_view after8 = line.size() > 8 ? line.substr(8) : std::string_view();
  // Columns 9-80 of HISTORY and COMMENT are text even when column 9 holds '=' (FITS 4.0, 4.4.2.4).
  if (key8 == "HISTORY" || key8 == "COMMENT") {
    p.kind = key8 == "HISTORY" ? LineKind::History : LineKind::Comment;
    p.text = std::string(rtrim(after8));
    return p;
  }
  if (key8 == "END" && trim(after8).empty()) {
    p.kind = LineKind::End;
    return p;
  }
  if (!has_indicator && key8 == "CONTINUE") {
    p.kind = LineKind::Continue;
    p.card.key = key8;
    std::tie(p.card.value, p.card.comment) = parse_value_field(after8);
    return p;
  }
  std::size_t eq = line.find('=');
  if (eq != std::string_view::npos) {
    if (auto key = keyword_before_equals(line.substr(0, eq))) {
      p.kind = LineKind::Value;
      p.card.key = std::move(*key);
      std::tie(p.card.value, p.card.comment) = parse_value_field(line.substr(eq + 1));
      return p;
    }
  }
  // No value indicator: a keyword followed by commentary text (FITS 4.0, 4.1.2.2).
  std::string_view first = trim(line);
  std::size_t end = std::min(first.find(' '), first.size());
  auto key = keyword_before_equals(first.substr(0, end));
  if (!key || line.front() == ' ') {
    p.kind = key8.empty() ? LineKind::Blank : LineKind::Invalid;
    return p;
  }
  p.kind = LineKind::NoValue;
  p.card.key = std::move(*key);
  p.card.comment = std::string(trim(first.substr(end)));
  return p;
}

}  // namespace zm::fitscard
