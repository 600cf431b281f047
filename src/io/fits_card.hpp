// Parsing and formatting of single FITS header cards (80-column or free-form text), shared by header and writer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "io/fits_header.hpp"

namespace zm::fitscard {

enum class LineKind { Value, NoValue, History, Comment, Continue, Blank, End, Invalid };

struct ParsedLine {
  LineKind kind = LineKind::Invalid;
  FitsCard card;     // Value / NoValue / Continue (the continued string is card.value)
  std::string text;  // History / Comment
};

// One card image or one "KEY = value / comment" text line.
ParsedLine parse_line(std::string_view line);

// 1 to 8 characters of A-Z, 0-9, '_' and '-': the keys a plain 80-column card can carry.
bool is_standard_key(std::string_view key);

std::optional<long long> parse_int(std::string_view text);
// Also reads Fortran exponents (1.0D+02).
std::optional<double> parse_double(std::string_view text);

// Shortest text that reads back to the same double, always with '.' or 'E' so it stays a float.
// Empty for NaN/Inf, which FITS cannot represent (the card is then written with an undefined value).
std::string format_double(double v);

// `s` with every byte outside printable ASCII replaced by '?' (cfitsio refuses such header bytes).
std::string printable(std::string_view s);

// Length of the quoted, ''-escaped form of `s` (without the minimum padding).
std::size_t quoted_length(std::string_view s);

// The card as exactly 80 printable characters; empty when the key cannot go on a standard card.
// Strings that do not fit are truncated (the writer uses the CONTINUE convention for those instead).
std::string format_card(const FitsCard& card);

// HISTORY / COMMENT text as one or more 80-character cards (72 characters of text each).
std::string format_commentary(std::string_view key, std::string_view text);

}  // namespace zm::fitscard
