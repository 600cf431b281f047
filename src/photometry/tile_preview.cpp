// read_tile_preview: row bands of the primary (FitsImageReader) and of ALPHA (FitsExtensionReader) folded into block
// means.
#include "photometry/tile_preview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/fits_reader.hpp"

namespace zm {
namespace {

constexpr int kBandRows = 64;  // tile rows per read, rounded to whole blocks

// "A_2_1" -> (2, 1) for the SIP coefficient prefixes; nullopt for anything else (A_ORDER, A_DMAX, ...).
std::optional<std::pair<int, int>> sip_term(const std::string& key) {
  for (const char* prefix : {"AP_", "BP_", "A_", "B_"}) {
    const std::string p(prefix);
    if (key.rfind(p, 0) != 0) continue;
    const std::string rest = key.substr(p.size());
    const auto us = rest.find('_');
    if (us == std::string::npos || us == 0 || us + 1 >= rest.size()) return std::nullopt;
    const std::string a = rest.substr(0, us), b = rest.substr(us + 1);
    if (!std::all_of(a.begin(), a.end(), ::isdigit) || !std::all_of(b.begin(), b.end(), ::isdigit)) return std::nullopt;
    return std::pair{std::stoi(a), std::stoi(b)};
  }
  return std::nullopt;
}

Wcs linear_scaled(const Wcs& wcs, int f, int w, int h) {
  std::array<double, 4> cd = wcs.cd();
  for (double& v : cd) v *= f;
  const PixelCoord c = wcs.crpix();
  return Wcs::make_tan(wcs.crval(), {(c.x - 0.5 * (f - 1)) / f, (c.y - 0.5 * (f - 1)) / f}, cd, w, h);
}

double header_weight(const FitsHeader& h) {
  for (const char* key : {"ZMT_NSTK", "MT_NFRAMES", "ZMT_NRAW"}) {
    const auto v = h.get_double(key);
    if (v && *v > 0 && std::isfinite(*v)) return *v;
  }
  return 1.0;
}

// A master tile is its reference frame grown to its members' union (ZMT_X0/ZMT_Y0, ZMT_REFW/ZMT_REFH): photometry
// is measured on the reference frame's part, the fringe beyond it being only as deep as the few members dithered or
// turned out there. Tiles without these keys (grid tiles, super tiles) are measured whole. {x0, y0, x1, y1}.
std::array<int, 4> measured_rect(const FitsHeader& h, int W, int H) {
  const auto refw = h.get_int("ZMT_REFW"), refh = h.get_int("ZMT_REFH");
  if (!refw || !refh) return {0, 0, W, H};
  const int x0 = static_cast<int>(-h.get_int("ZMT_X0").value_or(0)), y0 = static_cast<int>(-h.get_int("ZMT_Y0").value_or(0));
  return {std::max(0, x0), std::max(0, y0), std::min(W, x0 + static_cast<int>(*refw)),
          std::min(H, y0 + static_cast<int>(*refh))};
}

}  // namespace

Wcs scale_wcs(const Wcs& wcs, int f, int w, int h) {
  if (f == 1) {
    Wcs out = wcs;
    out.set_size(w, h);
    return out;
  }
  if (wcs.projection_code() == "TAN" && !wcs.has_distortion()) return linear_scaled(wcs, f, w, h);
  FitsHeader hdr;
  try {
    wcs.write_to_header(hdr);
  } catch (const std::runtime_error&) {
    return linear_scaled(wcs, f, w, h);
  }
  // 0-based pixel x of the tile is preview X = (x - (f - 1) / 2) / f; CRPIX cards are 1-based.
  const PixelCoord c = wcs.crpix();
  hdr.set("CRPIX1", (c.x - 0.5 * (f - 1)) / f + 1.0);
  hdr.set("CRPIX2", (c.y - 0.5 * (f - 1)) / f + 1.0);
  for (const char* key : {"CD1_1", "CD1_2", "CD2_1", "CD2_2"}) hdr.set(key, hdr.get_double_or(key, 0.0) * f);
  std::vector<std::pair<std::string, double>> scaled;
  for (const FitsCard& card : hdr.cards())
    if (const auto pq = sip_term(card.key)) {
      const double v = hdr.get_double_or(card.key, 0.0);
      scaled.emplace_back(card.key, v * std::pow(static_cast<double>(f), pq->first + pq->second - 1));
    }
  for (const auto& [key, v] : scaled) hdr.set(key, v);
  return Wcs::from_header(hdr, "preview WCS", w, h);
}

TilePreview read_tile_preview(const std::filesystem::path& master_tile, int id, int max_side) {
  if (max_side < 1) throw std::invalid_argument("read_tile_preview: max_side must be >= 1");
  FitsImageReader reader(master_tile.string());
  const FitsImageInfo& info = reader.info();
  const int W = info.width, H = info.height, C = info.channels;
  const int f = std::max(1, (std::max(W, H) + max_side - 1) / max_side);
  const int w = W / f, h = H / f;
  if (w < 1 || h < 1)
    throw InputError(InputErrorKind::BadDimensions, master_tile.string(), "tile too small for a preview");
  Wcs tile_wcs = Wcs::from_header(info.header, master_tile.string(), W, H);
  FitsExtensionReader extensions(master_tile.string());
  const auto alpha = extensions.select("ALPHA");
  if (alpha) require_plane_size(*alpha, W, H);
  const std::array<int, 4> measured = measured_rect(info.header, W, H);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  ImageF preview(C, w, h, nan);
  const int blocks_per_band = std::max(1, kBandRows / f);
  std::vector<float> band;
  std::vector<std::uint8_t> alpha_rows;
  std::vector<double> sums(static_cast<std::size_t>(C) * w);
  std::vector<int> counts(w);
  for (int by0 = 0; by0 < h; by0 += blocks_per_band) {
    const int nb = std::min(blocks_per_band, h - by0);
    const int row0 = by0 * f, nrows = nb * f;
    band.resize(static_cast<std::size_t>(C) * nrows * W);
    reader.read_rows(row0, nrows, band);
    if (alpha) {
      alpha_rows.resize(static_cast<std::size_t>(nrows) * W);
      extensions.read_rows(row0, nrows, std::span(alpha_rows));
    }

    for (int b = 0; b < nb; ++b) {
      std::fill(sums.begin(), sums.end(), 0.0);
      std::fill(counts.begin(), counts.end(), 0);
      for (int r = b * f; r < (b + 1) * f; ++r)
        for (int x = 0; x < w * f; ++x) {
          if (alpha && alpha_rows[static_cast<std::size_t>(r) * W + x] == 0) continue;
          const int y = row0 + r;
          if (x < measured[0] || y < measured[1] || x >= measured[2] || y >= measured[3]) continue;
          bool finite = true;
          for (int c = 0; c < C; ++c)
            finite = finite && std::isfinite(band[(static_cast<std::size_t>(c) * nrows + r) * W + x]);
          if (!finite) continue;
          const int X = x / f;
          ++counts[X];
          for (int c = 0; c < C; ++c) sums[static_cast<std::size_t>(c) * w + X] += band[(static_cast<std::size_t>(c) * nrows + r) * W + x];
        }
      for (int X = 0; X < w; ++X)
        if (counts[X] == f * f)
          for (int c = 0; c < C; ++c)
            preview.at(c, by0 + b, X) = static_cast<float>(sums[static_cast<std::size_t>(c) * w + X] / (f * f));
    }
  }
  return TilePreview{id, std::move(preview), scale_wcs(tile_wcs, f, w, h), f, header_weight(info.header)};
}

}  // namespace zm
