#include "stars/background.hpp"

#include <algorithm>
#include <cmath>

namespace zm {

namespace {

constexpr int kTargetSamples = 1024;  // per box: enough for a median good to ~4 % of sigma
constexpr int kMinSamples = 16;
constexpr int kClipIterations = 5;

float median_of(std::vector<float>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  float m = *mid;
  if (v.size() % 2 == 0) m = 0.5f * (m + *std::max_element(v.begin(), mid));
  return m;
}

// Sigma-clipped median and MAD sigma of `v` (consumed); `scratch` is reused storage.
void clipped_stats(std::vector<float>& v, std::vector<float>& scratch, double clip_sigma, float& level,
                   float& noise) {
  level = NAN;
  noise = NAN;
  for (int it = 0; it < kClipIterations && v.size() >= kMinSamples; ++it) {
    const float med = median_of(v);
    scratch.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) scratch[i] = std::abs(v[i] - med);
    const float sigma = 1.4826f * median_of(scratch);
    level = med;
    noise = sigma;
    if (!(sigma > 0.0f)) break;
    const float lim = static_cast<float>(clip_sigma) * sigma;
    const std::size_t before = v.size();
    std::erase_if(v, [&](float x) { return std::abs(x - med) > lim; });
    if (v.size() == before) break;
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

BackgroundMesh::BackgroundMesh(const float* img, int width, int height, int cell, double clip_sigma)
    : width_(width), height_(height), cell_(std::max(cell, 8)) {
  nx_ = (width_ + cell_ - 1) / cell_;
  ny_ = (height_ + cell_ - 1) / cell_;
  col_nodes_ = make_nodes(width_, cell_, nx_);
  row_nodes_ = make_nodes(height_, cell_, ny_);
  const std::size_t n_cells = static_cast<std::size_t>(nx_) * ny_;
  // Pass 1: plain box medians give the large-scale trend (a median of a ramp is its centre value).
  level_.assign(n_cells, NAN);
  noise_.assign(n_cells, 0.0f);
  std::vector<float> samples, scratch;
  for (int iy = 0; iy < ny_; ++iy)
    for (int ix = 0; ix < nx_; ++ix) {
      gather(img, ix, iy, samples);
      if (samples.size() >= kMinSamples) level_[iy * nx_ + ix] = median_of(samples);
    }
  finish_mesh(level_);
  // Pass 2: clipped statistics of the detrended samples, so that a gradient across a box neither widens the
  // noise estimate nor biases the clipping.
  std::vector<float> level2(n_cells, NAN), noise2(n_cells, NAN);
  for (int iy = 0; iy < ny_; ++iy)
    for (int ix = 0; ix < nx_; ++ix) {
      gather(img, ix, iy, samples, true);
      float dl, sd;
      clipped_stats(samples, scratch, clip_sigma, dl, sd);
      level2[iy * nx_ + ix] = level_[iy * nx_ + ix] + dl;
      noise2[iy * nx_ + ix] = sd;
    }
  level_ = std::move(level2);
  noise_ = std::move(noise2);
  median_level_ = finish_mesh(level_);
  median_noise_ = finish_mesh(noise_);
}

// Samples of box (ix, iy) on a regular sub-grid (about kTargetSamples of them), NaNs skipped; with `detrend`,
// minus the current interpolated level.
void BackgroundMesh::gather(const float* img, int ix, int iy, std::vector<float>& out, bool detrend) const {
  const int x0 = ix * cell_, x1 = std::min(width_, x0 + cell_);
  const int y0 = iy * cell_, y1 = std::min(height_, y0 + cell_);
  const int stride = std::max(1, static_cast<int>(std::sqrt((x1 - x0) * (y1 - y0) / double(kTargetSamples))));
  out.clear();
  for (int y = y0 + stride / 2; y < y1; y += stride) {
    const float* r = img + static_cast<std::size_t>(y) * width_;
    for (int x = x0 + stride / 2; x < x1; x += stride) {
      if (!std::isfinite(r[x])) continue;
      float l = 0.0f, n;
      if (detrend) sample(x, y, l, n);
      out.push_back(r[x] - l);
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

void BackgroundMesh::row(int y, float* level, float* noise) const {
  const Node& ry = row_nodes_[y];
  const float ty = ry.t, sy = 1.0f - ry.t;
  const float* l0 = level_.data() + ry.i0 * nx_;
  const float* l1 = level_.data() + ry.i1 * nx_;
  const float* n0 = noise_.data() + ry.i0 * nx_;
  const float* n1 = noise_.data() + ry.i1 * nx_;
  for (int x = 0; x < width_; ++x) {
    const Node& cx = col_nodes_[x];
    const float tx = cx.t, sx = 1.0f - cx.t;
    level[x] = sy * (sx * l0[cx.i0] + tx * l0[cx.i1]) + ty * (sx * l1[cx.i0] + tx * l1[cx.i1]);
    noise[x] = sy * (sx * n0[cx.i0] + tx * n0[cx.i1]) + ty * (sx * n1[cx.i0] + tx * n1[cx.i1]);
  }
}

void BackgroundMesh::sample(int x, int y, float& level, float& noise) const {
  const Node& ry = row_nodes_[y];
  const Node& cx = col_nodes_[x];
  const float ty = ry.t, sy = 1.0f - ry.t, tx = cx.t, sx = 1.0f - cx.t;
  auto interp = [&](const std::vector<float>& m) {
    const float* r0 = m.data() + ry.i0 * nx_;
    const float* r1 = m.data() + ry.i1 * nx_;
    return sy * (sx * r0[cx.i0] + tx * r0[cx.i1]) + ty * (sx * r1[cx.i0] + tx * r1[cx.i1]);
  };
  level = interp(level_);
  noise = interp(noise_);
}

}  // namespace zm
