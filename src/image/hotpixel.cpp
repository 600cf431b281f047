// Why this rule, and not ZeMosaic's:
// ZeMosaic replaces a pixel when value > median5x5 + 3 * std5x5. That rule cannot tell a hot pixel from the core
// of a real star: a well-sampled star's peak is also far above its 5x5 median, so every bright star gets its core
// clipped to the median (photometry and alignment then suffer). We keep the same median/sigma test, with a robust
// sigma (1.4826 * MAD of the window without the centre, so a star or the spike itself cannot inflate it) and add
// an isolation test: a hot pixel is a single-pixel spike that the optics never produce (even at FWHM 2 px the
// pixels next to a star's peak hold about half of it), so a pixel is replaced only when its excess over the
// median is more than `isolation_ratio` times the largest excess among its nearest neighbours, and more than
// `isolation_ratio` local sigmas (which keeps the false-positive rate on pure noise well below 1e-4).
// On a raw CFA the neighbours of every colour count, each measured against the median of its own colour nearby:
// the nearest same-colour sites of a red or blue pixel are 2 px away, where even a FWHM-2 star has faded to a few
// percent, so same-colour neighbours alone would not protect small stars; the adjacent sites of the other
// colours do. Limits: a cluster of two or more adjacent hot pixels is not a single-pixel spike and is left alone,
// and on an already debayered image a hot CFA site is smeared into its neighbours, which is why the CFA pass
// (before demosaicing) is the one to use.
#include "image/hotpixel.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "image/padded_band.hpp"

namespace zm {

namespace {

using detail::PaddedBand;

constexpr int kChunkRows = 32;
constexpr int kPad = 4;
constexpr int kWindow = 25;
constexpr float kMadToSigma = 1.4826f;

struct Offset {
  int dx;
  int dy;
};

// Where to look around one kind of site, as pixel offsets. `window` is the 5x5 same-colour window with the
// centre last; `near` the 8 nearest same-colour sites; `cross` the adjacent sites of other colours, each with the
// group (colour) whose local median is its background, that median being taken over `background[group]`.
struct SiteLayout {
  std::array<Offset, kWindow> window{};
  std::array<Offset, 8> near{};
  int n_cross = 0;
  std::array<Offset, 8> cross{};
  std::array<int, 8> cross_group{};
  std::array<int, 2> n_background{};
  std::array<std::array<Offset, 24>, 2> background{};
};

// The same layout as pointer offsets into a PaddedBand of a given stride.
struct ResolvedLayout {
  std::array<std::ptrdiff_t, kWindow> window{};
  std::array<std::ptrdiff_t, 8> near{};
  int n_cross = 0;
  std::array<std::ptrdiff_t, 8> cross{};
  std::array<int, 8> cross_group{};
  std::array<int, 2> n_background{};
  std::array<std::array<std::ptrdiff_t, 24>, 2> background{};
};

// A same-colour lattice: basis vectors (a, b) generate the sites i*a + j*b.
SiteLayout lattice_layout(Offset a, Offset b) {
  SiteLayout L;
  int nw = 0;
  int nn = 0;
  for (int i = -2; i <= 2; ++i) {
    for (int j = -2; j <= 2; ++j) {
      if (i == 0 && j == 0) continue;
      const Offset o{i * a.dx + j * b.dx, i * a.dy + j * b.dy};
      L.window[nw++] = o;
      if (std::abs(i) <= 1 && std::abs(j) <= 1) L.near[nn++] = o;
    }
  }
  L.window[kWindow - 1] = Offset{0, 0};
  return L;
}

// Layout for the CFA site at parity (px, py): its colour's lattice plus the adjacent sites of the other colours.
SiteLayout cfa_layout(BayerPattern p, int px, int py) {
  const int colour = cfa_channel(p, px, py);
  SiteLayout L = colour == 1 ? lattice_layout({1, 1}, {1, -1}) : lattice_layout({2, 0}, {0, 2});
  std::array<int, 3> group_of{-1, -1, -1};
  int groups = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const int c = cfa_channel(p, px + dx, py + dy);
      if (c == colour) continue;
      if (group_of[c] < 0) group_of[c] = groups++;
      L.cross[L.n_cross] = Offset{dx, dy};
      L.cross_group[L.n_cross++] = group_of[c];
    }
  }
  for (int dy = -3; dy <= 3; ++dy) {
    for (int dx = -3; dx <= 3; ++dx) {
      const int g = group_of[cfa_channel(p, px + dx, py + dy)];
      if (g >= 0) L.background[g][L.n_background[g]++] = Offset{dx, dy};
    }
  }
  return L;
}

ResolvedLayout resolve(const SiteLayout& L, std::ptrdiff_t stride) {
  auto off = [stride](Offset o) { return o.dy * stride + o.dx; };
  ResolvedLayout R;
  std::transform(L.window.begin(), L.window.end(), R.window.begin(), off);
  std::transform(L.near.begin(), L.near.end(), R.near.begin(), off);
  R.n_cross = L.n_cross;
  std::transform(L.cross.begin(), L.cross.end(), R.cross.begin(), off);
  R.cross_group = L.cross_group;
  R.n_background = L.n_background;
  for (int g = 0; g < 2; ++g) std::transform(L.background[g].begin(), L.background[g].end(), R.background[g].begin(), off);
  return R;
}

// Upper median of n values (n >= 1); reorders `v`.
inline float median_inplace(float* v, int n) {
  std::nth_element(v, v + n / 2, v + n);
  return v[n / 2];
}

struct Thresholds {
  float k_sigma;
  float ratio;
  float sigma_floor;
};

// True (with the value to put there) when the pixel at `c` is a hot pixel under layout L. The tests are ordered
// cheapest-first: almost every pixel fails the local-maximum test and costs 8 comparisons.
inline bool hot_replacement(const float* c, const ResolvedLayout& L, const Thresholds& t, float& replacement) {
  const float v = c[0];
  float near_max = c[L.near[0]];
  for (int i = 1; i < 8; ++i) near_max = std::max(near_max, c[L.near[i]]);
  if (!(v > near_max)) return false;  // isolation implies a strict local maximum; also rejects NaN

  std::array<float, kWindow> buf;
  for (int i = 0; i < kWindow; ++i) buf[i] = c[L.window[i]];
  const float med = median_inplace(buf.data(), kWindow);
  const float excess = v - med;
  if (!(excess > t.ratio * (near_max - med))) return false;

  for (int i = 0; i < kWindow - 1; ++i) buf[i] = std::fabs(c[L.window[i]] - med);
  const float sigma = std::max(kMadToSigma * median_inplace(buf.data(), kWindow - 1), t.sigma_floor);
  if (!(excess > t.k_sigma * sigma) || !(excess > t.ratio * sigma)) return false;

  if (L.n_cross > 0) {
    std::array<float, 2> background{};
    for (int g = 0; g < 2; ++g) {
      const int n = L.n_background[g];
      if (n == 0) continue;
      for (int i = 0; i < n; ++i) buf[i] = c[L.background[g][i]];
      background[g] = median_inplace(buf.data(), n);
    }
    for (int i = 0; i < L.n_cross; ++i) {
      if (!(excess > t.ratio * (c[L.cross[i]] - background[L.cross_group[i]]))) return false;
    }
  }
  replacement = med;
  return true;
}

// Corrects rows [y0, y0+rows) of a band; `layouts[(y & 1) * 2 + (x & 1)]` is the layout of pixel (x, y).
std::size_t correct_chunk(const PaddedBand& band, int y0, int rows, int width,
                          const std::array<ResolvedLayout, 4>& layouts, const Thresholds& t, float* out) {
  std::size_t replaced = 0;
  for (int k = 0; k < rows; ++k) {
    const float* row = band.row(k);
    float* o = out + static_cast<std::ptrdiff_t>(k) * width;
    std::copy(row, row + width, o);
    const ResolvedLayout& even = layouts[((y0 + k) & 1) * 2];
    const ResolvedLayout& odd = layouts[((y0 + k) & 1) * 2 + 1];
    for (int x = 0; x < width; ++x) {
      float value;
      if (hot_replacement(row + x, (x & 1) != 0 ? odd : even, t, value)) {
        o[x] = value;
        ++replaced;
      }
    }
  }
  return replaced;
}

std::size_t correct_rows(const std::array<ResolvedLayout, 4>& layouts, const Thresholds& t, const float* in,
                         int width, int full_height, int in_row0, int in_rows, int out_row0, int out_rows,
                         float* out, PaddedBand& band) {
  std::size_t replaced = 0;
  for (int done = 0; done < out_rows; done += kChunkRows) {
    const int rows = std::min(kChunkRows, out_rows - done);
    band.fill(in, width, full_height, in_row0, in_rows, out_row0 + done, rows, kHotPixelHalo, kPad);
    replaced += correct_chunk(band, out_row0 + done, rows, width, layouts, t,
                              out + static_cast<std::ptrdiff_t>(done) * width);
  }
  return replaced;
}

std::array<ResolvedLayout, 4> cfa_layouts(BayerPattern p, int width) {
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(width) + 2 * kPad;
  std::array<ResolvedLayout, 4> out;
  for (int py = 0; py < 2; ++py) {
    for (int px = 0; px < 2; ++px) out[py * 2 + px] = resolve(cfa_layout(p, px, py), stride);
  }
  return out;
}

std::array<ResolvedLayout, 4> mono_layouts(int width) {
  const ResolvedLayout L = resolve(lattice_layout({1, 0}, {0, 1}), static_cast<std::ptrdiff_t>(width) + 2 * kPad);
  return {L, L, L, L};
}

Thresholds thresholds(const HotPixelParams& p) {
  return Thresholds{p.threshold_sigma, std::max(p.isolation_ratio, 1.0f), p.sigma_floor};
}

// Whole plane, in bands run in parallel; decisions read the original plane only, so the result (and the count)
// does not depend on the band split or the thread count.
std::size_t correct_plane(float* plane, int width, int height, const std::array<ResolvedLayout, 4>& layouts,
                          const Thresholds& t) {
  std::vector<float> out(static_cast<std::size_t>(width) * static_cast<std::size_t>(height));
  std::atomic<std::size_t> replaced{0};
  tbb::parallel_for(tbb::blocked_range<int>(0, height, 64), [&](const tbb::blocked_range<int>& r) {
    PaddedBand band;
    replaced += correct_rows(layouts, t, plane, width, height, 0, height, r.begin(), static_cast<int>(r.size()),
                             out.data() + static_cast<std::ptrdiff_t>(r.begin()) * width, band);
  });
  std::copy(out.begin(), out.end(), plane);
  return replaced.load();
}

}  // namespace

std::size_t correct_hot_pixels(ImageF& image, const HotPixelParams& params) {
  if (image.empty()) return 0;
  const auto layouts = mono_layouts(image.width);
  std::size_t replaced = 0;
  for (int c = 0; c < image.channels; ++c) {
    replaced += correct_plane(image.plane(c), image.width, image.height, layouts, thresholds(params));
  }
  return replaced;
}

std::size_t correct_hot_pixels_cfa(ImageF& cfa, BayerPattern pattern, const HotPixelParams& params) {
  if (cfa.empty()) return 0;
  if (cfa.channels != 1) throw std::invalid_argument("correct_hot_pixels_cfa: expects a single-channel CFA image");
  return correct_plane(cfa.plane(0), cfa.width, cfa.height, cfa_layouts(pattern, cfa.width), thresholds(params));
}

std::size_t correct_hot_pixels_cfa_rows(BayerPattern pattern, const HotPixelParams& params, const float* in, int width,
                                        int full_height, int in_row0, int in_rows, int out_row0, int out_rows,
                                        float* out) {
  detail::check_band_args("correct_hot_pixels_cfa_rows", width, full_height, in_row0, in_rows, out_row0, out_rows);
  PaddedBand band;
  return correct_rows(cfa_layouts(pattern, width), thresholds(params), in, width, full_height, in_row0, in_rows,
                      out_row0, out_rows, out, band);
}

}  // namespace zm
