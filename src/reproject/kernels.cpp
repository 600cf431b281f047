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

using resample::PointTaps;
using resample::taps_of;

double lanczos3(double t) {
  if (t == 0.0) return 1.0;
  if (std::fabs(t) >= 3.0) return 0.0;
  const double pt = std::numbers::pi * t;
  return 3.0 * std::sin(pt) * std::sin(pt / 3.0) / (pt * pt);
}

// Normalised Lanczos-3 weights of the six taps i0-2 .. i0+3 for fractional offsets f = m / kLanczosPhases. Linear
// interpolation between two rows that each sum to 1 sums to 1 as well, so samples need no normalisation.
struct LanczosTable {
  std::array<std::array<double, kLanczosTaps>, kLanczosPhases + 1> w{};
  LanczosTable() {
    static_assert(sizeof(w) == kLanczosTableSize * sizeof(double), "the table must be one row-major array");
    for (int m = 0; m <= kLanczosPhases; ++m) {
      const double f = static_cast<double>(m) / kLanczosPhases;
      double sum = 0.0;
      for (int k = 0; k < kLanczosTaps; ++k) sum += (w[m][k] = lanczos3(f + 2.0 - k));
      for (int k = 0; k < kLanczosTaps; ++k) w[m][k] /= sum;
    }
  }
};

const LanczosTable kLanczosTable;

// Direct: both axes snapped, one pixel read. Contiguous: x taps are consecutive columns (the common interior
// case, done with SSE2 pairs). Gather: x taps clamped at a border or snapped.
enum class TapKind : unsigned char { Invalid, Direct, Contiguous, Gather };

// resample::point_taps on a band, with the weighted case split by whether the x taps are consecutive columns.
template <Kernel K>
inline TapKind point_taps(double x, double y, const PlaneBand& b, PointTaps<taps_of(K)>& t) {
  constexpr int N = taps_of(K);
  switch (resample::point_taps<K>(x, y, b.width, b.height, b.row0, b.rows, t, kLanczosTable.w.front().data())) {
    case resample::TapKind::Invalid:
      return TapKind::Invalid;
    case resample::TapKind::Direct:
      return TapKind::Direct;
    case resample::TapKind::Weighted:
      break;
  }
  return t.xi[N - 1] - t.xi[0] == N - 1 ? TapKind::Contiguous : TapKind::Gather;
}

// resample::combine_taps on one plane; the contiguous form reads consecutive columns from the first tap.
template <int N, bool kContiguous>
inline float apply_taps(const PointTaps<N>& t, const float* plane) {
  return resample::combine_taps<N>(t.wx, t.wy, [&](int j, int i) {
    return plane[t.yo[j] + (kContiguous ? t.xi[0] + i : t.xi[i])];
  });
}

#if defined(__SSE2__)
// The contiguous case with SSE2 pairs of doubles: lane 0 carries the even taps, lane 1 the odd ones, which is
// exactly the scalar order above, so both paths give the same bits.
template <int N>
inline float apply_taps_sse2(const PointTaps<N>& t, const float* plane) {
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
inline float apply_contiguous(const PointTaps<N>& t, const float* plane) {
#if defined(__SSE2__)
  return apply_taps_sse2<N>(t, plane);
#else
  return apply_taps<N, true>(t, plane);
#endif
}

template <Kernel K>
void resample_row_impl(const PlaneBand& src, const double* xs, const double* ys, int n, float* const* out) {
  constexpr int N = taps_of(K);
  constexpr int kChunk = 64;
  PointTaps<N> taps[kChunk];
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
