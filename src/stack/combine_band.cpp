#include "stack/combine_band.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include "stack/sort_keys.hpp"

namespace zm {
namespace {

struct BandScratch {
  std::vector<float> samples;
  RejectScratch reject;
};

// One block of pixels [begin, end): gathers each pixel's samples across frames and combines them.
RejectStats combine_block(const float* const* frames, const float* weights, int n, std::size_t begin,
                          std::size_t end, const RejectParams& p, float* out, float* kept_count,
                          const LinearCoeffs* norm, BandScratch& s) {
  s.samples.resize(static_cast<std::size_t>(n));
  s.reject.reserve(n);
  float* samples = s.samples.data();
  RejectStats st;
  for (std::size_t i = begin; i < end; ++i) {
    if (norm) {
      for (int k = 0; k < n; ++k) samples[k] = norm[k].gain * frames[k][i] + norm[k].offset;
    } else {
      for (int k = 0; k < n; ++k) samples[k] = frames[k][i];
    }
    const PixelResult r = combine_pixel(samples, weights, n, p, s.reject);
    out[i] = r.value;
    if (kept_count) kept_count[i] = static_cast<float>(r.kept);
    st.samples += static_cast<std::uint64_t>(r.kept + r.rejected_low + r.rejected_high);
    st.kept += static_cast<std::uint64_t>(r.kept);
    st.rejected_low += static_cast<std::uint64_t>(r.rejected_low);
    st.rejected_high += static_cast<std::uint64_t>(r.rejected_high);
    st.empty_pixels += r.kept == 0;
  }
  st.pixels = end - begin;
  return st;
}

}  // namespace

RejectStats& RejectStats::operator+=(const RejectStats& o) {
  pixels += o.pixels;
  empty_pixels += o.empty_pixels;
  samples += o.samples;
  kept += o.kept;
  rejected_low += o.rejected_low;
  rejected_high += o.rejected_high;
  return *this;
}

void combine_band(const float* const* frames, const float* weights, int n, std::size_t npix,
                  const RejectParams& params, float* out, float* kept_count, RejectStats& stats,
                  const LinearCoeffs* norm) {
  validate(params);
  if (n < 0 || n > (1 << detail::kKeyIndexBits))
    throw std::invalid_argument("combine_band: frame count out of range");
  if (npix == 0) return;
  const std::size_t blocks = (npix + kCombineBlockPixels - 1) / kCombineBlockPixels;
  std::vector<RejectStats> block_stats(blocks);
  tbb::enumerable_thread_specific<BandScratch> scratch;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, blocks), [&](const tbb::blocked_range<std::size_t>& br) {
    BandScratch& s = scratch.local();
    for (std::size_t b = br.begin(); b != br.end(); ++b) {
      const std::size_t begin = b * kCombineBlockPixels;
      const std::size_t end = std::min(npix, begin + kCombineBlockPixels);
      block_stats[b] = combine_block(frames, weights, n, begin, end, params, out, kept_count, norm, s);
    }
  });
  for (const RejectStats& b : block_stats) stats += b;
}

}  // namespace zm
