// Band kernel of the stacker: combines one channel of a row band of n aligned frames, pixel by pixel.
//
// No I/O, no knowledge of plans: the caller streams bands of any size and passes one pointer per frame. Every
// output pixel depends only on its own n samples (combine_pixel semantics, see rejection.hpp), so results are
// bit-identical for any band size and any thread count. Pixels run in fixed blocks under tbb::parallel_for, each
// thread reusing its own scratch; the statistics of each block are summed in block order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "stack/linear_coeffs.hpp"
#include "stack/rejection.hpp"

namespace zm {

// Totals over the pixels of one or more combine_band calls.
struct RejectStats {
  std::uint64_t pixels = 0;         // output pixels
  std::uint64_t empty_pixels = 0;   // pixels with no valid sample (output NaN)
  std::uint64_t samples = 0;        // valid input samples
  std::uint64_t kept = 0;           // samples that entered the combine
  std::uint64_t rejected_low = 0;
  std::uint64_t rejected_high = 0;
  RejectStats& operator+=(const RejectStats& o);
  bool operator==(const RejectStats&) const = default;
  double rejected_fraction() const {
    return samples ? static_cast<double>(rejected_low + rejected_high) / static_cast<double>(samples) : 0.0;
  }
};

// Pixels per parallel task; fixed so the decomposition never depends on the thread count.
inline constexpr std::size_t kCombineBlockPixels = 512;

// frames: n pointers, each to npix floats of the same channel of the same band (NaN = no data).
// weights: n per-frame weights of this channel, or null (all 1). norm: n per-frame coefficients applied to each
// sample before anything else (frame' = gain*frame + offset), or null. out: npix values. kept_count: npix
// numbers of kept samples (exact in float up to 2^24), or null. stats is ADDED to (not reset), so one object can
// total a whole tile. Throws std::invalid_argument on invalid params or n < 0.
void combine_band(const float* const* frames, const float* weights, int n, std::size_t npix,
                  const RejectParams& params, float* out, float* kept_count, RejectStats& stats,
                  const LinearCoeffs* norm = nullptr);

// Scratch bytes one worker thread holds for a stack of n frames (the kernel allocates nothing else).
inline constexpr std::size_t combine_scratch_bytes(int n) {
  return static_cast<std::size_t>(n) * (sizeof(float) + sizeof(std::uint64_t) + sizeof(float) + sizeof(std::uint32_t));
}

}  // namespace zm
