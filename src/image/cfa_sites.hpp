// Per-row CFA site layout, so kernels branch on the Bayer phase once per row instead of once per pixel.
#pragma once

#include "image/debayer.hpp"

namespace zm::detail {

// What a CFA site samples; green sites are told apart by the colour that shares their row, because that decides
// whether red comes from the left/right or the up/down neighbours.
enum class Site { R, B, GinR, GinB };

// Calls f.template operator()<S>(x) for every x in [xb, xe) with the Site S of column x of a row whose even
// columns are S0 and odd columns S1.
template <Site S0, Site S1, class F>
inline void run_span(int xb, int xe, F& f) {
  int x = xb;
  if (x < xe && (x & 1) != 0) {
    f.template operator()<S1>(x);
    ++x;
  }
  for (; x + 1 < xe; x += 2) {
    f.template operator()<S0>(x);
    f.template operator()<S1>(x + 1);
  }
  if (x < xe) f.template operator()<S0>(x);
}

// Runs f over columns [xb, xe) of absolute row y, with each site's type as a template argument.
template <class F>
inline void for_row_sites(BayerPattern p, int y, int xb, int xe, F&& f) {
  const int c0 = cfa_channel(p, 0, y);
  const int c1 = cfa_channel(p, 1, y);
  if (c0 == 0) {
    run_span<Site::R, Site::GinR>(xb, xe, f);
  } else if (c0 == 2) {
    run_span<Site::B, Site::GinB>(xb, xe, f);
  } else if (c1 == 0) {
    run_span<Site::GinR, Site::R>(xb, xe, f);
  } else {
    run_span<Site::GinB, Site::B>(xb, xe, f);
  }
}

}  // namespace zm::detail
