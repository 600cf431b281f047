// Downsampled previews of master tiles (block means on a scaled WCS): what the Phase 4.5 overlap fits read.
#pragma once

#include <filesystem>

#include "image/image.hpp"
#include "wcs/wcs.hpp"

namespace zm {

// A downsampled view of one master tile on its own (scaled) WCS: what overlap fits read.
struct TilePreview {
  int id = 0;
  ImageF image;      // C x h x w, NaN where the tile has no data
  Wcs wcs;           // of the preview grid (the tile's WCS scaled by the block factor), sized w x h
  int factor = 1;    // block size used
  double weight = 1.0;  // e.g. number of frames
};

// Streams the master tile FITS (float32 C x H x W primary + ALPHA u8 extension, 0 = no data) by row bands with
// FitsImageReader and block-averages valid pixels so that max(w, h) <= max_side. Never loads the whole tile.
//
// factor = ceil(max(W, H) / max_side); the preview is floor(W / factor) x floor(H / factor) (the ragged last
// partial block is dropped, so preview pixel (X, Y) is exactly the mean of tile pixels
// [X f, X f + f) x [Y f, Y f + f) and its centre is tile pixel (X f + (f - 1) / 2, Y f + (f - 1) / 2)).
// A preview pixel is valid only when every tile pixel of its block is valid (ALPHA > 0 and every channel
// finite, and inside the master tile's reference frame when the header gives it, ZMT_X0/ZMT_Y0/ZMT_REFW/ZMT_REFH: a
// partly covered block would have its centroid off the pixel centre, and the tile's fringe of dithered or turned
// members is too shallow to measure on). Without an ALPHA extension only finiteness counts. weight = ZMT_NSTK / MT_NFRAMES / ZMT_NRAW from the header when present, else 1.
// Throws InputError for unreadable files (the reader's kinds; BadDimensions when ALPHA's size differs) and
// std::invalid_argument when max_side < 1.
TilePreview read_tile_preview(const std::filesystem::path& master_tile, int id, int max_side = 512);

// The WCS of a grid of factor x factor blocks of `wcs`' pixels, sized preview_w x preview_h: CRPIX and CD
// rescaled, SIP coefficients A/B/AP/BP_p_q multiplied by factor^(p+q-1) (TPV acts after CD and needs nothing).
// A distortion the header writer cannot express falls back to the linear part (a TAN approximation).
Wcs scale_wcs(const Wcs& wcs, int factor, int preview_w, int preview_h);

}  // namespace zm
