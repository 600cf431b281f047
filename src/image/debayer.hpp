// Colour filter array (Bayer) handling: pattern lookup and demosaicing to planar RGB, by row bands.
#pragma once

#include <optional>
#include <string_view>

#include "image/image.hpp"
#include "io/fits_header.hpp"

namespace zm {

// Names give the colours of the 2x2 cell starting at row 0, column 0 (the first stored row of the file).
enum class BayerPattern { RGGB, BGGR, GRBG, GBRG };
enum class DebayerMethod { Bilinear, EdgeAware };

std::optional<BayerPattern> parse_bayer_pattern(std::string_view text);  // case-insensitive, trims spaces
std::string_view to_string(BayerPattern p);
// BAYERPAT, then CFAIMAGE, else GRBG (the Seestar default). Unknown text falls back to GRBG as well.
BayerPattern bayer_pattern_from_header(const FitsHeader& header);
std::optional<DebayerMethod> parse_debayer_method(std::string_view text);  // "bilinear" | "edge_aware"

// Colour (0=R, 1=G, 2=B) of CFA site (x, y) in absolute image coordinates.
int cfa_channel(BayerPattern p, int x, int y);

// Rows of context a band needs on each side (the halo) so that band results equal whole-image results.
constexpr int kDebayerHalo = 3;

// Demosaics output rows [out_row0, out_row0 + out_rows) of a CFA image of size width x full_height.
// `cfa` holds input rows [cfa_row0, cfa_row0 + cfa_rows) and must include the halo where it exists.
// `out_rgb` is planar 3 x out_rows x width. Borders are handled by mirroring, so every output pixel is finite
// when its inputs are. Banded calls give bit-identical results to one whole-image call.
void debayer_rows(BayerPattern pattern, DebayerMethod method, const float* cfa, int width, int full_height,
                  int cfa_row0, int cfa_rows, int out_row0, int out_rows, float* out_rgb);

// Whole-image convenience: mono CFA (channels == 1) to RGB.
ImageF debayer(const ImageF& cfa, BayerPattern pattern, DebayerMethod method);

}  // namespace zm
