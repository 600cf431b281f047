// Sizes shared by the CUDA and the CPU-only builds of the GPU coadd.
#include "gpu/coadd_device.hpp"

namespace zm::gpu {

std::uint64_t DeviceAccumulator::bytes(long long capacity_pixels, long long finish_pixels, int channels,
                                       long long map_pixels) {
  const auto r = static_cast<std::uint64_t>(capacity_pixels > 0 ? capacity_pixels : 0);
  const auto f = static_cast<std::uint64_t>(finish_pixels > 0 ? finish_pixels : 0);
  const auto m = static_cast<std::uint64_t>(map_pixels > 0 ? map_pixels : 0);
  const auto c = static_cast<std::uint64_t>(channels);
  constexpr std::uint64_t kTableAndNodes = kLanczosTableSize * sizeof(double) + (1u << 20);
  // accumulators, the finish buffers, point-by-point map coordinates, the Lanczos table and node grids
  return r * (c + 2) * sizeof(double) + f * (c + 2) * sizeof(float) + m * 2 * sizeof(double) + kTableAndNodes;
}

}  // namespace zm::gpu
