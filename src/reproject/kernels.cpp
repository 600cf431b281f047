#include "reproject/kernels.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace zm {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <Kernel K>
constexpr int taps_of() {
  if constexpr (K == Kernel::Nearest) return 1;
  if constexpr (K == Kernel::Bilinear) return 2;
  if constexpr (K == Kernel::Bicubic) return 4;
  return 6;
}

double lanczos3(double t) {
  if (t == 0.0) return 1.0;
  if (std::fabs(t) >= 3.0) return 0.0;
  const double pt = std::numbers::pi * t;
  return 3.0 * std::sin(pt) * std::sin(pt / 3.0) / (pt * pt);
}

// Normalised Lanczos-3 weights of the six taps i0-2 .. i0+3 for fractional offsets f = m / kPhases. Linear
// interpolation between two rows that each sum to 1 sums to 1 as well, so samples need no normalisation.
struct LanczosTable {
  static constexpr int kPhases = kLanczosPhases;
  std::array<std::array<double, 6>, kPhases + 1> w{};
  LanczosTable() {
    for (int m = 0; m <= kPhases; ++m) {
      const double f = static_cast<double>(m) / kPhases;
      double sum = 0.0;
      for (int k = 0; k < 6; ++k) sum += (w[m][k] = lanczos3(f + 2.0 - k));
      for (int k = 0; k < 6; ++k) w[m][k] /= sum;
    }
  }
};

const LanczosTable kLanczosTable;

template <int N>
struct Taps {
  std::size_t yo[N];  // offsets of the tap rows in the plane (row * width)
  int xi[N];
  double wx[N];
  double wy[N];
};

// Direct: both axes snapped, one pixel read. Contiguous: x taps are consecutive columns (the common interior
// case, done with SSE2 pairs). Gather: x taps clamped at a border or snapped.
enum class TapKind : unsigned char { Invalid, Direct, Contiguous, Gather };

// Fills the taps of one axis. Returns true when the coordinate was snapped to a single pixel.
template <Kernel K>
inline bool axis_taps(double v, int size, int* idx, double* w) {
  constexpr int N = taps_of<K>();
  const int last = size - 1;
  // v >= -0.5 here, so truncating v + 1 is floor(v) + 1 (std::floor is a libm call without SSE4.1).
  if constexpr (K == Kernel::Nearest) {
    idx[0] = std::clamp(static_cast<int>(v + 1.5) - 1, 0, last);
    w[0] = 1.0;
    return true;
  } else {
    const int i0 = static_cast<int>(v + 1.0) - 1;
    const double f = v - i0;
    if (f <= kSnapTolerancePx || f >= 1.0 - kSnapTolerancePx) {
      // Every tap reads the same pixel with weight 0 except one: the sum is that pixel's value exactly.
      const int c = std::clamp(f <= kSnapTolerancePx ? i0 : i0 + 1, 0, last);
      for (int k = 0; k < N; ++k) {
        idx[k] = c;
        w[k] = 0.0;
      }
      w[0] = 1.0;
      return true;
    }
    constexpr int before = (N - 1) / 2;
    for (int k = 0; k < N; ++k) idx[k] = std::clamp(i0 - before + k, 0, last);
    if constexpr (K == Kernel::Bilinear) {
      w[0] = 1.0 - f;
      w[1] = f;
    } else if constexpr (K == Kernel::Bicubic) {
      // Keys (a = -0.5) at distances f+1, f, 1-f, 2-f; the four sum to 1 identically.
      w[0] = ((-0.5 * f + 1.0) * f - 0.5) * f;
      w[1] = (1.5 * f - 2.5) * f * f + 1.0;
      w[2] = ((-1.5 * f + 2.0) * f + 0.5) * f;
      w[3] = (0.5 * f - 0.5) * f * f;
    } else {
      const double p = f * LanczosTable::kPhases;
      const int m = std::min(static_cast<int>(p), LanczosTable::kPhases - 1);
      const double a = p - m;
      const auto& lo = kLanczosTable.w[m];
      const auto& hi = kLanczosTable.w[m + 1];
      for (int k = 0; k < N; ++k) w[k] = lo[k] + a * (hi[k] - lo[k]);
    }
    return false;
  }
}

template <Kernel K>
inline TapKind point_taps(double x, double y, const PlaneBand& b, Taps<taps_of<K>()>& t) {
  constexpr int N = taps_of<K>();
  // Written so that NaN coordinates fail the test.
  if (!(x >= -0.5 && x <= b.width - 0.5 && y >= -0.5 && y <= b.height - 0.5)) return TapKind::Invalid;
  int yi[N];
  const bool sx = axis_taps<K>(x, b.width, t.xi, t.wx);
  const bool sy = axis_taps<K>(y, b.height, yi, t.wy);
  for (int k = 0; k < N; ++k) {
    const int r = yi[k] - b.row0;
    if (r < 0 || r >= b.rows) return TapKind::Invalid;
    t.yo[k] = static_cast<std::size_t>(r) * static_cast<std::size_t>(b.width);
  }
  if (sx && sy) return TapKind::Direct;
  return (!sx && t.xi[N - 1] - t.xi[0] == N - 1) ? TapKind::Contiguous : TapKind::Gather;
}

// Column sums first (sum over rows of wy * pixel, per tap column), then the x weights with even and odd taps
// accumulated apart and added last: the same operations, in the same order, for every path, so a pixel's
// value never depends on which path computed it.
template <int N, bool kContiguous>
inline float apply_taps(const Taps<N>& t, const float* plane) {
  static_assert(N % 2 == 0);
  double col[N];
  const float* row = plane + t.yo[0];
  for (int i = 0; i < N; ++i) col[i] = t.wy[0] * static_cast<double>(row[kContiguous ? t.xi[0] + i : t.xi[i]]);
  for (int j = 1; j < N; ++j) {
    row = plane + t.yo[j];
    for (int i = 0; i < N; ++i) col[i] += t.wy[j] * static_cast<double>(row[kContiguous ? t.xi[0] + i : t.xi[i]]);
  }
  double even = t.wx[0] * col[0];
  double odd = t.wx[1] * col[1];
  for (int i = 2; i < N; i += 2) {
    even += t.wx[i] * col[i];
    odd += t.wx[i + 1] * col[i + 1];
  }
  return static_cast<float>(even + odd);
}

#if defined(__SSE2__)
// The contiguous case with SSE2 pairs of doubles: lane 0 carries the even taps, lane 1 the odd ones, which is
// exactly the scalar order above, so both paths give the same bits.
template <int N>
inline float apply_taps_sse2(const Taps<N>& t, const float* plane) {
  static_assert(N % 2 == 0);
  constexpr int P = N / 2;
  __m128d col[P];
  auto load_pair = [](const float* p) {
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  };
  const float* row = plane + t.yo[0] + t.xi[0];
  __m128d w = _mm_set1_pd(t.wy[0]);
  for (int k = 0; k < P; ++k) col[k] = _mm_mul_pd(w, load_pair(row + 2 * k));
  for (int j = 1; j < N; ++j) {
    row = plane + t.yo[j] + t.xi[0];
    w = _mm_set1_pd(t.wy[j]);
    for (int k = 0; k < P; ++k) col[k] = _mm_add_pd(col[k], _mm_mul_pd(w, load_pair(row + 2 * k)));
  }
  __m128d acc = _mm_mul_pd(_mm_loadu_pd(t.wx), col[0]);
  for (int k = 1; k < P; ++k) acc = _mm_add_pd(acc, _mm_mul_pd(_mm_loadu_pd(t.wx + 2 * k), col[k]));
  return static_cast<float>(_mm_cvtsd_f64(acc) + _mm_cvtsd_f64(_mm_unpackhi_pd(acc, acc)));
}
#endif

template <int N>
inline float apply_contiguous(const Taps<N>& t, const float* plane) {
#if defined(__SSE2__)
  return apply_taps_sse2<N>(t, plane);
#else
  return apply_taps<N, true>(t, plane);
#endif
}

template <Kernel K>
void resample_row_impl(const PlaneBand& src, const double* xs, const double* ys, int n, float* const* out) {
  constexpr int N = taps_of<K>();
  constexpr int kChunk = 64;
  Taps<N> taps[kChunk];
  TapKind kind[kChunk];
  const std::size_t width = static_cast<std::size_t>(src.width);
  const std::size_t plane_stride = width * static_cast<std::size_t>(src.rows);
  for (int base = 0; base < n; base += kChunk) {
    const int m = std::min(kChunk, n - base);
    for (int i = 0; i < m; ++i) kind[i] = point_taps<K>(xs[base + i], ys[base + i], src, taps[i]);
    for (int c = 0; c < src.channels; ++c) {
      const float* plane = src.data + c * plane_stride;
      float* o = out[c] + base;
      for (int i = 0; i < m; ++i) {
        switch (kind[i]) {
          case TapKind::Invalid:
            o[i] = kNaN;
            break;
          case TapKind::Direct:
            o[i] = plane[taps[i].yo[0] + taps[i].xi[0]];
            break;
          case TapKind::Contiguous:
            if constexpr (N > 1) o[i] = apply_contiguous<N>(taps[i], plane);
            break;
          case TapKind::Gather:
            if constexpr (N > 1) o[i] = apply_taps<N, false>(taps[i], plane);
            break;
        }
      }
    }
  }
}

}  // namespace

const double* lanczos3_weight_table() { return kLanczosTable.w.front().data(); }

std::optional<Kernel> parse_kernel(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string s(text);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "nearest") return Kernel::Nearest;
  if (s == "bilinear") return Kernel::Bilinear;
  if (s == "bicubic") return Kernel::Bicubic;
  if (s == "lanczos3") return Kernel::Lanczos3;
  return std::nullopt;
}

std::string_view to_string(Kernel k) {
  switch (k) {
    case Kernel::Nearest:
      return "nearest";
    case Kernel::Bilinear:
      return "bilinear";
    case Kernel::Bicubic:
      return "bicubic";
    case Kernel::Lanczos3:
      return "lanczos3";
  }
  return "unknown";
}

KernelSupport kernel_support(Kernel k) {
  switch (k) {
    case Kernel::Nearest:
    case Kernel::Bilinear:
      return {0, 1};
    case Kernel::Bicubic:
      return {1, 2};
    case Kernel::Lanczos3:
      return {2, 3};
  }
  return {0, 1};
}

void resample_row(const PlaneBand& src, const double* xs, const double* ys, int n, Kernel k, float* const* out) {
  if (n <= 0) return;
  if (src.width <= 0 || src.height <= 0 || src.rows <= 0 || src.data == nullptr) {
    for (int c = 0; c < src.channels; ++c) std::fill(out[c], out[c] + n, kNaN);
    return;
  }
  switch (k) {
    case Kernel::Nearest:
      resample_row_impl<Kernel::Nearest>(src, xs, ys, n, out);
      break;
    case Kernel::Bilinear:
      resample_row_impl<Kernel::Bilinear>(src, xs, ys, n, out);
      break;
    case Kernel::Bicubic:
      resample_row_impl<Kernel::Bicubic>(src, xs, ys, n, out);
      break;
    case Kernel::Lanczos3:
      resample_row_impl<Kernel::Lanczos3>(src, xs, ys, n, out);
      break;
  }
}

void resample_row(const float* src, int src_w, int src_h, const double* xs, const double* ys, int n, Kernel k,
                  float* out) {
  const PlaneBand band{src, 1, src_w, src_h, 0, src_h};
  float* outs[1] = {out};
  resample_row(band, xs, ys, n, k, outs);
}

float sample(const float* src, int src_w, int src_h, double x, double y, Kernel k) {
  float v = kNaN;
  resample_row(src, src_w, src_h, &x, &y, 1, k, &v);
  return v;
}

}  // namespace zm
