// Why this rule, and not ZeMosaic's:
// ZeMosaic replaces a pixel when value > median5x5 + 3 * std5x5. That rule cannot tell a hot pixel from the core
// of a real star: a well-sampled star's peak is also far above its 5x5 median, so every bright star gets its core
// clipped to the median (photometry and alignment then suffer). We keep the median/sigma test, with a robust
// sigma (1.4826 * MAD of the window without the centre: the spike itself cannot inflate it, as it inflates a
// standard deviation), and add an isolation test: a hot pixel is a single-pixel spike, which the optics never
// produce (even at FWHM 2 px the pixels next to a star's peak hold about half of it). A pixel is replaced only if
//     excess > threshold_sigma * sigma + isolation_ratio * max(0, largest excess among its nearest neighbours),
// i.e. the ZeMosaic test with the neighbours' excess, amplified, added to the margin. A star core fails it (its
// neighbours' excess is ~half its own); a spike on flat sky passes it. On pure Gaussian noise it fires on ~6e-5
// of the pixels of a mono plane and ~6e-6 of a CFA (measured), where the two tests joined by a plain "and" fire on
// ~2e-4: all eight neighbours of a 3-sigma noise peak are now and then near or below the median.
// On a raw CFA the neighbours of every colour count, each measured against the median of its own colour nearby:
// the nearest same-colour sites of a red or blue pixel are 2 px away, where even a FWHM-2 star has faded to a few
// percent, so same-colour neighbours alone would not protect small stars; the adjacent sites of the other
// colours do. Limits: a cluster of two or more adjacent hot pixels is not a single-pixel spike and is left alone,
// and on an already debayered image a hot CFA site is smeared into its neighbours, which is why the CFA pass
// (before demosaicing) is the one to use.
#include "image/hotpixel.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "image/padded_band.hpp"
#include "image/small_median.hpp"

namespace zm {

namespace {

using detail::PaddedBand;

constexpr int kChunkRows = 32;
// Reach of the window in rows and columns. The input halo (kHotPixelHalo) can be one more: with per-colour
// mirroring, row -3 stands for row 5.
constexpr int kReach = 4;
constexpr int kWindow = 25;
constexpr float kMadToSigma = 1.4826f;

struct Offset {
  int dx;
  int dy;
};

// The shapes the 8 nearest same-colour sites can take: a 3x3 square of step 1 (mono) or 2 (red/blue on a CFA),
// or the diamond of the green quincunx. Known shapes let the local-maximum pre-test run vectorised over a row.
enum class NearShape { Square1, Square2, Diamond };

// Where to look around one kind of site, as pixel offsets. `window` is the 5x5 same-colour window with the
// centre last; `shape` that of the 8 nearest same-colour sites; `cross` the adjacent sites of other colours, each
// with the group (colour) whose local median is its background, that median taken over `background[group]`.
struct SiteLayout {
  NearShape shape = NearShape::Square1;
  std::array<Offset, kWindow> window{};
  int n_cross = 0;
  std::array<Offset, 8> cross{};
  std::array<int, 8> cross_group{};
  std::array<int, 2> n_background{};
  std::array<std::array<Offset, 24>, 2> background{};
};

// The same layout as pointer offsets into a PaddedBand of a given stride.
struct ResolvedLayout {
  NearShape shape = NearShape::Square1;
  std::array<std::ptrdiff_t, kWindow> window{};
  int n_cross = 0;
  std::array<std::ptrdiff_t, 8> cross{};
  std::array<int, 8> cross_group{};
  std::array<int, 2> n_background{};
  std::array<std::array<std::ptrdiff_t, 24>, 2> background{};
};

// A same-colour lattice: basis vectors (a, b) generate the sites i*a + j*b.
SiteLayout lattice_layout(Offset a, Offset b, NearShape shape) {
  SiteLayout L;
  L.shape = shape;
  int nw = 0;
  for (int i = -2; i <= 2; ++i) {
    for (int j = -2; j <= 2; ++j) {
      if (i == 0 && j == 0) continue;
      const Offset o{i * a.dx + j * b.dx, i * a.dy + j * b.dy};
      L.window[nw++] = o;
    }
  }
  L.window[kWindow - 1] = Offset{0, 0};
  return L;
}

// Layout for the CFA site at parity (px, py): its colour's lattice plus the adjacent sites of the other colours.
SiteLayout cfa_layout(BayerPattern p, int px, int py) {
  const int colour = cfa_channel(p, px, py);
  SiteLayout L = colour == 1 ? lattice_layout({1, 1}, {1, -1}, NearShape::Diamond)
                             : lattice_layout({2, 0}, {0, 2}, NearShape::Square2);
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
  R.shape = L.shape;
  std::transform(L.window.begin(), L.window.end(), R.window.begin(), off);
  R.n_cross = L.n_cross;
  std::transform(L.cross.begin(), L.cross.end(), R.cross.begin(), off);
  R.cross_group = L.cross_group;
  R.n_background = L.n_background;
  for (int g = 0; g < 2; ++g)
    std::transform(L.background[g].begin(), L.background[g].end(), R.background[g].begin(), off);
  return R;
}

// Upper median of n values (n >= 1); reorders `v`. The background sets of a CFA layout hold 12, 16 or 24 sites.
inline float median_inplace(float* v, int n) {
  switch (n) {
    case 12:
      return detail::median_network<12>(v);
    case 16:
      return detail::median_network<16>(v);
    case 24:
      return detail::median_network<24>(v);
    default:
      std::nth_element(v, v + n / 2, v + n);
      return v[n / 2];
  }
}

struct Thresholds {
  float k_sigma;
  float ratio;
  float sigma_floor;
};

// Largest of the 8 nearest same-colour sites, for every pixel of a row (vectorises: fixed offsets).
template <int S>
void square_max_row(const float* __restrict c, std::ptrdiff_t w, int width, float* __restrict out) {
  const float* __restrict up = c - S * w;
  const float* __restrict dn = c + S * w;
  for (int x = 0; x < width; ++x) {
    out[x] = std::max(std::max(std::max(c[x - S], c[x + S]), std::max(up[x], dn[x])),
                      std::max(std::max(up[x - S], up[x + S]), std::max(dn[x - S], dn[x + S])));
  }
}

void diamond_max_row(const float* __restrict c, std::ptrdiff_t w, int width, float* __restrict out) {
  const float* __restrict up1 = c - w;
  const float* __restrict dn1 = c + w;
  const float* __restrict up2 = c - 2 * w;
  const float* __restrict dn2 = c + 2 * w;
  for (int x = 0; x < width; ++x) {
    out[x] = std::max(std::max(std::max(up1[x - 1], up1[x + 1]), std::max(dn1[x - 1], dn1[x + 1])),
                      std::max(std::max(c[x - 2], c[x + 2]), std::max(up2[x], dn2[x])));
  }
}

void near_max_row(NearShape shape, const float* c, std::ptrdiff_t w, int width, float* out) {
  switch (shape) {
    case NearShape::Square1:
      square_max_row<1>(c, w, width, out);
      break;
    case NearShape::Square2:
      square_max_row<2>(c, w, width, out);
      break;
    case NearShape::Diamond:
      diamond_max_row(c, w, width, out);
      break;
  }
}

// True (with the value to put there) when the pixel at `c`, a strict maximum over its 8 nearest same-colour
// sites (`near_max` the largest of them), is a hot pixel under layout L. Tests run cheapest-first.
inline bool hot_replacement(const float* c, float near_max, const ResolvedLayout& L, const Thresholds& t,
                            float& replacement) {
  std::array<float, kWindow> buf;
  for (int i = 0; i < kWindow; ++i) buf[i] = c[L.window[i]];
  const float med = detail::median_network<kWindow>(buf.data());
  const float excess = c[0] - med;
  // Implied by the final test below, and cheap: skips the MAD for most noise maxima.
  if (!(excess > t.ratio * (near_max - med))) return false;

  for (int i = 0; i < kWindow - 1; ++i) buf[i] = std::fabs(c[L.window[i]] - med);
  const float sigma = std::max(kMadToSigma * detail::median_network<kWindow - 1>(buf.data()), t.sigma_floor);
  float neighbour_excess = std::max(near_max - med, 0.0f);
  if (!(excess > t.k_sigma * sigma + t.ratio * neighbour_excess)) return false;

  if (L.n_cross > 0) {
    std::array<float, 2> background{};
    for (int g = 0; g < 2; ++g) {
      const int n = L.n_background[g];
      if (n == 0) continue;
      for (int i = 0; i < n; ++i) buf[i] = c[L.background[g][i]];
      background[g] = median_inplace(buf.data(), n);
    }
    for (int i = 0; i < L.n_cross; ++i) {
      neighbour_excess = std::max(neighbour_excess, c[L.cross[i]] - background[L.cross_group[i]]);
    }
    if (!(excess > t.k_sigma * sigma + t.ratio * neighbour_excess)) return false;
  }
  replacement = med;
  return true;
}

struct Replacement {
  std::ptrdiff_t index;  // in the caller's output rows
  float value;
};

// `site[(y & 1) * 2 + (x & 1)]` is the layout of pixel (x, y); CFA borders mirror each colour plane on its own.
struct Layouts {
  std::array<ResolvedLayout, 4> site;
  bool per_parity_mirror = false;
};

// Finds the hot pixels of rows [y0, y0+rows) of a band and appends them with index = (y - index_row0) * width + x.
void scan_chunk(const PaddedBand& band, int y0, int rows, int width, const Layouts& layouts, const Thresholds& t,
                int index_row0, std::vector<float>& scratch, std::vector<Replacement>& found) {
  scratch.resize(2 * static_cast<std::size_t>(width));
  float* max_even = scratch.data();
  float* max_odd = scratch.data() + width;
  for (int k = 0; k < rows; ++k) {
    const float* row = band.row(k);
    const ResolvedLayout& even = layouts.site[((y0 + k) & 1) * 2];
    const ResolvedLayout& odd = layouts.site[((y0 + k) & 1) * 2 + 1];
    near_max_row(even.shape, row, band.stride(), width, max_even);
    const float* odd_max = max_even;
    if (odd.shape != even.shape) {
      near_max_row(odd.shape, row, band.stride(), width, max_odd);
      odd_max = max_odd;
    }
    const std::ptrdiff_t base = static_cast<std::ptrdiff_t>(y0 + k - index_row0) * width;
    for (int x = 0; x < width; ++x) {
      const bool is_odd = (x & 1) != 0;
      const float near_max = is_odd ? odd_max[x] : max_even[x];
      // Isolation implies a strict local maximum; the negated test also rejects NaN.
      if (!(row[x] > near_max)) continue;
      float value;
      if (hot_replacement(row + x, near_max, is_odd ? odd : even, t, value)) found.push_back({base + x, value});
    }
  }
}

// Scans output rows [out_row0, out_row0+out_rows) chunk by chunk; replacement indices are relative to out_row0.
void scan_rows(const Layouts& layouts, const Thresholds& t, const float* in, int width, int full_height, int in_row0,
               int in_rows, int out_row0, int out_rows, std::vector<Replacement>& found) {
  PaddedBand band;
  std::vector<float> scratch;
  for (int done = 0; done < out_rows; done += kChunkRows) {
    const int rows = std::min(kChunkRows, out_rows - done);
    band.fill(in, width, full_height, in_row0, in_rows, out_row0 + done, rows, kReach, kReach,
              layouts.per_parity_mirror);
    scan_chunk(band, out_row0 + done, rows, width, layouts, t, out_row0, scratch, found);
  }
}

Layouts cfa_layouts(BayerPattern p, int width) {
  const std::ptrdiff_t stride = static_cast<std::ptrdiff_t>(width) + 2 * kReach;
  Layouts out;
  for (int py = 0; py < 2; ++py) {
    for (int px = 0; px < 2; ++px) out.site[py * 2 + px] = resolve(cfa_layout(p, px, py), stride);
  }
  out.per_parity_mirror = true;
  return out;
}

Layouts mono_layouts(int width) {
  const ResolvedLayout L =
      resolve(lattice_layout({1, 0}, {0, 1}, NearShape::Square1), static_cast<std::ptrdiff_t>(width) + 2 * kReach);
  return Layouts{{L, L, L, L}, false};
}

Thresholds thresholds(const HotPixelParams& p) {
  return Thresholds{p.threshold_sigma, std::max(p.isolation_ratio, 1.0f), p.sigma_floor};
}

// Whole plane, in bands run in parallel. Decisions read the original plane only and replacements are applied
// after all bands are scanned, so the result (and the count) does not depend on the band split or thread count.
std::size_t correct_plane(float* plane, int width, int height, const Layouts& layouts, const Thresholds& t) {
  std::vector<Replacement> all;
  std::mutex all_mutex;
  tbb::parallel_for(tbb::blocked_range<int>(0, height, 64), [&](const tbb::blocked_range<int>& r) {
    std::vector<Replacement> found;
    scan_rows(layouts, t, plane, width, height, 0, height, r.begin(), static_cast<int>(r.size()), found);
    const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(r.begin()) * width;
    for (Replacement& f : found) f.index += shift;
    const std::lock_guard<std::mutex> lock(all_mutex);
    all.insert(all.end(), found.begin(), found.end());
  });
  for (const Replacement& f : all) plane[f.index] = f.value;
  return all.size();
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
  std::vector<Replacement> found;
  scan_rows(cfa_layouts(pattern, width), thresholds(params), in, width, full_height, in_row0, in_rows, out_row0,
            out_rows, found);
  if (out_rows == 0) return 0;
  const float* first = in + static_cast<std::ptrdiff_t>(out_row0 - in_row0) * width;
  std::copy(first, first + static_cast<std::ptrdiff_t>(out_rows) * width, out);
  for (const Replacement& f : found) out[f.index] = f.value;
  return found.size();
}

}  // namespace zm
