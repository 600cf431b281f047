// CUDA side of the Phase 5 coadd. The arithmetic (taps, weights, node interpolation, accumulation, normalisation) is
// reproject/resample_core.hpp's, the functions the CPU path calls too; this file only arranges it into kernels that
// visit pixels in the CPU's order (reproject/coadd_tile.cpp accumulate_rect, reproject/coadd.cpp finish_rows).
#include <cuda_runtime_api.h>

#include <string>

#include "gpu/coadd_device.hpp"

namespace zm::gpu {
namespace {

namespace rs = zm::resample;

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw DeviceError(std::string(what) + ": " + cudaGetErrorString(e));
}

// Grow-only device allocation.
struct Buffer {
  void* ptr = nullptr;
  std::size_t bytes = 0;
  void reserve(std::size_t n) {
    if (n <= bytes) return;
    cudaFree(ptr);
    ptr = nullptr;
    bytes = 0;
    check(cudaMalloc(&ptr, n), "cudaMalloc");
    bytes = n;
  }
  template <class T>
  T* as() const {
    return static_cast<T*>(ptr);
  }
  ~Buffer() { cudaFree(ptr); }
};

// One plane sampled at (x, y): resample's taps, then one pixel or the weighted sum of the taps.
template <Kernel K>
__device__ inline float apply_plane(const rs::PointTaps<rs::taps_of(K)>& t, rs::TapKind kind, const float* plane) {
  if constexpr (rs::taps_of(K) == 1) {
    return plane[t.yo[0] + t.xi[0]];
  } else {
    if (kind == rs::TapKind::Direct) return plane[t.yo[0] + t.xi[0]];
    return rs::combine_taps<rs::taps_of(K)>(t.wx, t.wy,
                                            [&](int j, int i) { return __ldg(plane + t.yo[j] + t.xi[i]); });
  }
}

template <Kernel K>
__device__ inline float sample_one(const float* plane, const TileRows& b, double x, double y, const double* table) {
  rs::PointTaps<rs::taps_of(K)> t;
  const rs::TapKind kind = rs::point_taps<K>(x, y, b.width, b.height, b.row0, b.rows, t, table);
  if (kind == rs::TapKind::Invalid) return rs::quiet_nan();
  return apply_plane<K>(t, kind, plane);
}

struct AddParams {
  TileRows tile;         // device pointers
  Contribution how;
  Rect rect;
  Rect region;
  MapNodes nodes;        // when kNodeTaps > 0 (device pointers)
  const double* map_x;   // otherwise
  const double* map_y;
  double* acc;           // (C + 2) planes of region.area()
  const double* table;
};

// reproject/coadd_tile.cpp accumulate_rect, one output pixel per thread.
template <Kernel K, int kNodeTaps>
__global__ void accumulate_kernel(AddParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.rect.cols || y >= p.rect.rows) return;
  double mx = 0.0;
  double my = 0.0;
  if constexpr (kNodeTaps > 0) {
    rs::interp_nodes_as<kNodeTaps == 4>(p.nodes, static_cast<long long>(p.rect.x0) + x,
                                        static_cast<long long>(p.rect.y0) + y, mx, my);
  } else {
    const long long mi = static_cast<long long>(y) * p.rect.cols + x;
    mx = p.map_x[mi];
    my = p.map_y[mi];
  }
  const TileRows& b = p.tile;
  const float w = sample_one<Kernel::Bilinear>(b.weight, b, mx, my, p.table);
  if (!(w > 0.0f)) return;
  rs::PointTaps<rs::taps_of(K)> t;
  const rs::TapKind kind = rs::point_taps<K>(mx, my, b.width, b.height, b.row0, b.rows, t, p.table);
  if (kind == rs::TapKind::Invalid) return;
  const long long plane_stride = static_cast<long long>(b.width) * b.rows;
  float v[3];
  for (int c = 0; c < b.channels; ++c) {
    v[c] = apply_plane<K>(t, kind, b.data + c * plane_stride);
    if (!rs::is_finite(v[c])) return;
  }
  const long long plane = static_cast<long long>(p.region.cols) * p.region.rows;
  const long long ai =
      static_cast<long long>(p.rect.y0 + y - p.region.y0) * p.region.cols + (p.rect.x0 + x - p.region.x0);
  const double cv =
      b.coverage != nullptr ? static_cast<double>(sample_one<Kernel::Nearest>(b.coverage, b, mx, my, p.table)) : 1.0;
  rs::add_contribution(p.acc + ai, plane, b.channels, v, w, p.how.tile_weight, p.how.gain, p.how.offset, cv);
}

// reproject/coadd.cpp finish_rows, over rows [r0, r0 + n / cols) of the region.
__global__ void finish_kernel(const double* acc, long long plane, long long first, long long n, int channels,
                              float* img, float* wgt, float* cov, unsigned long long* covered) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long a = first + i;
  const double w = acc[channels * plane + a];
  for (int c = 0; c < channels; ++c) img[c * n + i] = rs::normalised(acc[c * plane + a], w);
  wgt[i] = static_cast<float>(w);
  cov[i] = static_cast<float>(acc[(channels + 1) * plane + a]);
  if (w > 0.0) atomicAdd(covered, 1ULL);
}

template <class T>
void upload(Buffer& buf, const T* host, std::size_t count, const char* what) {
  buf.reserve(count * sizeof(T));
  check(cudaMemcpy(buf.ptr, host, count * sizeof(T), cudaMemcpyHostToDevice), what);
}

template <Kernel K>
void launch_kernel(const AddParams& p, int node_taps, dim3 grid, dim3 block) {
  if (node_taps == 4)
    accumulate_kernel<K, 4><<<grid, block>>>(p);
  else if (node_taps == 2)
    accumulate_kernel<K, 2><<<grid, block>>>(p);
  else
    accumulate_kernel<K, 0><<<grid, block>>>(p);
}

}  // namespace

PinnedFloats::PinnedFloats(std::size_t count) {
  void* p = nullptr;
  if (cudaMallocHost(&p, count * sizeof(float)) == cudaSuccess) {
    data_ = static_cast<float*>(p);
    pinned_ = true;
  } else {
    cudaGetLastError();  // the failure is not sticky: reset the runtime's last error
    data_ = new float[count];
  }
}

PinnedFloats::~PinnedFloats() {
  if (pinned_)
    cudaFreeHost(data_);
  else
    delete[] data_;
}

DeviceTile::DeviceTile(const TileRows& host) : dev_(host) {
  const std::size_t px = static_cast<std::size_t>(host.width) * host.rows;
  const std::size_t bytes = DeviceTile::bytes(static_cast<long long>(px), host.channels, host.coverage != nullptr);
  check(cudaMalloc(&memory_, bytes > 0 ? bytes : 1), "cudaMalloc tile");
  float* base = static_cast<float*>(memory_);
  const std::size_t data = px * host.channels;
  dev_.data = base;
  dev_.weight = base + data;
  dev_.coverage = host.coverage != nullptr ? base + data + px : nullptr;
  try {
    check(cudaMemcpy(base, host.data, data * sizeof(float), cudaMemcpyHostToDevice), "upload tile");
    check(cudaMemcpy(base + data, host.weight, px * sizeof(float), cudaMemcpyHostToDevice), "upload tile weight");
    if (host.coverage != nullptr)
      check(cudaMemcpy(base + data + px, host.coverage, px * sizeof(float), cudaMemcpyHostToDevice),
            "upload tile coverage");
  } catch (...) {
    cudaFree(memory_);
    throw;
  }
}

DeviceTile::~DeviceTile() { cudaFree(memory_); }

struct DeviceAccumulator::Impl {
  int channels = 1;
  long long capacity = 0;
  long long finish_capacity = 0;
  Buffer acc;
  Buffer table;
  Buffer map_x, map_y, nodes_x, nodes_y;
  Buffer img, wgt, cov, counter;
};

DeviceAccumulator::DeviceAccumulator(long long capacity_pixels, long long finish_pixels, int channels,
                                     const double* lanczos_table)
    : impl_(new Impl) {
  try {
    if (channels < 1 || channels > 3) throw DeviceError("DeviceAccumulator: channels must be 1..3");
    Impl& m = *impl_;
    m.channels = channels;
    m.capacity = capacity_pixels > 0 ? capacity_pixels : 1;
    m.finish_capacity = finish_pixels > 0 ? finish_pixels : 1;
    m.acc.reserve(static_cast<std::size_t>(m.capacity) * (channels + 2) * sizeof(double));
    const std::size_t f = static_cast<std::size_t>(m.finish_capacity);
    m.img.reserve(f * channels * sizeof(float));
    m.wgt.reserve(f * sizeof(float));
    m.cov.reserve(f * sizeof(float));
    m.counter.reserve(sizeof(unsigned long long));
    upload(m.table, lanczos_table, static_cast<std::size_t>(kLanczosTableSize), "upload Lanczos table");
  } catch (...) {
    delete impl_;
    throw;
  }
}

DeviceAccumulator::~DeviceAccumulator() { delete impl_; }

void DeviceAccumulator::rebase(const Rect& region) {
  if (region.area() > impl_->capacity) throw DeviceError("DeviceAccumulator: region larger than the allocation");
  region_ = region;
  check(cudaMemset(impl_->acc.ptr, 0, static_cast<std::size_t>(region.area()) * (impl_->channels + 2) * sizeof(double)),
        "cudaMemset accumulators");
}

namespace {

AddParams base_params(const TileRows& tile, const Contribution& how, const Rect& rect, const Rect& region,
                      double* acc, const double* table) {
  AddParams p{};
  p.tile = tile;
  p.how = how;
  p.rect = rect;
  p.region = region;
  p.acc = acc;
  p.table = table;
  return p;
}

void launch(const AddParams& p, Kernel kernel, int node_taps) {
  const dim3 block(32, 8);
  const dim3 grid((p.rect.cols + block.x - 1) / block.x, (p.rect.rows + block.y - 1) / block.y);
  switch (kernel) {
    case Kernel::Nearest: launch_kernel<Kernel::Nearest>(p, node_taps, grid, block); break;
    case Kernel::Bilinear: launch_kernel<Kernel::Bilinear>(p, node_taps, grid, block); break;
    case Kernel::Bicubic: launch_kernel<Kernel::Bicubic>(p, node_taps, grid, block); break;
    case Kernel::Lanczos3: launch_kernel<Kernel::Lanczos3>(p, node_taps, grid, block); break;
  }
  check(cudaGetLastError(), "accumulate kernel launch");
  check(cudaDeviceSynchronize(), "accumulate kernel");
}

}  // namespace

void DeviceAccumulator::add(const DeviceTile& tile, const Contribution& how, const Rect& rect, const MapNodes& nodes) {
  if (rect.area() <= 0) return;
  Impl& m = *impl_;
  if (tile.device().channels != m.channels) throw DeviceError("DeviceAccumulator: tile channels differ");
  const std::size_t n = static_cast<std::size_t>(nodes.nx) * nodes.ny;
  upload(m.nodes_x, nodes.x, n, "upload map nodes");
  upload(m.nodes_y, nodes.y, n, "upload map nodes");
  AddParams p = base_params(tile.device(), how, rect, region_, m.acc.as<double>(), m.table.as<double>());
  p.nodes = nodes;
  p.nodes.x = m.nodes_x.as<double>();
  p.nodes.y = m.nodes_y.as<double>();
  launch(p, how.kernel, nodes.bicubic ? 4 : 2);
}

void DeviceAccumulator::add(const DeviceTile& tile, const Contribution& how, const Rect& rect, const double* map_x,
                            const double* map_y) {
  if (rect.area() <= 0) return;
  Impl& m = *impl_;
  if (tile.device().channels != m.channels) throw DeviceError("DeviceAccumulator: tile channels differ");
  upload(m.map_x, map_x, static_cast<std::size_t>(rect.area()), "upload pixel map");
  upload(m.map_y, map_y, static_cast<std::size_t>(rect.area()), "upload pixel map");
  AddParams p = base_params(tile.device(), how, rect, region_, m.acc.as<double>(), m.table.as<double>());
  p.map_x = m.map_x.as<double>();
  p.map_y = m.map_y.as<double>();
  launch(p, how.kernel, 0);
}

long long DeviceAccumulator::finish_rows(int r0, int rows, float* image, float* weight, float* coverage) {
  Impl& m = *impl_;
  const long long n = static_cast<long long>(rows) * region_.cols;
  if (n <= 0) return 0;
  if (n > m.finish_capacity || r0 < 0 || r0 + rows > region_.rows)
    throw DeviceError("DeviceAccumulator: finish rows outside the region or the buffers");
  const std::size_t fn = static_cast<std::size_t>(n);
  check(cudaMemset(m.counter.ptr, 0, sizeof(unsigned long long)), "cudaMemset counter");
  const int threads = 256;
  const unsigned blocks = static_cast<unsigned>((n + threads - 1) / threads);
  finish_kernel<<<blocks, threads>>>(m.acc.as<double>(), region_.area(), static_cast<long long>(r0) * region_.cols, n,
                                     m.channels, m.img.as<float>(), m.wgt.as<float>(), m.cov.as<float>(),
                                     m.counter.as<unsigned long long>());
  check(cudaGetLastError(), "finish kernel launch");
  check(cudaMemcpy(image, m.img.ptr, fn * m.channels * sizeof(float), cudaMemcpyDeviceToHost), "download image");
  check(cudaMemcpy(weight, m.wgt.ptr, fn * sizeof(float), cudaMemcpyDeviceToHost), "download weight");
  check(cudaMemcpy(coverage, m.cov.ptr, fn * sizeof(float), cudaMemcpyDeviceToHost), "download coverage");
  unsigned long long covered = 0;
  check(cudaMemcpy(&covered, m.counter.ptr, sizeof covered, cudaMemcpyDeviceToHost), "download count");
  return static_cast<long long>(covered);
}

}  // namespace zm::gpu
