// The CUDA runtime probe. Every runtime error means "no GPU" with the runtime's message; nothing here throws.
#include <cuda_runtime_api.h>
#include <fmt/format.h>

#include <mutex>

#include "gpu/device_probe.hpp"
#include "gpu/smoke_kernel.hpp"

namespace zm {
namespace {

std::string runtime_error_text(const char* call, cudaError_t e) {
  return fmt::format("{}: {} (CUDA error {})", call, cudaGetErrorString(e), static_cast<int>(e));
}

GpuInfo probe_once() {
  GpuInfo info;
  int count = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) {
    info.reason = "no usable CUDA driver/device: " + runtime_error_text("cudaGetDeviceCount", e);
    return info;
  }
  if (count <= 0) {
    info.reason = "CUDA runtime reports no device";
    return info;
  }
  cudaDeviceProp prop{};
  if (const cudaError_t e = cudaGetDeviceProperties(&prop, 0); e != cudaSuccess) {
    info.reason = runtime_error_text("cudaGetDeviceProperties", e);
    return info;
  }
  size_t free_bytes = 0, total_bytes = 0;
  if (const cudaError_t e = cudaMemGetInfo(&free_bytes, &total_bytes); e != cudaSuccess) {
    info.reason = runtime_error_text("cudaMemGetInfo", e);
    return info;
  }
  info.name = prop.name;
  info.vram_total = total_bytes;
  info.vram_free = free_bytes;
  std::string smoke_reason;
  if (!gpu::run_smoke_kernel(smoke_reason)) {
    info.reason = fmt::format("{} found but unusable: {}", info.name, smoke_reason);
    return info;
  }
  info.present = true;
  info.reason = fmt::format("{} (compute {}.{}, {} SMs)", info.name, prop.major, prop.minor, prop.multiProcessorCount);
  return info;
}

}  // namespace

GpuInfo probe_gpu() {
  // The kernel smoke test costs a context creation; the device does not change during a run.
  static std::once_flag once;
  static GpuInfo cached;
  std::call_once(once, [] { cached = probe_once(); });
  GpuInfo info = cached;
  if (info.present) {
    std::uint64_t free_bytes = 0, total_bytes = 0;
    if (gpu_memory_info(free_bytes, total_bytes)) info.vram_free = free_bytes;
  }
  return info;
}

bool gpu_memory_info(std::uint64_t& free_bytes, std::uint64_t& total_bytes) {
  size_t f = 0, t = 0;
  if (cudaMemGetInfo(&f, &t) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky-free error state so later calls report their own errors
    free_bytes = total_bytes = 0;
    return false;
  }
  free_bytes = f;
  total_bytes = t;
  return true;
}

bool built_with_cuda() { return true; }

}  // namespace zm
