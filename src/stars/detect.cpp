#include "stars/detect.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

#include "stars/background.hpp"
#include "stars/measure.hpp"

namespace zm {

namespace {

constexpr int kDefectBox = 4;        // half-size of the box the connected-area test explores
constexpr int kDedupCell = 16;       // px, grid cell of the duplicate search (also the largest separation)
constexpr double kNoiseFloorRel = 1e-6;

struct Candidate {
  int x = 0, y = 0;
  float score = 0.0f;  // smoothed residual at the maximum
};

std::vector<float> gaussian_kernel(double fwhm) {
  if (!(fwhm > 0.0)) return {1.0f};
  const double sigma = fwhm / 2.3548200450309493;
  const int r = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<double> k(2 * r + 1);
  double sum = 0.0;
  for (int i = -r; i <= r; ++i) sum += k[i + r] = std::exp(-0.5 * i * i / (sigma * sigma));
  std::vector<float> out(k.size());
  for (std::size_t i = 0; i < k.size(); ++i) out[i] = static_cast<float>(k[i] / sum);
  return out;
}

// Separable convolution with edge replication. Both passes run tap by tap over whole rows (vectorisable);
// `pad` is scratch of width + 2r floats.
void smooth(const float* in, int width, int height, const std::vector<float>& k, float* tmp, float* out,
            std::vector<float>& pad) {
  const int r = static_cast<int>(k.size() / 2);
  pad.resize(static_cast<std::size_t>(width) + 2 * r);
  for (int y = 0; y < height; ++y) {
    const float* src = in + static_cast<std::size_t>(y) * width;
    std::copy(src, src + width, pad.begin() + r);
    std::fill(pad.begin(), pad.begin() + r, src[0]);
    std::fill(pad.end() - r, pad.end(), src[width - 1]);
    float* dst = tmp + static_cast<std::size_t>(y) * width;
    std::fill(dst, dst + width, 0.0f);
    for (int j = 0; j <= 2 * r; ++j) {
      const float kj = k[j];
      const float* p = pad.data() + j;
      for (int x = 0; x < width; ++x) dst[x] += kj * p[x];
    }
  }
  for (int y = 0; y < height; ++y) {
    float* dst = out + static_cast<std::size_t>(y) * width;
    std::fill(dst, dst + width, 0.0f);
    for (int j = -r; j <= r; ++j) {
      const float* src = tmp + static_cast<std::size_t>(std::clamp(y + j, 0, height - 1)) * width;
      const float kj = k[j + r];
      for (int x = 0; x < width; ++x) dst[x] += kj * src[x];
    }
  }
}

// Strict local maximum with a raster-order tie rule, so a flat-topped (saturated) core yields one maximum.
bool is_local_max(const float* g, int width, int x, int y) {
  const float v = g[static_cast<std::size_t>(y) * width + x];
  const float* up = g + static_cast<std::size_t>(y - 1) * width + x;
  const float* mid = g + static_cast<std::size_t>(y) * width + x;
  const float* dn = g + static_cast<std::size_t>(y + 1) * width + x;
  return v > up[-1] && v > up[0] && v > up[1] && v > mid[-1] && v >= mid[1] && v >= dn[-1] && v >= dn[0] &&
         v >= dn[1];
}

// Local maxima of the smoothed residual above k sigma of the smoothed noise. Most pixels fail against the lowest
// threshold anywhere in the image; only the others look up their local one.
std::vector<Candidate> find_maxima(const float* g, int width, int height, const BackgroundMesh& mesh,
                                   const DetectParams& p, double smooth_noise_factor, float noise_floor) {
  const float k = static_cast<float>(p.k_sigma * smooth_noise_factor);
  const float floor_thr = static_cast<float>(p.min_threshold);
  auto threshold = [&](float noise) { return std::max(k * std::max(noise, noise_floor), floor_thr); };
  const float lowest = threshold(mesh.min_noise());
  std::vector<Candidate> out;
  const int m = std::max(1, p.edge_margin);
  for (int y = m; y < height - m; ++y) {
    const float* row = g + static_cast<std::size_t>(y) * width;
    for (int x = m; x < width - m; ++x) {
      if (!(row[x] > lowest)) continue;
      float level, noise;
      mesh.sample(x, y, level, noise);
      if (row[x] > threshold(noise) && is_local_max(g, width, x, y)) out.push_back({x, y, row[x]});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  return out;
}

// Noise of the smoothed image relative to the raw one, measured (median |value| of both residuals on a sparse
// grid) rather than assumed, so that correlated input noise (interpolated or debayered images) keeps the false
// alarm rate of k sigma. Falls back to the white-noise factor on noise-free data.
double smoothing_noise_factor(const float* resid, const float* smoothed, int width, int height, double white) {
  constexpr int kStep = 8;
  std::vector<float> a, b;
  for (int y = kStep / 2; y < height; y += kStep)
    for (int x = kStep / 2; x < width; x += kStep) {
      a.push_back(std::abs(resid[static_cast<std::size_t>(y) * width + x]));
      b.push_back(std::abs(smoothed[static_cast<std::size_t>(y) * width + x]));
    }
  if (a.size() < 100) return white;
  const auto ma = a.begin() + static_cast<std::ptrdiff_t>(a.size() / 2);
  const auto mb = b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2);
  std::nth_element(a.begin(), ma, a.end());
  std::nth_element(b.begin(), mb, b.end());
  if (!(*ma > 0.0f)) return white;
  return std::clamp(static_cast<double>(*mb) / *ma, 0.8 * white, 1.0);
}

// Brightest residual pixel in the 3x3 box around (x, y).
void peak_near(const float* r, int width, int height, int& x, int& y) {
  int bx = x, by = y;
  float best = r[static_cast<std::size_t>(y) * width + x];
  for (int yy = std::max(0, y - 1); yy <= std::min(height - 1, y + 1); ++yy)
    for (int xx = std::max(0, x - 1); xx <= std::min(width - 1, x + 1); ++xx)
      if (r[static_cast<std::size_t>(yy) * width + xx] > best) {
        best = r[static_cast<std::size_t>(yy) * width + xx];
        bx = xx;
        by = yy;
      }
  x = bx;
  y = by;
}

// Connected pixels above `thr` around (px, py), inside a small box, counted up to `enough`.
int connected_area(const float* r, int width, int height, int px, int py, float thr, int enough) {
  constexpr int kSide = 2 * kDefectBox + 1;
  std::uint8_t seen[kSide * kSide] = {};
  int stack[kSide * kSide];
  int top = 0, count = 0;
  stack[top++] = kDefectBox * kSide + kDefectBox;
  seen[kDefectBox * kSide + kDefectBox] = 1;
  while (top > 0 && count < enough) {
    const int id = stack[--top];
    ++count;
    const int bx = id % kSide, by = id / kSide;
    for (int dy = -1; dy <= 1; ++dy) {
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = bx + dx, ny = by + dy;
        if (nx < 0 || ny < 0 || nx >= kSide || ny >= kSide || seen[ny * kSide + nx]) continue;
        const int ix = px + nx - kDefectBox, iy = py + ny - kDefectBox;
        if (ix < 0 || iy < 0 || ix >= width || iy >= height) continue;
        seen[ny * kSide + nx] = 1;
        if (r[static_cast<std::size_t>(iy) * width + ix] > thr) stack[top++] = ny * kSide + nx;
      }
    }
  }
  return count;
}

bool is_point_defect(const float* r, int width, int height, int px, int py, float noise,
                     const DetectParams& p) {
  const float peak = r[static_cast<std::size_t>(py) * width + px];
  if (!(peak > 0.0f)) return true;
  float sum = 0.0f;
  int n = 0;
  const int off[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
  for (const auto& o : off) {
    const int x = px + o[0], y = py + o[1];
    if (x < 0 || y < 0 || x >= width || y >= height) continue;
    sum += r[static_cast<std::size_t>(y) * width + x];
    ++n;
  }
  if (n > 0 && sum / n < static_cast<float>(p.min_neighbour_ratio) * peak) return true;
  if (p.min_area <= 1) return false;
  const float thr = static_cast<float>(p.area_k_sigma) * noise;
  return connected_area(r, width, height, px, py, thr, p.min_area) < p.min_area;
}

bool touches_saturation(const float* img, int width, int height, int px, int py, float saturation) {
  for (int y = std::max(0, py - 1); y <= std::min(height - 1, py + 1); ++y)
    for (int x = std::max(0, px - 1); x <= std::min(width - 1, px + 1); ++x)
      if (img[static_cast<std::size_t>(y) * width + x] >= saturation) return true;
  return false;
}

bool brighter(const Star& a, const Star& b) {
  return std::tie(b.flux, a.y, a.x) < std::tie(a.flux, b.y, b.x);
}

// Keeps, brightest first, the stars that are not within one FWHM of a brighter kept star (two maxima of one
// object converge to the same centroid).
std::vector<Star> remove_duplicates(std::vector<Star> stars, int width, int height) {
  std::sort(stars.begin(), stars.end(), brighter);
  const int gx = width / kDedupCell + 1, gy = height / kDedupCell + 1;
  std::vector<std::vector<int>> grid(static_cast<std::size_t>(gx) * gy);
  std::vector<Star> kept;
  for (const Star& s : stars) {
    const int cx = std::clamp(static_cast<int>(s.x) / kDedupCell, 0, gx - 1);
    const int cy = std::clamp(static_cast<int>(s.y) / kDedupCell, 0, gy - 1);
    bool dup = false;
    for (int yy = std::max(0, cy - 1); yy <= std::min(gy - 1, cy + 1) && !dup; ++yy)
      for (int xx = std::max(0, cx - 1); xx <= std::min(gx - 1, cx + 1) && !dup; ++xx)
        for (int id : grid[static_cast<std::size_t>(yy) * gx + xx]) {
          const double sep = std::clamp(kept[id].fwhm, 1.0, double(kDedupCell));
          if (std::hypot(kept[id].x - s.x, kept[id].y - s.y) < sep) {
            dup = true;
            break;
          }
        }
    if (dup) continue;
    grid[static_cast<std::size_t>(cy) * gx + cx].push_back(static_cast<int>(kept.size()));
    kept.push_back(s);
  }
  return kept;
}

}  // namespace

StarDetector::StarDetector(const DetectParams& params) : params_(params) {}

std::vector<Star> StarDetector::detect(const float* img, int width, int height, DetectInfo* info) {
  return run(img, width, height, params_, info);
}

std::vector<Star> StarDetector::run(const float* img, int width, int height, const DetectParams& p,
                                    DetectInfo* info) {
  DetectInfo local;
  DetectInfo& inf = info ? *info : local;
  inf = {};
  if (width < 3 || height < 3 || img == nullptr) return {};

  const BackgroundMesh mesh(img, width, height, p.mesh_cell, p.mesh_clip_sigma);
  inf.background = mesh.median_level();
  inf.noise = mesh.median_noise();
  const float noise_floor =
      static_cast<float>(kNoiseFloorRel * std::max(1.0, std::abs(static_cast<double>(mesh.median_level()))));

  // Scratch images are reused from frame to frame: fresh multi-megabyte buffers cost page faults on every call.
  const std::size_t n = static_cast<std::size_t>(width) * height;
  for (auto* buf : {&resid_, &tmp_, &smoothed_})
    if (buf->size() < n) buf->resize(n);
  float* const resid = resid_.data();
  for (int y = 0; y < height; ++y) {
    float* dst = resid + static_cast<std::size_t>(y) * width;
    mesh.row(y, dst, nullptr);
    const float* src = img + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width; ++x) dst[x] = std::isfinite(src[x]) ? src[x] - dst[x] : 0.0f;
  }
  const std::vector<float> kernel = gaussian_kernel(p.smooth_fwhm);
  // White-noise gain of the filter: sqrt(sum of squared 2-D weights), which for a separable kernel is the sum
  // of the squared 1-D weights.
  double white = 0.0;
  for (float v : kernel) white += double(v) * v;
  smooth(resid, width, height, kernel, tmp_.data(), smoothed_.data(), pad_);
  const double factor = smoothing_noise_factor(resid, smoothed_.data(), width, height, white);

  const std::vector<Candidate> cands = find_maxima(smoothed_.data(), width, height, mesh, p, factor, noise_floor);
  inf.candidates = static_cast<int>(cands.size());

  MeasureParams mp;
  mp.fwhm_guess = p.fwhm_guess;
  mp.aperture_fwhm = p.aperture_fwhm;
  mp.min_aperture = p.min_aperture;
  mp.gain = p.gain;
  // Smoothed peak height orders stars almost like flux, so with a star budget only the best candidates are
  // measured (twice the budget, plus slack for rejects and duplicates).
  const std::size_t budget = p.max_stars > 0 ? 2 * static_cast<std::size_t>(p.max_stars) + 20 : cands.size();
  std::vector<Star> stars;
  for (const Candidate& c : cands) {
    if (stars.size() >= budget) break;
    int px = c.x, py = c.y;
    peak_near(resid, width, height, px, py);
    float level, noise;
    mesh.sample(px, py, level, noise);
    noise = std::max(noise, noise_floor);
    if (is_point_defect(resid, width, height, px, py, noise, p)) {
      ++inf.rejected_defects;
      continue;
    }
    const bool sat = touches_saturation(img, width, height, px, py, p.saturation);
    if (sat && p.reject_saturated) continue;
    ++inf.measured;
    auto s = measure_star(resid, width, height, px, py, noise, mp);
    if (!s || !(s->flux > 0.0)) continue;
    if (s->x < 0.0 || s->y < 0.0 || s->x > width - 1.0 || s->y > height - 1.0) continue;
    s->saturated = sat;
    int cx = static_cast<int>(std::lround(s->x)), cy = static_cast<int>(std::lround(s->y));
    peak_near(resid, width, height, cx, cy);
    s->peak = resid[static_cast<std::size_t>(cy) * width + cx];
    stars.push_back(*s);
  }
  stars = remove_duplicates(std::move(stars), width, height);
  if (p.max_stars > 0 && stars.size() > static_cast<std::size_t>(p.max_stars)) stars.resize(p.max_stars);
  return stars;
}

std::vector<Star> detect_stars(const float* img, int width, int height, const DetectParams& params,
                               DetectInfo* info) {
  StarDetector detector(params);
  return detector.detect(img, width, height, info);
}

double median_fwhm(const std::vector<Star>& stars, double min_snr) {
  std::vector<double> f;
  for (const Star& s : stars)
    if (!s.saturated && s.snr >= min_snr && s.fwhm > 0.0) f.push_back(s.fwhm);
  if (f.empty()) return 0.0;
  const auto mid = f.begin() + static_cast<std::ptrdiff_t>(f.size() / 2);
  std::nth_element(f.begin(), mid, f.end());
  return *mid;
}

}  // namespace zm
