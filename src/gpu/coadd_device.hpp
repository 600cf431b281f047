// Phase 5 resampling and co-addition on the GPU: one output rectangle's accumulators live in device memory while
// tiles are resampled into them, then the rectangle is normalised and comes back as float planes.
//
// Contract with the CPU path (reproject/coadd_tile.cpp, reproject/kernels.cpp): every sample, weight and sum is
// computed with the same double-precision operations in the same order (the code is built with -fmad=false so
// no multiply-add is fused, and the Lanczos-3 weights come from the host's own table), and every pixel receives
// its tiles' contributions in the order the host adds them. The outputs are therefore the CPU's bits; the GPU
// tests compare them byte for byte. The pixel map is computed on the host (exact WCS node grid, shared code) and
// uploaded, so both paths sample the tile at the same coordinates.
//
// Errors (no device, out of memory, a failed launch) throw DeviceError with the runtime's message; the caller
// falls back to the CPU for that rectangle. Without CUDA compiled in, constructing a DeviceAccumulator throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

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

// Tile rows [row0, row0 + rows) of a tile `height` rows tall, as the host read them: `channels` data planes
// (no-data already NaN), one weight plane (feathered alpha), optionally one coverage plane (frames per pixel).
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

// How one tile contributes: resampling kernel (0 nearest, 1 bilinear, 2 Keys bicubic, 3 Lanczos-3, as
// zm::Kernel), the photometric correction gain * x + offset per channel and the tile weight.
struct Contribution {
  int kernel = 3;
  double gain[3] = {1, 1, 1};
  double offset[3] = {0, 0, 0};
  double tile_weight = 1.0;
};

// Device bytes a DeviceAccumulator of `region_pixels` output pixels holds for `channels`, with room for one tile
// band of `tile_band_pixels` input pixels and a pixel map of `rect_pixels` entries.
std::uint64_t device_bytes(long long region_pixels, int channels, long long tile_band_pixels, long long rect_pixels);

class DeviceAccumulator {
 public:
  // Zeroed accumulators for `region` (sums per channel, weight, coverage; doubles). `lanczos_table` points at
  // (lanczos_phases + 1) x 6 host weights (reproject's lanczos3_weight_table), copied once.
  DeviceAccumulator(const Rect& region, int channels, const double* lanczos_table, int lanczos_phases);
  ~DeviceAccumulator();
  DeviceAccumulator(const DeviceAccumulator&) = delete;
  DeviceAccumulator& operator=(const DeviceAccumulator&) = delete;

  // Resamples `tile` at the input coordinates (map_x, map_y: rect.rows x rect.cols, row-major) of output
  // rectangle `rect` (inside the region) and adds the contributions. Synchronous.
  void add(const TileRows& tile, const Contribution& how, const Rect& rect, const double* map_x, const double* map_y);

  // Weighted mean (NaN where the weight is 0), weight and coverage of the whole region as float planes
  // (region.rows x region.cols each; image is channels planes). Returns the pixels with weight > 0.
  long long finish(float* image, float* weight, float* coverage);

  // Moves the accumulators to another region of at most the constructed area and zeroes them (the incremental
  // method reuses one accumulator for every chunk of every tile).
  void rebase(const Rect& region);

  // Host-held accumulators (the incremental method's canvas): load copies the region's sums in from `host`,
  // store copies them back. Planes sum_0..sum_{C-1}, weight, coverage are `plane` doubles apart, rows
  // `row_stride` apart, and host element 0 is output pixel (host_x0, host_y0).
  void load(const double* host, std::size_t plane, std::size_t row_stride, int host_x0, int host_y0);
  void store(double* host, std::size_t plane, std::size_t row_stride, int host_x0, int host_y0) const;

  const Rect& region() const { return region_; }

 private:
  struct Impl;
  Rect region_;
  long long capacity_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zm::gpu
