// The additive difference of two previews over their overlap, per channel, after each one's gain: what the global
// offset solve (offset_solve.hpp) reads.
#pragma once

#include <array>

#include "photometry/offset_solve.hpp"
#include "photometry/tile_preview.hpp"

namespace zm {

// One pair's measured difference per channel.
struct OverlapDifference {
  bool ok = false;              // enough common valid pixels
  long long samples = 0;        // common valid preview pixels
  std::array<double, 3> diff{};   // median of (gb b - ga a) over the overlap, sources clipped
  std::array<double, 3> sigma{};  // its uncertainty (see overlap_difference)
  std::array<double, 3> level{};  // median of ga a there (the overlap's sky level)
};

// b warped (bilinear) onto a's preview grid; over the pixels valid in both, per channel, v = gb b - ga a; the median
// of v, then again over the samples within 3 x 1.4826 MAD of it (a star or a trail that one preview holds and the
// other does not, or holds blurred, pulls one side only). sigma = 1.2533 x 1.4826 MAD / sqrt(n) (the median's
// standard error under Gaussian scatter), never below kOverlapDifferenceFloor x |level| (block means of resampled
// structure do not average down as white noise does). Not ok below min_samples common pixels. Thread-safe for
// distinct or const previews.
OverlapDifference overlap_difference(const TilePreview& a, const TilePreview& b, const std::array<double, 3>& ga,
                                     const std::array<double, 3>& gb, int min_samples = 64);

// Share of the overlap's level below which a pair's difference is not claimed to be known (1e-4: 0.06 ADU on a
// 640 ADU sky).
inline constexpr double kOverlapDifferenceFloor = 1e-4;

}  // namespace zm
