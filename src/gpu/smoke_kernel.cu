// Device smoke test: each thread writes its index plus one; the host checks every value.
#include <cuda_runtime_api.h>

#include <string>
#include <vector>

#include "gpu/smoke_kernel.hpp"

namespace zm::gpu {
namespace {

constexpr int kThreads = 64;

__global__ void write_index_plus_one(int* out) { out[threadIdx.x] = static_cast<int>(threadIdx.x) + 1; }

bool failed(cudaError_t e, const char* what, std::string& reason) {
  if (e == cudaSuccess) return false;
  reason = std::string(what) + ": " + cudaGetErrorString(e);
  return true;
}

}  // namespace

bool run_smoke_kernel(std::string& reason) {
  int* device = nullptr;
  if (failed(cudaMalloc(&device, kThreads * sizeof(int)), "cudaMalloc", reason)) return false;
  write_index_plus_one<<<1, kThreads>>>(device);
  bool ok = !failed(cudaGetLastError(), "kernel launch", reason);
  std::vector<int> host(kThreads, 0);
  if (ok) ok = !failed(cudaMemcpy(host.data(), device, kThreads * sizeof(int), cudaMemcpyDeviceToHost), "cudaMemcpy", reason);
  cudaFree(device);
  for (int i = 0; ok && i < kThreads; ++i) {
    if (host[i] != i + 1) {
      reason = "smoke kernel produced wrong values";
      ok = false;
    }
  }
  return ok;
}

}  // namespace zm::gpu
