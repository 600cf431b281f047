#include "stars/background.hpp"

#include <algorithm>
#include <cmath>

namespace zm {

namespace {

// Samples per box: the trend pass needs few; the statistics pass gives a level good to ~8 % of sigma and a noise
// good to ~7 % (both about halved by the 3x3 median over the mesh).
constexpr int kTrendSamples = 128;
constexpr int kStatSamples = 256;
constexpr int kMinSamples = 16;
constexpr int kClipIterations = 5;

float median_of(std::vector<float>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  float m = *mid;
  if (v.size() % 2 == 0) m = 0.5f * (m + *std::max_element(v.begin(), mid));
  return m;
}

float sorted_median(const float* v, std::size_t n) { return n % 2 ? v[n / 2] : 0.5f * (v[n / 2 - 1] + v[n / 2]); }

// Median absolute deviation about m of sorted v[0, n): the deviations below and above m are each monotone, so
// merging them up to the middle rank takes n/2 steps and no extra storage.
float sorted_mad(const float* v, std::size_t n, float m) {
  std::size_t right = static_cast<std::size_t>(std::lower_bound(v, v + n, m) - v);
  std::size_t left = right;  // next candidate below m is v[left - 1]
  float d = 0.0f;
  for (std::size_t taken = 0; taken <= n / 2; ++taken) {
    const float dl = left > 0 ? m - v[left - 1] : INFINITY;
    const float dr = right < n ? v[right] - m : INFINITY;
    if (dl <= dr) {
      d = dl;
      --left;
    } else {
      d = dr;
      ++right;
    }
  }
  return d;
}

// Sigma-clipped median and MAD sigma of `v` (sorted in place): one sort, then each clipping round only
// narrows an index range.
void clipped_stats(std::vector<float>& v, double clip_sigma, float& level, float& noise) {
  level = NAN;
  noise = NAN;
  std::sort(v.begin(), v.end());
  std::size_t lo = 0, hi = v.size();
  for (int it = 0; it < kClipIterations && hi - lo >= kMinSamples; ++it) {
    const float* b = v.data() + lo;
    const std::size_t n = hi - lo;
    const float med = sorted_median(b, n);
    const float sigma = 1.4826f * sorted_mad(b, n, med);
    level = med;
    noise = sigma;
    if (!(sigma > 0.0f)) break;
    const float lim = static_cast<float>(clip_sigma) * sigma;
    const std::size_t nlo = static_cast<std::size_t>(std::lower_bound(b, b + n, med - lim) - v.data());
    const std::size_t nhi = static_cast<std::size_t>(std::upper_bound(b, b + n, med + lim) - v.data());
    if (nlo == lo && nhi == hi) break;
    lo = nlo;
    hi = nhi;
  }
}

float median_finite(const std::vector<float>& values) {
  std::vector<float> v;
  for (float x : values)
    if (std::isfinite(x)) v.push_back(x);
  return v.empty() ? 0.0f : median_of(v);
}

// Mesh value at (ix, iy), continued linearly beyond the edges so that the 3x3 median of a plane is the plane
// itself everywhere (clamping would bias border nodes of a gradient).
float extended(const std::vector<float>& m, int nx, int ny, int ix, int iy) {
  auto at = [&](int x, int y) { return m[static_cast<std::size_t>(y) * nx + x]; };
  const int cx = std::clamp(ix, 0, nx - 1), cy = std::clamp(iy, 0, ny - 1);
  float v = at(cx, cy);
  if (ix != cx && nx > 1) v += at(cx, cy) - at(cx + (ix < 0 ? 1 : -1), cy);
  if (iy != cy && ny > 1) v += at(cx, cy) - at(cx, cy + (iy < 0 ? 1 : -1));
  return v;
}

std::vector<float> median_filter_mesh(const std::vector<float>& m, int nx, int ny) {
  std::vector<float> out(m.size());
  std::vector<float> nb(9);
  for (int iy = 0; iy < ny; ++iy) {
    for (int ix = 0; ix < nx; ++ix) {
      nb.clear();
      for (int jy = iy - 1; jy <= iy + 1; ++jy)
        for (int jx = ix - 1; jx <= ix + 1; ++jx) nb.push_back(extended(m, nx, ny, jx, jy));
      out[static_cast<std::size_t>(iy) * nx + ix] = median_of(nb);
    }
  }
  return out;
}

}  // namespace

std::vector<BackgroundMesh::Node> BackgroundMesh::make_nodes(int n_pixels, int cell, int n_cells) {
  std::vector<double> centre(n_cells);
  for (int i = 0; i < n_cells; ++i) centre[i] = 0.5 * (i * cell + std::min((i + 1) * cell, n_pixels) - 1);
  std::vector<Node> nodes(n_pixels);
  if (n_cells == 1) return nodes;  // one box: constant
  int i = 0;
  for (int p = 0; p < n_pixels; ++p) {
    while (i + 2 < n_cells && centre[i + 1] <= p) ++i;
    // Between the outermost centres and the border the nearest pair is extrapolated linearly (at most half a
    // box), so a sky gradient reaches the image edges.
    nodes[p] = {i, i + 1, static_cast<float>((p - centre[i]) / (centre[i + 1] - centre[i]))};
  }
  return nodes;
}

void BackgroundMesh::build_interpolation() {
  row_nodes_ = make_nodes(height_, cell_, ny_);
  const std::vector<Node> cols = make_nodes(width_, cell_, nx_);
  col_t_.resize(width_);
  col_segment_.resize(width_);
  col_segments_.clear();
  for (int x = 0; x < width_; ++x) {
    col_t_[x] = cols[x].t;
    if (col_segments_.empty() || col_segments_.back().i0 != cols[x].i0)
      col_segments_.push_back({x, x + 1, cols[x].i0, cols[x].i1});
    else
      col_segments_.back().x1 = x + 1;
    col_segment_[x] = static_cast<int>(col_segments_.size()) - 1;
  }
}

BackgroundMesh::BackgroundMesh(const float* img, int width, int height, int cell, double clip_sigma)
    : width_(width), height_(height), cell_(std::max(cell, 8)) {
  nx_ = (width_ + cell_ - 1) / cell_;
  ny_ = (height_ + cell_ - 1) / cell_;
  build_interpolation();
  const std::size_t n_cells = static_cast<std::size_t>(nx_) * ny_;
  // Pass 1: plain box medians give the large-scale trend (a median of a ramp is its centre value).
  level_.assign(n_cells, NAN);
  noise_.assign(n_cells, 0.0f);
  std::vector<float> samples;
  for (int iy = 0; iy < ny_; ++iy)
    for (int ix = 0; ix < nx_; ++ix) {
      gather(img, ix, iy, kTrendSamples, false, samples);
      if (samples.size() >= kMinSamples) level_[iy * nx_ + ix] = median_of(samples);
    }
  finish_mesh(level_);
  // Pass 2: clipped statistics of the detrended samples, so that a gradient across a box neither widens the
  // noise estimate nor biases the clipping.
  std::vector<float> level2(n_cells, NAN), noise2(n_cells, NAN);
  for (int iy = 0; iy < ny_; ++iy)
    for (int ix = 0; ix < nx_; ++ix) {
      gather(img, ix, iy, kStatSamples, true, samples);
      float dl, sd;
      clipped_stats(samples, clip_sigma, dl, sd);
      level2[iy * nx_ + ix] = level_[iy * nx_ + ix] + dl;
      noise2[iy * nx_ + ix] = sd;
    }
  level_ = std::move(level2);
  noise_ = std::move(noise2);
  median_level_ = finish_mesh(level_);
  median_noise_ = finish_mesh(noise_);
}

// Samples of box (ix, iy) on a regular sub-grid (at least `target` of them when the box has that many pixels),
// NaNs skipped; with `detrend`, minus the current interpolated level.
void BackgroundMesh::gather(const float* img, int ix, int iy, int target, bool detrend,
                            std::vector<float>& out) const {
  const int x0 = ix * cell_, x1 = std::min(width_, x0 + cell_);
  const int y0 = iy * cell_, y1 = std::min(height_, y0 + cell_);
  // Pixel steps sx, sy with sy in {sx, 2 sx}: the nearest sub-grid to `target` samples that is not coarser.
  const double ratio = (x1 - x0) * (y1 - y0) / double(target);
  const int sx = std::max(1, static_cast<int>(std::sqrt(ratio)));
  const int sy = (2.0 * sx * sx <= ratio) ? 2 * sx : sx;
  out.clear();
  for (int y = y0 + sy / 2; y < y1; y += sy) {
    const float* r = img + static_cast<std::size_t>(y) * width_;
    for (int x = x0 + sx / 2; x < x1; x += sx) {
      if (!std::isfinite(r[x])) continue;
      out.push_back(detrend ? r[x] - interpolate(level_, x, y) : r[x]);
    }
  }
}

// Fills boxes without data, median-filters the mesh, and returns the median over the mesh.
float BackgroundMesh::finish_mesh(std::vector<float>& m) const {
  const float med = median_finite(m);
  for (float& v : m)
    if (!std::isfinite(v)) v = med;
  m = median_filter_mesh(m, nx_, ny_);
  return med;
}

// Both row() and sample() blend the two mesh rows first, then interpolate along x as a + (b - a) t, so that
// they agree to the last bit; along x the value is linear inside each segment, which keeps the loop simple.
void BackgroundMesh::row(int y, float* level, float* noise) const {
  const Node& ry = row_nodes_[y];
  for (int k = 0; k < 2; ++k) {
    float* out = k == 0 ? level : noise;
    if (out == nullptr) continue;
    const std::vector<float>& m = k == 0 ? level_ : noise_;
    const float* m0 = m.data() + static_cast<std::size_t>(ry.i0) * nx_;
    const float* m1 = m.data() + static_cast<std::size_t>(ry.i1) * nx_;
    for (const Segment& s : col_segments_) {
      const float a = blend(m0[s.i0], m1[s.i0], ry.t);
      const float d = blend(m0[s.i1], m1[s.i1], ry.t) - a;
      for (int x = s.x0; x < s.x1; ++x) out[x] = a + d * col_t_[x];
    }
  }
}

float BackgroundMesh::interpolate(const std::vector<float>& m, int x, int y) const {
  const Node& ry = row_nodes_[y];
  const Segment& seg = col_segments_[col_segment_[x]];
  const float* m0 = m.data() + static_cast<std::size_t>(ry.i0) * nx_;
  const float* m1 = m.data() + static_cast<std::size_t>(ry.i1) * nx_;
  const float a = blend(m0[seg.i0], m1[seg.i0], ry.t);
  const float d = blend(m0[seg.i1], m1[seg.i1], ry.t) - a;
  return a + d * col_t_[x];
}

void BackgroundMesh::sample(int x, int y, float& level, float& noise) const {
  level = interpolate(level_, x, y);
  noise = interpolate(noise_, x, y);
}

float BackgroundMesh::min_noise() const {
  // The interpolant is bilinear on each patch between node rows/columns (or the border), so over whole pixels
  // its extremes lie at the first and last pixel of each patch.
  std::vector<int> xs, ys;
  for (const Segment& s : col_segments_) {
    xs.push_back(s.x0);
    xs.push_back(s.x1 - 1);
  }
  for (int y = 0; y < height_; ++y)
    if (y == 0 || y == height_ - 1 || row_nodes_[y].i0 != row_nodes_[y - 1].i0 ||
        row_nodes_[y].i0 != row_nodes_[y + 1].i0)
      ys.push_back(y);
  float lo = INFINITY;
  for (int y : ys)
    for (int x : xs) {
      float l, n;
      sample(x, y, l, n);
      lo = std::min(lo, n);
    }
  return lo;
}

}  // namespace zm
