// CUDA side of the Phase 5 coadd. The device functions mirror reproject/kernels.cpp and the accumulation loop of
// reproject/coadd_tile.cpp operation for operation (see coadd_device.hpp for why); keep them in step.
#include <cuda_runtime_api.h>

#include <string>

#include "gpu/coadd_device.hpp"

namespace zm::gpu {
namespace {

constexpr double kSnapPx = 1e-6;  // reproject's kSnapTolerancePx
constexpr unsigned kQuietNaNBits = 0x7fc00000u;  // std::numeric_limits<float>::quiet_NaN() on the host

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

template <int K>
__host__ __device__ constexpr int taps_of() {
  return K == 0 ? 1 : K == 1 ? 2 : K == 2 ? 4 : 6;
}

__device__ inline int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// reproject/kernels.cpp axis_taps.
template <int K>
__device__ inline bool axis_taps(double v, int size, int* idx, double* w, const double* table, int phases) {
  constexpr int N = taps_of<K>();
  const int last = size - 1;
  if constexpr (K == 0) {
    idx[0] = clamp_int(static_cast<int>(v + 1.5) - 1, 0, last);
    w[0] = 1.0;
    return true;
  } else {
    const int i0 = static_cast<int>(v + 1.0) - 1;
    const double f = v - i0;
    if (f <= kSnapPx || f >= 1.0 - kSnapPx) {
      const int c = clamp_int(f <= kSnapPx ? i0 : i0 + 1, 0, last);
#pragma unroll
      for (int k = 0; k < N; ++k) {
        idx[k] = c;
        w[k] = 0.0;
      }
      w[0] = 1.0;
      return true;
    }
    constexpr int before = (N - 1) / 2;
#pragma unroll
    for (int k = 0; k < N; ++k) idx[k] = clamp_int(i0 - before + k, 0, last);
    if constexpr (K == 1) {
      w[0] = 1.0 - f;
      w[1] = f;
    } else if constexpr (K == 2) {
      w[0] = ((-0.5 * f + 1.0) * f - 0.5) * f;
      w[1] = (1.5 * f - 2.5) * f * f + 1.0;
      w[2] = ((-1.5 * f + 2.0) * f + 0.5) * f;
      w[3] = (0.5 * f - 0.5) * f * f;
    } else {
      const double p = f * phases;
      const int m = min(static_cast<int>(p), phases - 1);
      const double a = p - m;
      const double* lo = table + 6 * m;
      const double* hi = lo + 6;
#pragma unroll
      for (int k = 0; k < N; ++k) w[k] = lo[k] + a * (hi[k] - lo[k]);
    }
    return false;
  }
}

template <int N>
struct Taps {
  long long yo[N];
  int xi[N];
  double wx[N];
  double wy[N];
};

enum : int { kInvalid = 0, kDirect = 1, kWeighted = 2 };

// reproject/kernels.cpp point_taps (the contiguous and gather cases share one arithmetic, so one case here).
template <int K>
__device__ inline int point_taps(double x, double y, int width, int height, int row0, int rows, Taps<taps_of<K>()>& t,
                                 const double* table, int phases) {
  constexpr int N = taps_of<K>();
  if (!(x >= -0.5 && x <= width - 0.5 && y >= -0.5 && y <= height - 0.5)) return kInvalid;
  int yi[N];
  const bool sx = axis_taps<K>(x, width, t.xi, t.wx, table, phases);
  const bool sy = axis_taps<K>(y, height, yi, t.wy, table, phases);
#pragma unroll
  for (int k = 0; k < N; ++k) {
    const int r = yi[k] - row0;
    if (r < 0 || r >= rows) return kInvalid;
    t.yo[k] = static_cast<long long>(r) * width;
  }
  return (sx && sy) ? kDirect : kWeighted;
}

// reproject/kernels.cpp apply_taps: column sums, then even and odd x taps apart, added last.
template <int N>
__device__ inline float apply_taps(const Taps<N>& t, const float* plane) {
  if constexpr (N == 1) {
    return plane[t.yo[0] + t.xi[0]];
  } else {
    double col[N];
    const float* row = plane + t.yo[0];
#pragma unroll
    for (int i = 0; i < N; ++i) col[i] = t.wy[0] * static_cast<double>(__ldg(row + t.xi[i]));
#pragma unroll
    for (int j = 1; j < N; ++j) {
      row = plane + t.yo[j];
#pragma unroll
      for (int i = 0; i < N; ++i) col[i] += t.wy[j] * static_cast<double>(__ldg(row + t.xi[i]));
    }
    double even = t.wx[0] * col[0];
    double odd = t.wx[1] * col[1];
#pragma unroll
    for (int i = 2; i < N; i += 2) {
      even += t.wx[i] * col[i];
      odd += t.wx[i + 1] * col[i + 1];
    }
    return static_cast<float>(even + odd);
  }
}

template <int K>
__device__ inline float sample_one(const float* plane, const TileRows& b, double x, double y, const double* table,
                                   int phases) {
  Taps<taps_of<K>()> t;
  const int kind = point_taps<K>(x, y, b.width, b.height, b.row0, b.rows, t, table, phases);
  if (kind == kInvalid) return __int_as_float(kQuietNaNBits);
  if (kind == kDirect) return plane[t.yo[0] + t.xi[0]];
  return apply_taps<taps_of<K>()>(t, plane);
}

// reproject/pixel_map.cpp: floor division, Catmull-Rom weights, axis_weights, column_sum / row_sum.
__device__ inline long long floor_div(long long a, long long b) {
  const long long q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

__device__ inline int node_axis(long long v, int step, bool bicubic, long long k0, double* w) {
  const long long k = floor_div(v, step);
  const double t = static_cast<double>(v - k * step) / step;
  if (bicubic) {
    w[0] = ((-0.5 * t + 1.0) * t - 0.5) * t;
    w[1] = (1.5 * t - 2.5) * t * t + 1.0;
    w[2] = ((-1.5 * t + 2.0) * t + 0.5) * t;
    w[3] = (0.5 * t - 0.5) * t * t;
  } else {
    w[0] = 1.0 - t;
    w[1] = t;
  }
  return static_cast<int>(k - (bicubic ? 1 : 0) - k0);
}

struct NodeView {
  int step;
  bool bicubic;
  long long kx0, ky0;
  int nx;
  const double* x;
  const double* y;
};

template <int T>
__device__ inline void interp_nodes(const NodeView& g, long long px, long long py, double& xo, double& yo) {
  double wx[4];
  double wy[4];
  const int i0 = node_axis(px, g.step, g.bicubic, g.kx0, wx);
  const int j0 = node_axis(py, g.step, g.bicubic, g.ky0, wy);
  double sx = 0.0;
  double sy = 0.0;
#pragma unroll
  for (int i = 0; i < T; ++i) {
    double cx = 0.0;
    double cy = 0.0;
#pragma unroll
    for (int j = 0; j < T; ++j) {
      const long long n = static_cast<long long>(j0 + j) * g.nx + i0 + i;
      cx += wy[j] * g.x[n];
      cy += wy[j] * g.y[n];
    }
    sx += wx[i] * cx;
    sy += wx[i] * cy;
  }
  xo = sx;
  yo = sy;
}

struct AddParams {
  TileRows tile;         // device pointers
  Contribution how;
  Rect rect;
  Rect region;
  NodeView nodes;        // when kNodes
  const double* map_x;   // otherwise
  const double* map_y;
  double* acc;           // (C + 2) planes of region.area()
  const double* table;
  int phases;
};

// reproject/coadd_tile.cpp accumulate_rect, one output pixel per thread.
template <int K, int kNodeTaps>
__global__ void accumulate_kernel(AddParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.rect.cols || y >= p.rect.rows) return;
  double mx = 0.0;
  double my = 0.0;
  if constexpr (kNodeTaps > 0) {
    interp_nodes<kNodeTaps>(p.nodes, static_cast<long long>(p.rect.x0) + x, static_cast<long long>(p.rect.y0) + y, mx,
                            my);
  } else {
    const long long mi = static_cast<long long>(y) * p.rect.cols + x;
    mx = p.map_x[mi];
    my = p.map_y[mi];
  }
  const TileRows& b = p.tile;
  const float w = sample_one<1>(b.weight, b, mx, my, p.table, p.phases);
  if (!(w > 0.0f)) return;
  Taps<taps_of<K>()> t;
  const int kind = point_taps<K>(mx, my, b.width, b.height, b.row0, b.rows, t, p.table, p.phases);
  if (kind == kInvalid) return;
  const long long plane_stride = static_cast<long long>(b.width) * b.rows;
  float v[3];
  for (int c = 0; c < b.channels; ++c) {
    const float* plane = b.data + c * plane_stride;
    v[c] = kind == kDirect ? plane[t.yo[0] + t.xi[0]] : apply_taps<taps_of<K>()>(t, plane);
    if (!isfinite(v[c])) return;
  }
  const long long plane = static_cast<long long>(p.region.cols) * p.region.rows;
  const long long ai =
      static_cast<long long>(p.rect.y0 + y - p.region.y0) * p.region.cols + (p.rect.x0 + x - p.region.x0);
  double* sum = p.acc + ai;
  const double W = static_cast<double>(w) * p.how.tile_weight;
  for (int c = 0; c < b.channels; ++c)
    sum[c * plane] += W * (p.how.gain[c] * static_cast<double>(v[c]) + p.how.offset[c]);
  sum[b.channels * plane] += W;
  const double cv =
      b.coverage != nullptr ? static_cast<double>(sample_one<0>(b.coverage, b, mx, my, p.table, p.phases)) : 1.0;
  if (isfinite(cv)) sum[(b.channels + 1) * plane] += cv;
}

// reproject/coadd.cpp finish_rows, over rows [r0, r0 + n / cols) of the region.
__global__ void finish_kernel(const double* acc, long long plane, long long first, long long n, int channels,
                              float* img, float* wgt, float* cov, unsigned long long* covered) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long a = first + i;
  const double w = acc[channels * plane + a];
  const bool ok = w > 0.0;
  for (int c = 0; c < channels; ++c)
    img[c * n + i] = ok ? static_cast<float>(acc[c * plane + a] / w) : __int_as_float(kQuietNaNBits);
  wgt[i] = static_cast<float>(w);
  cov[i] = static_cast<float>(acc[(channels + 1) * plane + a]);
  if (ok) atomicAdd(covered, 1ULL);
}

template <class T>
void upload(Buffer& buf, const T* host, std::size_t count, const char* what) {
  buf.reserve(count * sizeof(T));
  check(cudaMemcpy(buf.ptr, host, count * sizeof(T), cudaMemcpyHostToDevice), what);
}

template <int K>
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
  int phases = 0;
  long long capacity = 0;
  long long finish_capacity = 0;
  Buffer acc;
  Buffer table;
  Buffer map_x, map_y, nodes_x, nodes_y;
  Buffer img, wgt, cov, counter;
};

DeviceAccumulator::DeviceAccumulator(long long capacity_pixels, long long finish_pixels, int channels,
                                     const double* lanczos_table, int lanczos_phases)
    : impl_(new Impl) {
  try {
    if (channels < 1 || channels > 3) throw DeviceError("DeviceAccumulator: channels must be 1..3");
    Impl& m = *impl_;
    m.channels = channels;
    m.phases = lanczos_phases;
    m.capacity = capacity_pixels > 0 ? capacity_pixels : 1;
    m.finish_capacity = finish_pixels > 0 ? finish_pixels : 1;
    m.acc.reserve(static_cast<std::size_t>(m.capacity) * (channels + 2) * sizeof(double));
    const std::size_t f = static_cast<std::size_t>(m.finish_capacity);
    m.img.reserve(f * channels * sizeof(float));
    m.wgt.reserve(f * sizeof(float));
    m.cov.reserve(f * sizeof(float));
    m.counter.reserve(sizeof(unsigned long long));
    upload(m.table, lanczos_table, static_cast<std::size_t>(lanczos_phases + 1) * 6, "upload Lanczos table");
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
                      double* acc, const double* table, int phases) {
  AddParams p{};
  p.tile = tile;
  p.how = how;
  p.rect = rect;
  p.region = region;
  p.acc = acc;
  p.table = table;
  p.phases = phases;
  return p;
}

void launch(const AddParams& p, int kernel, int node_taps) {
  const dim3 block(32, 8);
  const dim3 grid((p.rect.cols + block.x - 1) / block.x, (p.rect.rows + block.y - 1) / block.y);
  switch (kernel) {
    case 0: launch_kernel<0>(p, node_taps, grid, block); break;
    case 1: launch_kernel<1>(p, node_taps, grid, block); break;
    case 2: launch_kernel<2>(p, node_taps, grid, block); break;
    default: launch_kernel<3>(p, node_taps, grid, block); break;
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
  AddParams p = base_params(tile.device(), how, rect, region_, m.acc.as<double>(), m.table.as<double>(), m.phases);
  p.nodes = NodeView{nodes.step, nodes.bicubic, nodes.kx0, nodes.ky0, nodes.nx, m.nodes_x.as<double>(),
                     m.nodes_y.as<double>()};
  launch(p, how.kernel, nodes.bicubic ? 4 : 2);
}

void DeviceAccumulator::add(const DeviceTile& tile, const Contribution& how, const Rect& rect, const double* map_x,
                            const double* map_y) {
  if (rect.area() <= 0) return;
  Impl& m = *impl_;
  if (tile.device().channels != m.channels) throw DeviceError("DeviceAccumulator: tile channels differ");
  upload(m.map_x, map_x, static_cast<std::size_t>(rect.area()), "upload pixel map");
  upload(m.map_y, map_y, static_cast<std::size_t>(rect.area()), "upload pixel map");
  AddParams p = base_params(tile.device(), how, rect, region_, m.acc.as<double>(), m.table.as<double>(), m.phases);
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
