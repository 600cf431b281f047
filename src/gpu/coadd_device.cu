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

struct AddParams {
  TileRows tile;         // device pointers
  Contribution how;
  Rect rect;
  Rect region;
  const double* map_x;
  const double* map_y;
  double* acc;           // (C + 2) planes of region.area()
  const double* table;
  int phases;
};

// reproject/coadd_tile.cpp accumulate_rect, one output pixel per thread.
template <int K>
__global__ void accumulate_kernel(AddParams p) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.rect.cols || y >= p.rect.rows) return;
  const long long mi = static_cast<long long>(y) * p.rect.cols + x;
  const double mx = p.map_x[mi];
  const double my = p.map_y[mi];
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

// reproject/coadd.cpp finish_rows.
__global__ void finish_kernel(const double* acc, long long n, int channels, float* img, float* wgt, float* cov,
                              unsigned long long* covered) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const double w = acc[channels * n + i];
  const bool ok = w > 0.0;
  for (int c = 0; c < channels; ++c)
    img[c * n + i] = ok ? static_cast<float>(acc[c * n + i] / w) : __int_as_float(kQuietNaNBits);
  wgt[i] = static_cast<float>(w);
  cov[i] = static_cast<float>(acc[(channels + 1) * n + i]);
  if (ok) atomicAdd(covered, 1ULL);
}

template <class T>
void upload(Buffer& buf, const T* host, std::size_t count, const char* what) {
  buf.reserve(count * sizeof(T));
  check(cudaMemcpy(buf.ptr, host, count * sizeof(T), cudaMemcpyHostToDevice), what);
}

}  // namespace

struct DeviceAccumulator::Impl {
  int channels = 1;
  int phases = 0;
  Buffer acc;
  Buffer table;
  Buffer data, weight, coverage, map_x, map_y;
  Buffer img, wgt, cov, counter;
};

DeviceAccumulator::DeviceAccumulator(const Rect& region, int channels, const double* lanczos_table,
                                     int lanczos_phases)
    : region_(region), capacity_(region.area()), impl_(std::make_unique<Impl>()) {
  if (channels < 1 || channels > 3) throw DeviceError("DeviceAccumulator: channels must be 1..3");
  impl_->channels = channels;
  impl_->phases = lanczos_phases;
  impl_->acc.reserve(static_cast<std::size_t>(capacity_ > 0 ? capacity_ : 1) * (channels + 2) * sizeof(double));
  upload(impl_->table, lanczos_table, static_cast<std::size_t>(lanczos_phases + 1) * 6, "upload Lanczos table");
  rebase(region);
}

DeviceAccumulator::~DeviceAccumulator() = default;

void DeviceAccumulator::rebase(const Rect& region) {
  if (region.area() > capacity_) throw DeviceError("DeviceAccumulator: region larger than the allocation");
  region_ = region;
  check(cudaMemset(impl_->acc.ptr, 0, static_cast<std::size_t>(region.area()) * (impl_->channels + 2) * sizeof(double)),
        "cudaMemset accumulators");
}

void DeviceAccumulator::add(const TileRows& tile, const Contribution& how, const Rect& rect, const double* map_x,
                            const double* map_y) {
  if (rect.area() <= 0 || tile.rows <= 0) return;
  if (tile.channels != impl_->channels) throw DeviceError("DeviceAccumulator: tile channels differ");
  const std::size_t band = static_cast<std::size_t>(tile.width) * tile.rows;
  Impl& m = *impl_;
  upload(m.data, tile.data, band * tile.channels, "upload tile rows");
  upload(m.weight, tile.weight, band, "upload weight rows");
  if (tile.coverage != nullptr) upload(m.coverage, tile.coverage, band, "upload coverage rows");
  upload(m.map_x, map_x, static_cast<std::size_t>(rect.area()), "upload pixel map");
  upload(m.map_y, map_y, static_cast<std::size_t>(rect.area()), "upload pixel map");
  AddParams p{};
  p.tile = tile;
  p.tile.data = m.data.as<float>();
  p.tile.weight = m.weight.as<float>();
  p.tile.coverage = tile.coverage != nullptr ? m.coverage.as<float>() : nullptr;
  p.how = how;
  p.rect = rect;
  p.region = region_;
  p.map_x = m.map_x.as<double>();
  p.map_y = m.map_y.as<double>();
  p.acc = m.acc.as<double>();
  p.table = m.table.as<double>();
  p.phases = m.phases;
  const dim3 block(32, 8);
  const dim3 grid((rect.cols + block.x - 1) / block.x, (rect.rows + block.y - 1) / block.y);
  switch (how.kernel) {
    case 0: accumulate_kernel<0><<<grid, block>>>(p); break;
    case 1: accumulate_kernel<1><<<grid, block>>>(p); break;
    case 2: accumulate_kernel<2><<<grid, block>>>(p); break;
    default: accumulate_kernel<3><<<grid, block>>>(p); break;
  }
  check(cudaGetLastError(), "accumulate kernel launch");
  check(cudaDeviceSynchronize(), "accumulate kernel");
}

long long DeviceAccumulator::finish(float* image, float* weight, float* coverage) {
  Impl& m = *impl_;
  const long long n = region_.area();
  if (n <= 0) return 0;
  const std::size_t fn = static_cast<std::size_t>(n);
  m.img.reserve(fn * m.channels * sizeof(float));
  m.wgt.reserve(fn * sizeof(float));
  m.cov.reserve(fn * sizeof(float));
  m.counter.reserve(sizeof(unsigned long long));
  check(cudaMemset(m.counter.ptr, 0, sizeof(unsigned long long)), "cudaMemset counter");
  const int threads = 256;
  const unsigned blocks = static_cast<unsigned>((n + threads - 1) / threads);
  finish_kernel<<<blocks, threads>>>(m.acc.as<double>(), n, m.channels, m.img.as<float>(), m.wgt.as<float>(),
                                     m.cov.as<float>(), m.counter.as<unsigned long long>());
  check(cudaGetLastError(), "finish kernel launch");
  check(cudaMemcpy(image, m.img.ptr, fn * m.channels * sizeof(float), cudaMemcpyDeviceToHost), "download image");
  check(cudaMemcpy(weight, m.wgt.ptr, fn * sizeof(float), cudaMemcpyDeviceToHost), "download weight");
  check(cudaMemcpy(coverage, m.cov.ptr, fn * sizeof(float), cudaMemcpyDeviceToHost), "download coverage");
  unsigned long long covered = 0;
  check(cudaMemcpy(&covered, m.counter.ptr, sizeof covered, cudaMemcpyDeviceToHost), "download count");
  return static_cast<long long>(covered);
}

void DeviceAccumulator::load(const double* host, std::size_t plane, std::size_t row_stride, int host_x0,
                             int host_y0) {
  const std::size_t n = static_cast<std::size_t>(region_.area());
  if (n == 0) return;
  const std::size_t off = static_cast<std::size_t>(region_.y0 - host_y0) * row_stride + (region_.x0 - host_x0);
  for (int k = 0; k < impl_->channels + 2; ++k)
    check(cudaMemcpy2D(impl_->acc.as<double>() + k * n, region_.cols * sizeof(double), host + k * plane + off,
                       row_stride * sizeof(double), region_.cols * sizeof(double), region_.rows,
                       cudaMemcpyHostToDevice),
          "upload accumulators");
}

void DeviceAccumulator::store(double* host, std::size_t plane, std::size_t row_stride, int host_x0,
                              int host_y0) const {
  const std::size_t n = static_cast<std::size_t>(region_.area());
  if (n == 0) return;
  const std::size_t off = static_cast<std::size_t>(region_.y0 - host_y0) * row_stride + (region_.x0 - host_x0);
  for (int k = 0; k < impl_->channels + 2; ++k)
    check(cudaMemcpy2D(host + k * plane + off, row_stride * sizeof(double), impl_->acc.as<double>() + k * n,
                       region_.cols * sizeof(double), region_.cols * sizeof(double), region_.rows,
                       cudaMemcpyDeviceToHost),
          "download accumulators");
}

}  // namespace zm::gpu
