#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "image/debayer.hpp"

namespace zm {

namespace {

std::string normalised(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return s;
}

// Colour of the 2x2 cell sites (0,0), (1,0), (0,1), (1,1) as (x, y), read off the pattern name.
constexpr std::array<std::array<int, 4>, 4> kCell = {{
    {0, 1, 1, 2},  // RGGB
    {2, 1, 1, 0},  // BGGR
    {1, 0, 2, 1},  // GRBG
    {1, 2, 0, 1},  // GBRG
}};

}  // namespace

std::optional<BayerPattern> parse_bayer_pattern(std::string_view text) {
  const std::string s = normalised(text);
  if (s == "RGGB") return BayerPattern::RGGB;
  if (s == "BGGR") return BayerPattern::BGGR;
  if (s == "GRBG") return BayerPattern::GRBG;
  if (s == "GBRG") return BayerPattern::GBRG;
  return std::nullopt;
}

std::string_view to_string(BayerPattern p) {
  switch (p) {
    case BayerPattern::RGGB:
      return "RGGB";
    case BayerPattern::BGGR:
      return "BGGR";
    case BayerPattern::GRBG:
      return "GRBG";
    case BayerPattern::GBRG:
      return "GBRG";
  }
  return "GRBG";
}

BayerPattern bayer_pattern_from_header(const FitsHeader& header) {
  // ZeMosaic takes BAYERPAT, else CFAIMAGE, and falls back to the Seestar pattern for anything it cannot use: a
  // present but unreadable BAYERPAT does not fall through to CFAIMAGE. A blank value carries no information, so
  // it counts as absent.
  for (std::string_view key : {"BAYERPAT", "CFAIMAGE"}) {
    auto text = header.get_string(key);
    if (!text || normalised(*text).empty()) continue;
    return parse_bayer_pattern(*text).value_or(BayerPattern::GRBG);
  }
  return BayerPattern::GRBG;
}

std::optional<DebayerMethod> parse_debayer_method(std::string_view text) {
  std::string s = normalised(text);
  std::replace(s.begin(), s.end(), '-', '_');
  if (s == "BILINEAR") return DebayerMethod::Bilinear;
  if (s == "EDGE_AWARE" || s == "EDGEAWARE") return DebayerMethod::EdgeAware;
  return std::nullopt;
}

int cfa_channel(BayerPattern p, int x, int y) { return kCell[static_cast<int>(p)][(x & 1) + 2 * (y & 1)]; }

}  // namespace zm
