// What the machine's GPU can offer the plan: presence, name and VRAM, or why there is no usable GPU.
#pragma once

#include <cstdint>
#include <string>

namespace zm {

struct GpuInfo {
  bool present = false;
  std::string name;
  std::uint64_t vram_total = 0;  // bytes
  std::uint64_t vram_free = 0;   // bytes, as the CUDA runtime reports them at probe time
  std::string reason;            // why present is false (or a note when it is true), for the plan's reasons
};

// Asks the CUDA runtime about device 0 (the device CUDA_VISIBLE_DEVICES exposes first). A missing driver, a driver
// too old for the runtime, no device or a device that fails a tiny kernel launch all give present = false with the
// runtime's message in `reason`; this never throws and never aborts. Without CUDA support compiled in it returns
// present = false, reason "built without CUDA".
GpuInfo probe_gpu();

// Free and total VRAM of device 0 right now (telemetry). False when there is no usable GPU.
bool gpu_memory_info(std::uint64_t& free_bytes, std::uint64_t& total_bytes);

// True when this binary was compiled with the CUDA backend (ZM_HAVE_CUDA).
bool built_with_cuda();

}  // namespace zm
