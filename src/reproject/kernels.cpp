#include "reproject/kernels.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>

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

// Lanczos-3 weights of the six taps i0-2 .. i0+3 for fractional offsets f = m / kPhases.
struct LanczosTable {
  static constexpr int kPhases = 2048;
  std::array<std::array<double, 6>, kPhases + 1> w{};
  LanczosTable() {
    for (int m = 0; m <= kPhases; ++m) {
      const double f = static_cast<double>(m) / kPhases;
      for (int k = 0; k < 6; ++k) w[m][k] = lanczos3(f + 2.0 - k);
    }
  }
};

const LanczosTable& lanczos_table() {
  static const LanczosTable table;
  return table;
}

template <int N>
struct Taps {
  int xi[N];
  int yi[N];
  double wx[N];
  double wy[N];
};

enum class TapKind : unsigned char { Invalid, Direct, General };

template <int N>
inline void normalise(double* w) {
  double s = 0.0;
  for (int k = 0; k < N; ++k) s += w[k];
  const double inv = 1.0 / s;
  for (int k = 0; k < N; ++k) w[k] *= inv;
}

// Fills the taps of one axis. Returns true when the coordinate was snapped to a single pixel.
template <Kernel K>
inline bool axis_taps(double v, int size, int* idx, double* w) {
  constexpr int N = taps_of<K>();
  const int last = size - 1;
  if constexpr (K == Kernel::Nearest) {
    idx[0] = std::clamp(static_cast<int>(std::floor(v + 0.5)), 0, last);
    w[0] = 1.0;
    return true;
  } else {
    const double r = std::nearbyint(v);
    if (std::fabs(v - r) <= kSnapTolerancePx) {
      // Every tap reads the same pixel with weight 0 except one: the sum is that pixel's value exactly.
      const int c = std::clamp(static_cast<int>(r), 0, last);
      for (int k = 0; k < N; ++k) {
        idx[k] = c;
        w[k] = 0.0;
      }
      w[0] = 1.0;
      return true;
    }
    const double fl = std::floor(v);
    const int i0 = static_cast<int>(fl);
    const double f = v - fl;
    constexpr int before = (N - 1) / 2;
    for (int k = 0; k < N; ++k) idx[k] = std::clamp(i0 - before + k, 0, last);
    if constexpr (K == Kernel::Bilinear) {
      w[0] = 1.0 - f;
      w[1] = f;
    } else if constexpr (K == Kernel::Bicubic) {
      // Keys (a = -0.5) at distances f+1, f, 1-f, 2-f.
      w[0] = ((-0.5 * f + 1.0) * f - 0.5) * f;
      w[1] = (1.5 * f - 2.5) * f * f + 1.0;
      w[2] = ((-1.5 * f + 2.0) * f + 0.5) * f;
      w[3] = (0.5 * f - 0.5) * f * f;
      normalise<N>(w);
    } else {
      const LanczosTable& t = lanczos_table();
      const double p = f * LanczosTable::kPhases;
      const int m = std::min(static_cast<int>(p), LanczosTable::kPhases - 1);
      const double a = p - m;
      const auto& lo = t.w[m];
      const auto& hi = t.w[m + 1];
      for (int k = 0; k < N; ++k) w[k] = lo[k] + a * (hi[k] - lo[k]);
      normalise<N>(w);
    }
    return false;
  }
}

template <Kernel K>
inline TapKind point_taps(double x, double y, const PlaneBand& b, Taps<taps_of<K>()>& t) {
  constexpr int N = taps_of<K>();
  // Written so that NaN coordinates fail the test.
  if (!(x >= -0.5 && x <= b.width - 0.5 && y >= -0.5 && y <= b.height - 0.5)) return TapKind::Invalid;
  const bool sx = axis_taps<K>(x, b.width, t.xi, t.wx);
  const bool sy = axis_taps<K>(y, b.height, t.yi, t.wy);
  for (int k = 0; k < N; ++k) {
    t.yi[k] -= b.row0;
    if (t.yi[k] < 0 || t.yi[k] >= b.rows) return TapKind::Invalid;
  }
  return (sx && sy) ? TapKind::Direct : TapKind::General;
}

template <int N>
inline float apply_taps(const Taps<N>& t, const float* plane, std::size_t width) {
  double acc = 0.0;
  for (int j = 0; j < N; ++j) {
    const float* row = plane + static_cast<std::size_t>(t.yi[j]) * width;
    double s = 0.0;
    for (int i = 0; i < N; ++i) s += t.wx[i] * static_cast<double>(row[t.xi[i]]);
    acc += t.wy[j] * s;
  }
  return static_cast<float>(acc);
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
            o[i] = plane[static_cast<std::size_t>(taps[i].yi[0]) * width + taps[i].xi[0]];
            break;
          case TapKind::General:
            o[i] = apply_taps<N>(taps[i], plane, width);
            break;
        }
      }
    }
  }
}

}  // namespace

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
