// A row band of one image plane copied with mirrored halo rows and padding columns, so kernels need no bounds checks.
#pragma once

#include <cstddef>
#include <vector>

namespace zm::detail {

// Reflect-101 index into [0, n): -1 -> 1, n -> n-2. It keeps parity, so a mirrored CFA site has the same colour as
// the site it stands for; that is what keeps constant colour fields exact up to the border.
inline int mirror_index(int i, int n) {
  if (n <= 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

// Reflect-101 within each parity class separately (each colour plane of a CFA mirrored as its own image): -1 -> 3,
// -2 -> 2. Unlike mirror_index, a site's nearest same-colour neighbours (2 px away) never mirror back onto the
// site itself, which would hide a hot pixel at row or column 1 from the local-maximum test.
inline int mirror_index_step2(int i, int n) {
  const int q = i & 1;  // parity, also for negative i
  const int count = (n - q + 1) / 2;
  if (count <= 0) return mirror_index(i, n);
  return q + 2 * mirror_index((i - q) / 2, count);
}

// Rows [y0 - halo, y0 + rows + halo) x columns [-pad, width + pad) of a plane, each out-of-image row/column
// replaced by its mirror image. Kernels address it with absolute-free offsets: row(k) + x, k in [-halo, rows+halo).
class PaddedBand {
 public:
  // `src` holds rows [src_row0, src_row0 + src_rows) of a width x full_height plane; every mirrored row the band
  // needs must be among them (std::invalid_argument otherwise: the caller forgot the halo). `per_parity` picks
  // mirror_index_step2 over mirror_index for rows and columns.
  void fill(const float* src, int width, int full_height, int src_row0, int src_rows, int y0, int rows, int halo,
            int pad, bool per_parity = false);

  float* row(int k) { return buf_.data() + static_cast<std::ptrdiff_t>(k + halo_) * stride_ + pad_; }
  const float* row(int k) const { return buf_.data() + static_cast<std::ptrdiff_t>(k + halo_) * stride_ + pad_; }
  std::ptrdiff_t stride() const { return stride_; }

 private:
  std::vector<float> buf_;
  std::ptrdiff_t stride_ = 0;
  int halo_ = 0;
  int pad_ = 0;
};

// Checks the arguments shared by the banded entry points (std::invalid_argument on misuse).
void check_band_args(const char* who, int width, int full_height, int in_row0, int in_rows, int out_row0,
                     int out_rows);

}  // namespace zm::detail
