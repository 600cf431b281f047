// Phase 5 resampling and co-addition on the GPU: tiles held in device memory, one output band's accumulators
// beside them, pixel maps interpolated on the device from the host's exact node grid; the band comes back
// normalised as float rows.
//
// Contract with the CPU path (reproject/coadd_tile.cpp, reproject/kernels.cpp, reproject/pixel_map.cpp): every map
// coordinate, sample, weight and sum is computed by the same host-and-device functions (reproject/resample_core.hpp)
// in the same order (the code is built with -fmad=false so no multiply-add is fused, and the Lanczos-3 weights come
// from the host's own table), and every pixel receives its tiles' contributions in the order the host adds them.
// The outputs are therefore the CPU's bits; the GPU tests compare them byte for byte.
//
// Errors (no device, out of memory, a failed launch) throw DeviceError with the runtime's message; the caller
// goes back to the CPU. Without CUDA compiled in, constructing a DeviceTile or DeviceAccumulator throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "reproject/resample_core.hpp"

namespace zm::gpu {

struct DeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An output rectangle in output pixels.
struct Rect {
  int x0 = 0;
  int y0 = 0;
  int cols = 0;
  int rows = 0;
  long long area() const { return static_cast<long long>(cols) * rows; }
};

// Tile rows [row0, row0 + rows) of a tile `height` rows tall: `channels` data planes (no-data already NaN), one
// weight plane (feathered alpha), optionally one coverage plane (frames per pixel).
struct TileRows {
  const float* data = nullptr;
  const float* weight = nullptr;
  const float* coverage = nullptr;  // nullptr: each contribution counts 1
  int channels = 1;
  int width = 0;
  int height = 0;
  int row0 = 0;
  int rows = 0;
};

// How one tile contributes: resampling kernel, the photometric correction gain * x + offset per channel and the
// tile weight.
struct Contribution {
  Kernel kernel = Kernel::Lanczos3;
  double gain[3] = {1, 1, 1};
  double offset[3] = {0, 0, 0};
  double tile_weight = 1.0;
};

// A node grid in host memory (reproject's MapNodes::view()).
using MapNodes = resample::NodeGridView;

// Page-locked host memory for downloads (DMA straight into it, no staging copy); plain memory when the driver
// refuses or without CUDA.
class PinnedFloats {
 public:
  explicit PinnedFloats(std::size_t count);
  ~PinnedFloats();
  PinnedFloats(const PinnedFloats&) = delete;
  PinnedFloats& operator=(const PinnedFloats&) = delete;
  float* data() const { return data_; }

 private:
  float* data_ = nullptr;
  bool pinned_ = false;
};

// A tile's planes uploaded to device memory.
class DeviceTile {
 public:
  explicit DeviceTile(const TileRows& host);
  ~DeviceTile();
  DeviceTile(const DeviceTile&) = delete;
  DeviceTile& operator=(const DeviceTile&) = delete;
  const TileRows& device() const { return dev_; }
  static std::uint64_t bytes(long long pixels, int channels, bool coverage) {
    return static_cast<std::uint64_t>(pixels > 0 ? pixels : 0) * (channels + 1 + (coverage ? 1 : 0)) * sizeof(float);
  }

 private:
  TileRows dev_;
  void* memory_ = nullptr;
};

class DeviceAccumulator {
 public:
  // Accumulators (sums per channel, weight, coverage; doubles) for regions of up to `capacity_pixels` output
  // pixels, and finish buffers of up to `finish_pixels`. `lanczos_table` points at the kLanczosTableSize host
  // weights (reproject's lanczos3_weight_table), copied once.
  DeviceAccumulator(long long capacity_pixels, long long finish_pixels, int channels, const double* lanczos_table);
  ~DeviceAccumulator();
  DeviceAccumulator(const DeviceAccumulator&) = delete;
  DeviceAccumulator& operator=(const DeviceAccumulator&) = delete;

  // Device bytes of an accumulator of these sizes (what the VRAM budget is checked against), map buffers for
  // `map_pixels` point-by-point coordinates included.
  static std::uint64_t bytes(long long capacity_pixels, long long finish_pixels, int channels, long long map_pixels);

  // Starts a new region (at most capacity pixels) with zeroed sums.
  void rebase(const Rect& region);

  // Resamples `tile` for output rectangle `rect` (inside the region) and adds the contributions, the map coming
  // from a node grid or point by point (map_x, map_y: rect.rows x rect.cols, row-major, host memory).
  void add(const DeviceTile& tile, const Contribution& how, const Rect& rect, const MapNodes& nodes);
  void add(const DeviceTile& tile, const Contribution& how, const Rect& rect, const double* map_x,
           const double* map_y);

  // Weighted mean (NaN where the weight is 0), weight and coverage of region rows [r0, r0 + rows) as float
  // planes of rows x region.cols (image: channels planes). Returns the pixels with weight > 0.
  long long finish_rows(int r0, int rows, float* image, float* weight, float* coverage);

 private:
  struct Impl;
  Rect region_;
  Impl* impl_ = nullptr;
};

}  // namespace zm::gpu
