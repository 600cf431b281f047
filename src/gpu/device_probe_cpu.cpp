// The probe of a binary built without CUDA: there is never a GPU to use.
#include "gpu/device_probe.hpp"

namespace zm {

GpuInfo probe_gpu() {
  GpuInfo info;
  info.reason = "built without CUDA";
  return info;
}

bool gpu_memory_info(std::uint64_t& free_bytes, std::uint64_t& total_bytes) {
  free_bytes = total_bytes = 0;
  return false;
}

bool built_with_cuda() { return false; }

}  // namespace zm
