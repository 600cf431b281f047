// Photometric normalisation for the alternative routes: per-input gain and offset from robust linear fits on the
// overlaps of downsampled previews (the Phase 4.5 solver, harmonize_tiles, applied to frames or mega-tiles).
//
// Two solvers:
// - Frames (solve_star_photometry): a frame's sky median mixes the sky brightness of its night (additive) with the
//   transparency of its moment (multiplicative: it scales stars and sky alike), so the sky statistics alone cannot
//   give a gain. Stars can: the gain comes from the flux ratios of the same stars in overlapping frames (per pair
//   and channel, the clipped inverse-variance mean of the log ratios; stars matched by sky position; every star
//   measured in one aperture radius, 1.5 x the widest median FWHM of up to 32 sampled frames, and none whose
//   aperture reaches a frame edge), solved for every frame at once in log space over the overlap graph (least
//   squares weighted by each pair's 1 / var, one anchor), so frames that never overlap the anchor are still tied
//   to it. The pairs measured are each frame's 8 nearest overlapping frames, its 2 nearest per bearing sector from
//   the neighbouring pointings, and the links that keep the overlap graph connected (photometry_pairs.hpp): O(n)
//   star matchings, not O(n^2). The log gains are centred on their mean (the mosaic keeps the inputs' mean scale,
//   not one frame's), and a gain the pairs do not support (|log g| within `significance` x its sigma, each pair
//   counted as known to no better than kGainGateFloor) is left at 1. The offsets come from what the frames share:
//   per candidate pair, the median difference of the gain-corrected previews over their overlap
//   (overlap_difference), solved over the pair graph (solve_offsets: zero mean, the same gate). Each frame's own
//   sky median, which the offsets used to match, differs wherever the sky does (a bright cluster in some frames):
//   it set offsets of -327..+99 ADU on frames cut from one plate.
//   Pixel-level line fits on single raw frames were tried first and measured at ~5-10 % gain scatter: the sky
//   noise swamps the faint signal that gives the slope its leverage, while a bright star's aperture flux is known
//   to ~1 %.
// - Mega-tiles (solve_route_photometry): deep, full-canvas stacks whose overlaps are large and well exposed, so the
//   Phase 4.5 line fits on previews (harmonize_tiles) give gain and offset directly.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/coadd_frame.hpp"
#include "stars/detect.hpp"

namespace zm {

struct RoutePhotometry {
  std::vector<TileCorrection> corrections;  // per input, same order
  int anchor = -1;        // the best-tied input (frames: whose piece of the pair graph is kept; tiles: the scale)
  int pairs = 0;          // pair fits used (all channels)
  int disconnected = 0;   // inputs left at gain 1 (no star-pair path to the anchor)
  // What the significance gate decided, summed over channels (an input-channel counts once per correction).
  int gains_applied = 0, gains_not_significant = 0;
  int offsets_applied = 0, offsets_not_significant = 0, offsets_unlinked = 0;
};

// How the frame routes match frames: the gate's significance (sigmas; <= 0 applies every correction) and the side
// of the previews the offsets are measured on.
struct FrameMatchOptions {
  double significance = 3.0;
  int preview_side = 128;
};

// Previews of raw-plane inputs (`max_side` px at most) in parallel, then harmonize_tiles. Fewer than two inputs:
// identity corrections. Deterministic for any thread count.
RoutePhotometry solve_route_photometry(const std::vector<CoaddFrame>& inputs, int max_side,
                                       const HarmonizeOptions& options, int workers);

// Star-flux gains and overlap offsets for frames (see above), gated at options.significance.
RoutePhotometry solve_star_photometry(const std::vector<CoaddFrame>& inputs, const FrameMatchOptions& options,
                                      int workers);

// Per input and channel, the gain that brings it onto inputs[ref] from the flux ratios of their common stars (the
// apertures, matching and clipping of solve_star_photometry; O(n) pairs); 0 where too few stars match. Runs in the
// caller's TBB arena; deterministic.
std::vector<std::array<double, 3>> star_gains_against(const std::vector<CoaddFrame>& inputs, int ref);
// The same with the aperture radius already known (photometry_aperture_radius over the frames' photometry_fwhm):
// a caller that has just detected stars on every frame spares the first pass that reads up to 32 frames again.
std::vector<std::array<double, 3>> star_gains_against(const std::vector<CoaddFrame>& inputs, int ref, double radius);

// The FWHM the star photometry sizes its apertures with: median over the brightest stars of a frame's middle
// channel (stars brightest first, as detect_stars returns them).
double photometry_fwhm(const std::vector<Star>& brightest_first);
// Aperture radius (px) for frames whose widest photometry_fwhm is max_fwhm.
double photometry_aperture_radius(double max_fwhm);

// Copies the corrections into the inputs' gain/offset; weight = 1 / (gain * sigma)^2 per channel when sigma > 0
// (inverse noise variance after correction), else 1.
void apply_route_photometry(std::vector<CoaddFrame>& inputs, const RoutePhotometry& p,
                            const std::vector<std::array<float, 3>>& sigmas);

}  // namespace zm
