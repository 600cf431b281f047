#include "image/padded_band.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace zm::detail {

void PaddedBand::fill(const float* src, int width, int full_height, int src_row0, int src_rows, int y0, int rows,
                      int halo, int pad, bool per_parity) {
  auto mirror = [per_parity](int i, int n) { return per_parity ? mirror_index_step2(i, n) : mirror_index(i, n); };
  halo_ = halo;
  pad_ = pad;
  stride_ = static_cast<std::ptrdiff_t>(width) + 2 * pad;
  const std::size_t need = static_cast<std::size_t>(rows + 2 * halo) * static_cast<std::size_t>(stride_);
  if (buf_.size() < need) buf_.resize(need);
  for (int k = -halo; k < rows + halo; ++k) {
    const int y = mirror(y0 + k, full_height);
    if (y < src_row0 || y >= src_row0 + src_rows) {
      throw std::invalid_argument("band input lacks row " + std::to_string(y) + " (halo missing): holds rows [" +
                                  std::to_string(src_row0) + ", " + std::to_string(src_row0 + src_rows) + ")");
    }
    const float* s = src + static_cast<std::ptrdiff_t>(y - src_row0) * width;
    float* d = row(k);
    std::copy(s, s + width, d);
    for (int x = 1; x <= pad; ++x) {
      d[-x] = s[mirror(-x, width)];
      d[width - 1 + x] = s[mirror(width - 1 + x, width)];
    }
  }
}

void check_band_args(const char* who, int width, int full_height, int in_row0, int in_rows, int out_row0,
                     int out_rows) {
  const bool ok = width > 0 && full_height > 0 && in_rows >= 0 && out_rows >= 0 && in_row0 >= 0 &&
                  in_row0 + in_rows <= full_height && out_row0 >= 0 && out_row0 + out_rows <= full_height;
  if (!ok) {
    throw std::invalid_argument(std::string(who) + ": bad band (width " + std::to_string(width) + ", height " +
                                std::to_string(full_height) + ", input rows " + std::to_string(in_row0) + "+" +
                                std::to_string(in_rows) + ", output rows " + std::to_string(out_row0) + "+" +
                                std::to_string(out_rows) + ")");
  }
}

}  // namespace zm::detail
