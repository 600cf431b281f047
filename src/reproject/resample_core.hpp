// The resampling arithmetic shared by the CPU (kernels.cpp, pixel_map.cpp, coadd_tile.cpp, coadd.cpp) and the GPU
// (gpu/coadd_device.cu): kernel taps and weights, the Lanczos-3 table lookup, pixel-map node interpolation and the
// per-pixel co-addition. Every function is inline and compiled for host and device (ZM_HD), so both back ends run
// the same source; with no fused multiply-add on either side (x86-64 baseline on the CPU, -fmad=false on the GPU)
// they produce the same bits. CPU-only tests exercise these functions directly (tests/reproject/test_resample_core).
//
// Keep this header C++17 and free of standard-library calls in the function bodies that nvcc cannot compile for
// the device (std::clamp, std::min, std::isfinite): the helpers below stand in for them.
#pragma once

#include <cmath>
#include <limits>

#if defined(__CUDACC__)
#define ZM_HD __host__ __device__
#else
#define ZM_HD
#endif

namespace zm {

// Resampling kernels; the GPU takes the same enum.
enum class Kernel { Nearest, Bilinear, Bicubic, Lanczos3 };

// A coordinate within this of a pixel centre is treated as exactly on it (one tap on that axis).
inline constexpr double kSnapTolerancePx = 1e-6;
// The Lanczos-3 weight table: (kLanczosPhases + 1) rows of kLanczosTaps normalised weights (taps i0-2 .. i0+3 at
// offset f = row / kLanczosPhases), row-major (lanczos3_weight_table() in kernels.hpp).
inline constexpr int kLanczosPhases = 2048;
inline constexpr int kLanczosTaps = 6;
inline constexpr int kLanczosTableSize = (kLanczosPhases + 1) * kLanczosTaps;

namespace resample {

// ---- small host-and-device helpers ----

// Taps per axis of a kernel.
ZM_HD constexpr int taps_of(Kernel k) {
  return k == Kernel::Nearest ? 1 : k == Kernel::Bilinear ? 2 : k == Kernel::Bicubic ? 4 : 6;
}

// std::clamp for ints.
ZM_HD inline int clamp_index(int v, int lo, int hi) { return v < lo ? lo : (hi < v ? hi : v); }

// Floor of a / b for b > 0 (integer division rounds towards zero).
ZM_HD inline long long floor_div(long long a, long long b) {
  const long long q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

ZM_HD inline bool is_finite(double v) {
#if defined(__CUDA_ARCH__)
  return isfinite(v);
#else
  return std::isfinite(v);
#endif
}

// The host's quiet NaN (0x7fc00000) on both sides.
ZM_HD inline float quiet_nan() {
#if defined(__CUDA_ARCH__)
  return __int_as_float(0x7fc00000);
#else
  return std::numeric_limits<float>::quiet_NaN();
#endif
}

// ---- weights ----

// Linear weights of the taps at distances t and 1 - t (t in [0, 1)).
ZM_HD inline void linear_weights(double t, double* w) {
  w[0] = 1.0 - t;
  w[1] = t;
}

// Keys cubic (a = -0.5, i.e. Catmull-Rom) weights of the taps at distances t+1, t, 1-t, 2-t; they sum to 1
// identically. The bicubic image kernel and the pixel map's bicubic node interpolation both use them.
ZM_HD inline void keys_weights(double t, double* w) {
  w[0] = ((-0.5 * t + 1.0) * t - 0.5) * t;
  w[1] = (1.5 * t - 2.5) * t * t + 1.0;
  w[2] = ((-1.5 * t + 2.0) * t + 0.5) * t;
  w[3] = (0.5 * t - 0.5) * t * t;
}

// The six Lanczos-3 weights at fraction f in [0, 1): linear interpolation between two rows of `table`. Each row
// sums to 1, so the interpolated weights do too.
ZM_HD inline void lanczos3_weights(const double* table, double f, double* w) {
  const double p = f * kLanczosPhases;
  const int pm = static_cast<int>(p);
  const int m = kLanczosPhases - 1 < pm ? kLanczosPhases - 1 : pm;
  const double a = p - m;
  const double* lo = table + kLanczosTaps * m;
  const double* hi = lo + kLanczosTaps;
  for (int k = 0; k < kLanczosTaps; ++k) w[k] = lo[k] + a * (hi[k] - lo[k]);
}

// ---- image kernel taps ----

// Fills the taps of one axis of a sample at coordinate v (>= -0.5) in an axis of `size` pixels: indices (clamped
// to the image) and weights. Returns true when v was snapped to one pixel (then w[0] = 1, every other weight 0,
// every index that pixel). `lanczos_table` is only read by Lanczos3.
template <Kernel K>
ZM_HD inline bool axis_taps(double v, int size, int* idx, double* w, const double* lanczos_table) {
  constexpr int N = taps_of(K);
  const int last = size - 1;
  // v >= -0.5 here, so truncating v + 1 is floor(v) + 1 (std::floor is a libm call without SSE4.1).
  if constexpr (K == Kernel::Nearest) {
    idx[0] = clamp_index(static_cast<int>(v + 1.5) - 1, 0, last);
    w[0] = 1.0;
    return true;
  } else {
    const int i0 = static_cast<int>(v + 1.0) - 1;
    const double f = v - i0;
    if (f <= kSnapTolerancePx || f >= 1.0 - kSnapTolerancePx) {
      // Every tap reads the same pixel with weight 0 except one: the sum is that pixel's value exactly.
      const int c = clamp_index(f <= kSnapTolerancePx ? i0 : i0 + 1, 0, last);
      for (int k = 0; k < N; ++k) {
        idx[k] = c;
        w[k] = 0.0;
      }
      w[0] = 1.0;
      return true;
    }
    constexpr int before = (N - 1) / 2;
    for (int k = 0; k < N; ++k) idx[k] = clamp_index(i0 - before + k, 0, last);
    if constexpr (K == Kernel::Bilinear) {
      linear_weights(f, w);
    } else if constexpr (K == Kernel::Bicubic) {
      keys_weights(f, w);
    } else {
      lanczos3_weights(lanczos_table, f, w);
    }
    return false;
  }
}

// The N x N taps of one sample: offsets of the tap rows in a plane (row * width), tap columns and both axes' weights.
template <int N>
struct PointTaps {
  long long yo[N];
  int xi[N];
  double wx[N];
  double wy[N];
};

// Invalid: outside the image (or NaN), or a tap row outside the band held. Direct: both axes snapped, one pixel
// read (yo[0] + xi[0]). Weighted: the weighted sum of the N x N taps (combine_taps).
enum class TapKind : unsigned char { Invalid, Direct, Weighted };

// Taps of a sample at (x, y) of a width x height image of which rows [row0, row0 + rows) are held. A point is
// inside when -0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5.
template <Kernel K>
ZM_HD inline TapKind point_taps(double x, double y, int width, int height, int row0, int rows,
                                PointTaps<taps_of(K)>& t, const double* lanczos_table) {
  constexpr int N = taps_of(K);
  // Written so that NaN coordinates fail the test.
  if (!(x >= -0.5 && x <= width - 0.5 && y >= -0.5 && y <= height - 0.5)) return TapKind::Invalid;
  int yi[N];
  const bool sx = axis_taps<K>(x, width, t.xi, t.wx, lanczos_table);
  const bool sy = axis_taps<K>(y, height, yi, t.wy, lanczos_table);
  for (int k = 0; k < N; ++k) {
    const int r = yi[k] - row0;
    if (r < 0 || r >= rows) return TapKind::Invalid;
    t.yo[k] = static_cast<long long>(r) * width;
  }
  return (sx && sy) ? TapKind::Direct : TapKind::Weighted;
}

// The weighted sum of N x N taps (N even), pixel(j, i) being the value at tap row j, tap column i: column sums first
// (over rows, weights wy), then the x weights with even and odd taps accumulated apart and added last. The CPU's
// SSE2 path (kernels.cpp) performs exactly these operations two lanes at a time.
template <int N, class Pixel>
ZM_HD inline float combine_taps(const double* wx, const double* wy, Pixel&& pixel) {
  static_assert(N % 2 == 0, "combine_taps takes an even number of taps");
  double col[N];
  for (int i = 0; i < N; ++i) col[i] = wy[0] * static_cast<double>(pixel(0, i));
  for (int j = 1; j < N; ++j)
    for (int i = 0; i < N; ++i) col[i] += wy[j] * static_cast<double>(pixel(j, i));
  double even = wx[0] * col[0];
  double odd = wx[1] * col[1];
  for (int i = 2; i < N; i += 2) {
    even += wx[i] * col[i];
    odd += wx[i + 1] * col[i + 1];
  }
  return static_cast<float>(even + odd);
}

// ---- pixel-map node interpolation ----

// A grid of exact map nodes: node (i, j) is the input position of output pixel ((kx0 + i) * step, (ky0 + j) * step),
// row-major nx x ny; bicubic (Catmull-Rom on 4 x 4 nodes) or bilinear (2 x 2) in between.
struct NodeGridView {
  int step = 0;
  bool bicubic = true;
  long long kx0 = 0;
  long long ky0 = 0;
  int nx = 0;
  int ny = 0;
  const double* x = nullptr;
  const double* y = nullptr;
  ZM_HD int taps() const { return bicubic ? 4 : 2; }  // nodes per axis a pixel reads
  ZM_HD int lead() const { return bicubic ? 1 : 0; }  // of them, before the pixel's cell
};

// Node-axis position of output pixel coordinate v: returns the index (from node k0) of the first node the pixel
// reads and fills the taps' weights.
ZM_HD inline int node_axis(long long v, int step, bool bicubic, long long k0, double* w) {
  const long long k = floor_div(v, step);
  const double t = static_cast<double>(v - k * step) / step;
  if (bicubic) {
    keys_weights(t, w);
  } else {
    linear_weights(t, w);
  }
  return static_cast<int>(k - (bicubic ? 1 : 0) - k0);
}

// sum_j wy[j] * nodes[(j0 + j) * nx + i], j < taps: one node column weighted along y.
ZM_HD inline double node_column_sum(const double* nodes, int nx, int j0, const double* wy, int taps, int i) {
  double s = 0.0;
  for (int j = 0; j < taps; ++j) s += wy[j] * nodes[static_cast<long long>(j0 + j) * nx + i];
  return s;
}

// sum_i wx[i] * cols[i], i < taps: column sums weighted along x.
ZM_HD inline double node_row_sum(const double* cols, const double* wx, int taps) {
  double s = 0.0;
  for (int i = 0; i < taps; ++i) s += wx[i] * cols[i];
  return s;
}

// Interpolated input position of output pixel (px, py); kBicubic must match g.bicubic (see interp_nodes below).
template <bool kBicubic>
ZM_HD inline void interp_nodes_as(const NodeGridView& g, long long px, long long py, double& xo, double& yo) {
  constexpr int T = kBicubic ? 4 : 2;
  double wx[4];
  double wy[4];
  const int i0 = node_axis(px, g.step, kBicubic, g.kx0, wx);
  const int j0 = node_axis(py, g.step, kBicubic, g.ky0, wy);
  double cx[4];
  double cy[4];
  for (int i = 0; i < T; ++i) {
    cx[i] = node_column_sum(g.x, g.nx, j0, wy, T, i0 + i);
    cy[i] = node_column_sum(g.y, g.nx, j0, wy, T, i0 + i);
  }
  xo = node_row_sum(cx, wx, T);
  yo = node_row_sum(cy, wx, T);
}

ZM_HD inline void interp_nodes(const NodeGridView& g, long long px, long long py, double& xo, double& yo) {
  if (g.bicubic) {
    interp_nodes_as<true>(g, px, py, xo, yo);
  } else {
    interp_nodes_as<false>(g, px, py, xo, yo);
  }
}

// ---- co-addition of one output pixel ----

// Adds one tile's contribution to an output pixel whose accumulators are sums[0], sums[plane], ...: channel c's
// sum += W * (gain[c] * v[c] + offset[c]), then the weight sum += W, then the coverage sum += coverage when it is
// finite, with W = alpha * tile_weight. The caller has checked alpha > 0 and every v[c] finite.
ZM_HD inline void add_contribution(double* sums, long long plane, int channels, const float* v, float alpha,
                                   double tile_weight, const double* gain, const double* offset, double coverage) {
  const double W = static_cast<double>(alpha) * tile_weight;
  for (int c = 0; c < channels; ++c) sums[c * plane] += W * (gain[c] * static_cast<double>(v[c]) + offset[c]);
  sums[channels * plane] += W;
  if (is_finite(coverage)) sums[(channels + 1) * plane] += coverage;
}

// The mosaic value of one channel: the weighted mean, NaN where nothing contributed (weight 0).
ZM_HD inline float normalised(double sum, double weight) {
  return weight > 0.0 ? static_cast<float>(sum / weight) : quiet_nan();
}

}  // namespace resample
}  // namespace zm
