#include "io/fits_header.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "io/fits_card.hpp"

namespace zm {
namespace {

using fitscard::LineKind;

std::string normalized_key(std::string_view key) {
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  std::string k(key);
  for (char& c : k) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return k;
}

bool looks_like_card_start(std::string_view s) {
  if (s.size() < 8) return false;
  for (char c : s.substr(0, 8))
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ' ')) return false;
  std::string_view key = s.substr(0, 8);
  return (s.size() > 9 && s[8] == '=' && s[9] == ' ') || key == "COMMENT " || key == "HISTORY " || key == "END     " ||
         key == "CONTINUE" || key == "        " || key == "HIERARCH";
}

// Splits the input into card texts: newline-separated lines, and 80-column blocks (also inside a long line).
std::vector<std::string_view> split_cards(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    bool block = line.size() > 80 && looks_like_card_start(line) && looks_like_card_start(line.substr(80));
    if (!block) {
      out.push_back(line);
      continue;
    }
    for (std::size_t pos = 0; pos < line.size(); pos += 80) out.push_back(line.substr(pos, 80));
  }
  return out;
}

// CONTINUE long-string convention: a string ending in '&' continues on the next CONTINUE card.
bool append_continuation(std::vector<FitsCard>& cards, const FitsCard& cont) {
  if (cards.empty()) return false;
  auto* prev = std::get_if<std::string>(&cards.back().value);
  const auto* next = std::get_if<std::string>(&cont.value);
  if (!prev || !next || prev->empty() || prev->back() != '&') return false;
  prev->pop_back();
  *prev += *next;
  return true;
}

std::optional<long long> integral(double d) {
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.2e18) return std::nullopt;
  return static_cast<long long>(d);
}

}  // namespace

const FitsCard* FitsHeader::find(std::string_view key) const {
  std::string k = normalized_key(key);
  auto it = std::find_if(cards_.begin(), cards_.end(), [&](const FitsCard& c) { return c.key == k; });
  return it == cards_.end() ? nullptr : &*it;
}

bool FitsHeader::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<std::string> FitsHeader::get_string(std::string_view key) const {
  const FitsCard* c = find(key);
  if (!c) return std::nullopt;
  if (auto s = std::get_if<std::string>(&c->value)) return *s;
  if (auto b = std::get_if<bool>(&c->value)) return std::string(*b ? "T" : "F");
  if (auto i = std::get_if<long long>(&c->value)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&c->value)) return fitscard::format_double(*d);
  return std::nullopt;
}

std::optional<double> FitsHeader::get_double(std::string_view key) const {
  const FitsCard* c = find(key);
  if (!c) return std::nullopt;
  if (auto d = std::get_if<double>(&c->value)) return *d;
  if (auto i = std::get_if<long long>(&c->value)) return static_cast<double>(*i);
  if (auto s = std::get_if<std::string>(&c->value)) return fitscard::parse_double(*s);
  return std::nullopt;
}

// Floats convert only when integral: silently truncating 2.5 would hide a wrong keyword.
std::optional<long long> FitsHeader::get_int(std::string_view key) const {
  const FitsCard* c = find(key);
  if (!c) return std::nullopt;
  if (auto i = std::get_if<long long>(&c->value)) return *i;
  if (auto d = std::get_if<double>(&c->value)) return integral(*d);
  if (auto s = std::get_if<std::string>(&c->value)) {
    if (auto i = fitscard::parse_int(*s)) return i;
    if (auto d = fitscard::parse_double(*s)) return integral(*d);
  }
  return std::nullopt;
}

std::optional<bool> FitsHeader::get_bool(std::string_view key) const {
  const FitsCard* c = find(key);
  if (!c) return std::nullopt;
  if (auto b = std::get_if<bool>(&c->value)) return *b;
  if (auto s = std::get_if<std::string>(&c->value)) {
    std::string u = normalized_key(*s);
    if (u == "T" || u == "TRUE") return true;
    if (u == "F" || u == "FALSE") return false;
  }
  return std::nullopt;
}

// An empty comment keeps the existing card's comment, so updating a value does not lose its documentation.
void FitsHeader::set(std::string_view key, FitsCard::Value value, std::string_view comment) {
  std::string k = normalized_key(key);
  if ((k == "HISTORY" || k == "COMMENT") && std::holds_alternative<std::string>(value)) {
    (k == "HISTORY" ? history_ : comments_).push_back(std::get<std::string>(value));
    return;
  }
  auto it = std::find_if(cards_.begin(), cards_.end(), [&](const FitsCard& c) { return c.key == k; });
  if (it == cards_.end()) {
    cards_.push_back(FitsCard{std::move(k), std::move(value), std::string(comment)});
    return;
  }
  it->value = std::move(value);
  if (!comment.empty()) it->comment = std::string(comment);
}

void FitsHeader::remove(std::string_view key) {
  std::string k = normalized_key(key);
  std::erase_if(cards_, [&](const FitsCard& c) { return c.key == k; });
}

void FitsHeader::add_history(std::string_view text) { history_.emplace_back(text); }
void FitsHeader::add_comment(std::string_view text) { comments_.emplace_back(text); }

std::string FitsHeader::to_card_string() const {
  std::string out;
  out.reserve((cards_.size() + history_.size() + comments_.size()) * 80);
  for (const FitsCard& c : cards_) out += fitscard::format_card(c);
  for (const std::string& h : history_) out += fitscard::format_commentary("HISTORY", h);
  for (const std::string& c : comments_) out += fitscard::format_commentary("COMMENT", c);
  return out;
}

FitsHeader FitsHeader::parse_cards(std::string_view text) {
  FitsHeader h;
  for (std::string_view line : split_cards(text)) {
    fitscard::ParsedLine p = fitscard::parse_line(line);
    switch (p.kind) {
      case LineKind::End:
        return h;
      case LineKind::History:
        h.history_.push_back(std::move(p.text));
        break;
      case LineKind::Comment:
        h.comments_.push_back(std::move(p.text));
        break;
      case LineKind::Continue:
        append_continuation(h.cards_, p.card);  // a stray CONTINUE card carries nothing usable
        break;
      case LineKind::Value:
      case LineKind::NoValue:
        h.cards_.push_back(std::move(p.card));
        break;
      case LineKind::Blank:
      case LineKind::Invalid:
        break;
    }
  }
  return h;
}

bool is_structural_key(std::string_view key) {
  static constexpr std::array<std::string_view, 14> kFixed = {"SIMPLE",   "BITPIX",   "NAXIS",   "EXTEND", "PCOUNT",
                                                              "GCOUNT",   "XTENSION", "END",     "BZERO",  "BSCALE",
                                                              "CHECKSUM", "DATASUM",  "EXTNAME", "BLANK"};
  std::string k = normalized_key(key);
  if (std::find(kFixed.begin(), kFixed.end(), k) != kFixed.end()) return true;
  // NAXISn: the axis lengths, n = 1..999.
  return k.size() > 5 && k.size() <= 8 && k.compare(0, 5, "NAXIS") == 0 &&
         std::all_of(k.begin() + 5, k.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace zm
