// The Phase 5 coadd on the GPU (private to reproject): output bands whose accumulators live in device memory, the
// tiles a band touches resident beside them (each uploaded once, freed after its last band), maps interpolated on
// the device from exact node grids. The outputs are the CPU methods' bits (gpu/coadd_device.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "reproject/coadd_tile.hpp"

namespace zm::coadd_detail {

// Band height and work units chosen against the VRAM budget: the tallest band (halving from the whole canvas)
// whose accumulators plus every tile touching one band fit. band_rows == 0: nothing fits (note says why).
struct GpuCoaddPlan {
  int band_rows = 0;
  int bands = 0;
  int finish_rows = 0;         // rows normalised and written per step
  long long units = 0;         // progress units: one per (band, tile) pair plus one per finish step
  std::string note;
  bool fits() const { return band_rows > 0; }
};

GpuCoaddPlan plan_gpu_coadd(const CoaddContext& ctx, const std::vector<PreparedTile>& tiles, std::uint64_t budget,
                            int finish_rows);

// What the run lends the GPU path: where finished rows go, progress, cancellation, how many tiles may be read
// from disk at once (host memory).
struct GpuRunIo {
  // Called from a writer thread, one call at a time, rows in order.
  std::function<void(int y0, int rows, const float* img, const float* wgt, const float* cov)> write_rows;
  std::function<void()> tick;
  const CancelToken* cancel = nullptr;
  int load_in_flight = 1;
  int fail_after_adds = -1;  // tests: throw a DeviceError after this many tile additions (-1 = never)
};

struct GpuCoaddResult {
  long long covered = 0;
  long long bands_done = 0;
  bool cancelled = false;
  double load_seconds = 0;
  double add_seconds = 0;
  double finish_seconds = 0;
};

// Throws gpu::DeviceError on any device failure (the caller redoes the output on the CPU).
GpuCoaddResult gpu_coadd(const CoaddContext& ctx, const std::vector<PreparedTile>& tiles, const GpuCoaddPlan& plan,
                         const GpuRunIo& io);

}  // namespace zm::coadd_detail
