// Resampling kernels (nearest, bilinear, Keys bicubic, Lanczos-3) that sample float planes at arbitrary points.
//
// Conventions and invariants (every kernel):
// - Coordinates are 0-based pixel centres; pixel i covers [i - 0.5, i + 0.5]. A point is inside the image when
//   -0.5 <= x <= W - 0.5 and -0.5 <= y <= H - 0.5; points outside (or NaN) sample to NaN.
// - Inside the image, taps that fall beyond the border are clamped to the edge pixel (edge replication), so the
//   border pixels survive an identity reprojection and a flat field stays flat up to the edge.
// - A NaN (or Inf) anywhere in the taps with non-zero weight makes the sample NaN: invalid data is never
//   smeared into valid output, the footprint shrinks instead (by up to the kernel's half-width).
// - Weights are separable and sum to 1 (to rounding): Keys bicubic by construction, Lanczos-3 by normalising
//   the table rows. A flat field is reproduced exactly.
// - A coordinate within kSnapTolerancePx of a pixel centre is treated as exactly on it (one tap on that axis).
//   Identity or integer-shift maps that went through a WCS round trip (errors ~1e-10 px) therefore return the
//   input values bit for bit; the snap changes a real sub-pixel sample by at most 1e-6 px.
// - Accuracy on smooth data: bilinear and Keys bicubic reproduce linear ramps exactly (bicubic even
//   quadratics). Normalised Lanczos-3 has no linear precision: its weights' first moment misses the sub-pixel
//   offset by up to 0.0198 px (at offsets 0.25 / 0.75; zero at 0 and 0.5), so a smooth gradient g comes back
//   off by up to 0.02 * g. It keeps more high-frequency detail (sharper stars, less blur) than bicubic.
// - Lanczos-3 weights come from a 2048-phase table of normalised weights with linear interpolation (weight
//   error < 2e-7), which keeps the kernel at tens of ns per pixel instead of six sin() calls per point.
// - Every path (single pixel, SSE2 interior, clamped border) performs the same double-precision operations in
//   the same order, so a sample's bits depend only on its coordinates and the input, never on the batch.
//
// The per-sample arithmetic (taps, weights, the Lanczos table lookup) lives in resample_core.hpp, shared with the
// GPU; this file adds the batched CPU paths around it.
#pragma once

#include <optional>
#include <string_view>

#include "reproject/resample_core.hpp"

namespace zm {

// "nearest" | "bilinear" | "bicubic" | "lanczos3" (case-insensitive, surrounding spaces ignored).
std::optional<Kernel> parse_kernel(std::string_view text);
std::string_view to_string(Kernel k);

// Taps a sample at coordinate v reads along one axis: indices floor(v) - before .. floor(v) + after, clamped to
// the image. Callers use it to know which input rows an output band needs.
struct KernelSupport {
  int before = 0;
  int after = 0;
};
KernelSupport kernel_support(Kernel k);

// A read-only view of C planar channels holding image rows [row0, row0 + rows) of an image `height` rows tall.
// Channel c, stored row r (image row row0 + r) starts at data + (c * rows + r) * width.
// Border handling uses the full image height, so a band gives the same samples as the whole image as long as
// it holds every row the samples need (see kernel_support / input_rows_needed in warp.hpp).
struct PlaneBand {
  const float* data = nullptr;
  int channels = 1;
  int width = 0;
  int height = 0;
  int row0 = 0;
  int rows = 0;
};

// The Lanczos-3 weight table every sample uses (kLanczosTableSize doubles, layout in resample_core.hpp). The GPU
// uploads it and interpolates it with the same function (resample::lanczos3_weights).
const double* lanczos3_weight_table();

// Samples one plane (whole image, single channel) at (x, y).
float sample(const float* src, int src_w, int src_h, double x, double y, Kernel k);

// The hot loop: samples a whole row of points. Separable weights are computed once per point; no allocation.
void resample_row(const float* src, int src_w, int src_h, const double* xs, const double* ys, int n, Kernel k,
                  float* out);

// Multi-channel form on a row band: out[c][i] = sample of channel c at (xs[i], ys[i]). The weights are shared by
// all channels. Samples needing rows outside the band are a caller error (they read as NaN).
void resample_row(const PlaneBand& src, const double* xs, const double* ys, int n, Kernel k, float* const* out);

}  // namespace zm
