#include "image/debayer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "image/cfa_sites.hpp"
#include "image/padded_band.hpp"

namespace zm {

namespace {

using detail::PaddedBand;
using detail::Site;

// Output rows per inner chunk: small enough that the padded copy stays in cache, large enough that the halo
// rows copied twice cost little.
constexpr int kChunkRows = 32;
// Mirrored columns each side: the edge-aware green is needed one column outside the image and reaches two more.
constexpr int kPadCols = 4;

struct RgbRows {
  float* r;
  float* g;
  float* b;
};

// Classic 3x3 bilinear: each missing colour is the mean of the nearest sites of that colour.
void bilinear_chunk(BayerPattern p, const PaddedBand& band, int y0, int rows, int width, RgbRows out) {
  const std::ptrdiff_t w = band.stride();
  for (int k = 0; k < rows; ++k) {
    const float* row = band.row(k);
    float* r = out.r + static_cast<std::ptrdiff_t>(k) * width;
    float* g = out.g + static_cast<std::ptrdiff_t>(k) * width;
    float* b = out.b + static_cast<std::ptrdiff_t>(k) * width;
    detail::for_row_sites(p, y0 + k, 0, width, [&]<Site S>(int x) {
      const float* c = row + x;
      if constexpr (S == Site::R || S == Site::B) {
        const float orth = 0.25f * ((c[-1] + c[1]) + (c[-w] + c[w]));
        const float diag = 0.25f * ((c[-w - 1] + c[-w + 1]) + (c[w - 1] + c[w + 1]));
        r[x] = S == Site::R ? c[0] : diag;
        g[x] = orth;
        b[x] = S == Site::R ? diag : c[0];
      } else {
        const float hor = 0.5f * (c[-1] + c[1]);
        const float ver = 0.5f * (c[-w] + c[w]);
        r[x] = S == Site::GinR ? hor : ver;
        g[x] = c[0];
        b[x] = S == Site::GinR ? ver : hor;
      }
    });
  }
}

// a if pick_a else b, as bit masks: the edge-aware choices are data-dependent coin flips on noisy sky, where a
// jump would mispredict half the time, and the masks let the row loops vectorise (a ternary here does neither).
inline float select(bool pick_a, float a, float b) {
  const std::uint32_t mask = 0u - static_cast<std::uint32_t>(pick_a);
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(a) & mask) | (std::bit_cast<std::uint32_t>(b) & ~mask));
}

// The directional estimate along the smaller of two gradients, their mean on a tie.
inline float directional(float d1, float d2, float v1, float v2) {
  return select(d1 < d2, v1, select(d2 < d1, v2, 0.5f * (v1 + v2)));
}

// Hamilton-Adams style green at a red/blue site: interpolate along the direction where the green difference plus
// the same-colour second derivative is smaller, corrected by that second derivative (colour differences vary
// slower than colours). Written as mean + correction so a constant field comes out exact.
inline float edge_aware_green(const float* c, std::ptrdiff_t w) {
  const float lap_h = (2.0f * c[0] - c[-2]) - c[2];
  const float lap_v = (2.0f * c[0] - c[-2 * w]) - c[2 * w];
  const float dh = std::fabs(c[-1] - c[1]) + std::fabs(lap_h);
  const float dv = std::fabs(c[-w] - c[w]) + std::fabs(lap_v);
  const float gh = 0.5f * (c[-1] + c[1]) + 0.25f * lap_h;
  const float gv = 0.5f * (c[-w] + c[w]) + 0.25f * lap_v;
  return directional(dh, dv, gh, gv);
}

// Red or blue at a site with samples at offsets +-o: mean of the samples plus the green second derivative.
inline float colour_difference(const float* c, const float* g, float g0, std::ptrdiff_t o, std::ptrdiff_t go) {
  return 0.5f * (c[-o] + c[o]) + 0.5f * ((2.0f * g0 - g[-go]) - g[go]);
}

// Blue at a red site (or red at a blue one): the colour-difference estimate along the flatter diagonal.
inline float diagonal_colour(const float* c, std::ptrdiff_t w, const float* g, std::ptrdiff_t gw) {
  const float g0 = g[0];
  const float lap1 = (2.0f * g0 - g[-gw - 1]) - g[gw + 1];
  const float lap2 = (2.0f * g0 - g[-gw + 1]) - g[gw - 1];
  const float d1 = std::fabs(c[-w - 1] - c[w + 1]) + std::fabs(lap1);
  const float d2 = std::fabs(c[-w + 1] - c[w - 1]) + std::fabs(lap2);
  const float v1 = 0.5f * (c[-w - 1] + c[w + 1]) + 0.5f * lap1;
  const float v2 = 0.5f * (c[-w + 1] + c[w - 1]) + 0.5f * lap2;
  return directional(d1, d2, v1, v2);
}

// Edge-directed demosaic: full green plane first (one row and column beyond the output, which the red/blue step
// reads), then red and blue by colour-difference interpolation against that green. Each estimate is computed for
// every column of a row in a plain loop (which vectorises; half the results are discarded) and then picked by
// CFA phase: about twice as fast as one branchy pass over the sites.
void edge_aware_chunk(BayerPattern p, const PaddedBand& band, int y0, int rows, int width, RgbRows out,
                      std::vector<float>& scratch) {
  const std::ptrdiff_t w = band.stride();
  const std::ptrdiff_t gw = static_cast<std::ptrdiff_t>(width) + 2;
  scratch.resize(static_cast<std::size_t>(rows + 2) * static_cast<std::size_t>(gw) +
                 3 * static_cast<std::size_t>(width));
  float* green = scratch.data();
  float* diag = green + static_cast<std::ptrdiff_t>(rows + 2) * gw;
  float* hor = diag + width;
  float* ver = hor + width;
  auto green_row = [&](int k) { return green + static_cast<std::ptrdiff_t>(k + 1) * gw + 1; };

  for (int k = -1; k <= rows; ++k) {
    const float* row = band.row(k);
    float* gr = green_row(k);
    for (int x = -1; x <= width; ++x) gr[x] = edge_aware_green(row + x, w);
    const int first_green = cfa_channel(p, 1, y0 + k) == 1 ? -1 : 0;  // columns -1 and 1 share a colour
    for (int x = first_green; x <= width; x += 2) gr[x] = row[x];
  }

  for (int k = 0; k < rows; ++k) {
    const float* row = band.row(k);
    const float* gr = green_row(k);
    for (int x = 0; x < width; ++x) diag[x] = diagonal_colour(row + x, w, gr + x, gw);
    for (int x = 0; x < width; ++x) hor[x] = colour_difference(row + x, gr + x, row[x], 1, 1);
    for (int x = 0; x < width; ++x) ver[x] = colour_difference(row + x, gr + x, row[x], w, gw);
    float* r = out.r + static_cast<std::ptrdiff_t>(k) * width;
    float* g = out.g + static_cast<std::ptrdiff_t>(k) * width;
    float* b = out.b + static_cast<std::ptrdiff_t>(k) * width;
    std::copy(gr, gr + width, g);
    detail::for_row_sites(p, y0 + k, 0, width, [&]<Site S>(int x) {
      if constexpr (S == Site::R) {
        r[x] = row[x];
        b[x] = diag[x];
      } else if constexpr (S == Site::B) {
        r[x] = diag[x];
        b[x] = row[x];
      } else {
        r[x] = S == Site::GinR ? hor[x] : ver[x];
        b[x] = S == Site::GinR ? ver[x] : hor[x];
      }
    });
  }
}

// debayer_rows with the output rows addressed through three plane pointers (row stride = width).
void debayer_rows_into(BayerPattern pattern, DebayerMethod method, const float* cfa, int width, int full_height,
                       int cfa_row0, int cfa_rows, int out_row0, int out_rows, RgbRows out) {
  PaddedBand band;
  std::vector<float> scratch;
  for (int done = 0; done < out_rows; done += kChunkRows) {
    const int rows = std::min(kChunkRows, out_rows - done);
    const int y0 = out_row0 + done;
    band.fill(cfa, width, full_height, cfa_row0, cfa_rows, y0, rows, kDebayerHalo, kPadCols);
    const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(done) * width;
    const RgbRows chunk{out.r + off, out.g + off, out.b + off};
    if (method == DebayerMethod::Bilinear) {
      bilinear_chunk(pattern, band, y0, rows, width, chunk);
    } else {
      edge_aware_chunk(pattern, band, y0, rows, width, chunk, scratch);
    }
  }
}

}  // namespace

void debayer_rows(BayerPattern pattern, DebayerMethod method, const float* cfa, int width, int full_height,
                  int cfa_row0, int cfa_rows, int out_row0, int out_rows, float* out_rgb) {
  detail::check_band_args("debayer_rows", width, full_height, cfa_row0, cfa_rows, out_row0, out_rows);
  const std::ptrdiff_t plane = static_cast<std::ptrdiff_t>(out_rows) * width;
  debayer_rows_into(pattern, method, cfa, width, full_height, cfa_row0, cfa_rows, out_row0, out_rows,
                    RgbRows{out_rgb, out_rgb + plane, out_rgb + 2 * plane});
}

ImageF debayer(const ImageF& cfa, BayerPattern pattern, DebayerMethod method) {
  if (cfa.channels != 1 || cfa.width <= 0 || cfa.height <= 0) {
    throw std::invalid_argument("debayer: expects a non-empty single-channel CFA image");
  }
  ImageF rgb(3, cfa.width, cfa.height);
  const int w = cfa.width;
  const int h = cfa.height;
  // Per-pixel arithmetic does not depend on the band split, so the parallel result is the serial one.
  tbb::parallel_for(tbb::blocked_range<int>(0, h, 64), [&](const tbb::blocked_range<int>& r) {
    const std::ptrdiff_t off = static_cast<std::ptrdiff_t>(r.begin()) * w;
    debayer_rows_into(pattern, method, cfa.data.data(), w, h, 0, h, r.begin(), static_cast<int>(r.size()),
                      RgbRows{rgb.plane(0) + off, rgb.plane(1) + off, rgb.plane(2) + off});
  });
  return rgb;
}

}  // namespace zm
