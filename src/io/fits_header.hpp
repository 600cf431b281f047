// An ordered FITS header with typed accessors; the in-memory form of every header we read or write.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace zm {

// One keyword card. `value` holds the parsed value; std::monostate means a card without a value.
struct FitsCard {
  using Value = std::variant<std::monostate, bool, long long, double, std::string>;
  std::string key;  // upper case, <= 8 chars for standard cards (HIERARCH not written)
  Value value;
  std::string comment;
};

class FitsHeader {
 public:
  bool has(std::string_view key) const;
  const FitsCard* find(std::string_view key) const;

  // Typed reads. Numbers convert between int and float; numeric strings ("1.5") are accepted for numbers,
  // since some writers quote them. Return nullopt when absent or not convertible.
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<double> get_double(std::string_view key) const;
  std::optional<long long> get_int(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  double get_double_or(std::string_view key, double fallback) const { return get_double(key).value_or(fallback); }

  // Insert or replace (keeps the position of an existing card).
  void set(std::string_view key, FitsCard::Value value, std::string_view comment = {});
  void remove(std::string_view key);
  void add_history(std::string_view text);
  void add_comment(std::string_view text);

  const std::vector<FitsCard>& cards() const noexcept { return cards_; }
  const std::vector<std::string>& history() const noexcept { return history_; }
  const std::vector<std::string>& comments() const noexcept { return comments_; }

  // Whole header as concatenated 80-character cards (no END), the form wcslib's wcspih parses.
  std::string to_card_string() const;
  // Parses 80-char card blocks or newline-separated "KEY = value / comment" lines (astrometry.net and ASTAP
  // .wcs sidecars). Stops at END. Unparseable lines are skipped.
  static FitsHeader parse_cards(std::string_view text);

 private:
  std::vector<FitsCard> cards_;
  std::vector<std::string> history_;
  std::vector<std::string> comments_;
};

// The structural keywords the writer generates itself; they are skipped when copying a header.
bool is_structural_key(std::string_view key);

}  // namespace zm
