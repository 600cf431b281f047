// A tiny kernel launch that proves the device really runs our code (the runtime can list a device it cannot use).
#pragma once

#include <string>

namespace zm::gpu {

// Launches a one-block kernel on the current device and checks its result. Returns false with the CUDA error
// message in `reason` when the launch, the copy or the check fails.
bool run_smoke_kernel(std::string& reason);

}  // namespace zm::gpu
