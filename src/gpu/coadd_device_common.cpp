// Sizes shared by the CUDA and the CPU-only builds of the GPU coadd.
#include "gpu/coadd_device.hpp"

namespace zm::gpu {

std::uint64_t device_bytes(long long region_pixels, int channels, long long tile_band_pixels, long long rect_pixels) {
  const auto r = static_cast<std::uint64_t>(region_pixels > 0 ? region_pixels : 0);
  const auto t = static_cast<std::uint64_t>(tile_band_pixels > 0 ? tile_band_pixels : 0);
  const auto m = static_cast<std::uint64_t>(rect_pixels > 0 ? rect_pixels : 0);
  const auto c = static_cast<std::uint64_t>(channels);
  constexpr std::uint64_t kTable = 2049u * 6u * sizeof(double);
  // accumulators and the finished planes, one tile band (data, weight, coverage), the pixel map, the table
  return r * ((c + 2) * sizeof(double) + (c + 2) * sizeof(float)) + t * (c + 2) * sizeof(float) +
         m * 2 * sizeof(double) + kTable;
}

}  // namespace zm::gpu
