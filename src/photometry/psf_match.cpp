// psf_match: Gaussian blur, its noise factor, and the fitted matching sigma on bright-source stamps.
#include "photometry/psf_match.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "photometry/robust_fit.hpp"

namespace zm {
namespace {


// A stamp cut out of both images with a margin wide enough for the widest blur, and its pixels in box coordinates.
struct Box {
  int bw = 0, bh = 0;
  std::vector<float> x, y;
  std::vector<std::uint8_t> valid;
  std::vector<std::size_t> aperture, ring;
};

Box cut_box(const float* x, const float* y, std::span<const std::uint8_t> valid, int w, int h, const MatchStamp& s,
            int margin) {
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (const auto* list : {&s.aperture, &s.ring})
    for (std::size_t k : *list) {
      const int px = static_cast<int>(k % w), py = static_cast<int>(k / w);
      x0 = std::min(x0, px), x1 = std::max(x1, px), y0 = std::min(y0, py), y1 = std::max(y1, py);
    }
  x0 = std::max(0, x0 - margin), y0 = std::max(0, y0 - margin);
  x1 = std::min(w - 1, x1 + margin), y1 = std::min(h - 1, y1 + margin);
  Box b;
  b.bw = x1 - x0 + 1, b.bh = y1 - y0 + 1;
  for (int yy = y0; yy <= y1; ++yy)
    for (int xx = x0; xx <= x1; ++xx) {
      const std::size_t k = static_cast<std::size_t>(yy) * w + xx;
      b.x.push_back(x[k]), b.y.push_back(y[k]), b.valid.push_back(valid[k]);
    }
  const auto local = [&](std::size_t k) {
    return static_cast<std::size_t>(static_cast<int>(k / w) - y0) * b.bw + (static_cast<int>(k % w) - x0);
  };
  for (std::size_t k : s.aperture) b.aperture.push_back(local(k));
  for (std::size_t k : s.ring) b.ring.push_back(local(k));
  return b;
}

struct Sums {
  double sxx = 0, sxy = 0, syy = 0;
  long long n = 0;
};

// Adds one stamp's background-subtracted aperture products, x or y blurred by |s| as the sign says.
void accumulate(const Box& b, double s, Sums& sums) {
  std::vector<float> blurred;
  const float* X = b.x.data();
  const float* Y = b.y.data();
  if (std::fabs(s) > 1e-9) {
    blurred = gaussian_blur_valid(s > 0 ? X : Y, b.valid, b.bw, b.bh, std::fabs(s));
    (s > 0 ? X : Y) = blurred.data();
  }
  std::vector<double> rx, ry;
  for (std::size_t k : b.ring)
    if (b.valid[k]) rx.push_back(X[k]), ry.push_back(Y[k]);
  const double bx = median_in_place(rx), by = median_in_place(ry);
  for (std::size_t k : b.aperture) {
    if (!b.valid[k]) continue;
    const double dx = X[k] - bx, dy = Y[k] - by;
    sums.sxx += dx * dx, sums.sxy += dx * dy, sums.syy += dy * dy, ++sums.n;
  }
}

// The residual of y - a x left over the stamps, less the noise it is expected to hold.
double objective(const std::vector<Box>& boxes, double s, double vx, double vy) {
  Sums sums;
  for (const Box& b : boxes) accumulate(b, s, sums);
  if (!(sums.sxx > 0)) return 0.0;
  const double a = sums.sxy / sums.sxx;
  const double f = blur_noise_factor(std::fabs(s));
  const double fx = s > 0 ? f * f : 1.0, fy = s < 0 ? f * f : 1.0;
  const double residual = sums.syy - sums.sxy * sums.sxy / sums.sxx;
  return residual - static_cast<double>(sums.n) * (vy * fy + a * a * vx * fx);
}

}  // namespace

std::vector<float> gaussian_blur_valid(const float* in, std::span<const std::uint8_t> valid, int w, int h,
                                       double sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<double> k(2 * r + 1);
  for (int d = -r; d <= r; ++d) k[d + r] = std::exp(-0.5 * d * d / (sigma * sigma));
  std::vector<double> tmp(valid.size(), 0.0), tw(valid.size(), 0.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double s = 0, sw = 0;
      for (int d = std::max(-r, -x); d <= std::min(r, w - 1 - x); ++d) {
        const std::size_t q = static_cast<std::size_t>(y) * w + x + d;
        if (valid[q]) s += k[d + r] * in[q], sw += k[d + r];
      }
      tmp[static_cast<std::size_t>(y) * w + x] = s, tw[static_cast<std::size_t>(y) * w + x] = sw;
    }
  std::vector<float> out(in, in + valid.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::size_t p = static_cast<std::size_t>(y) * w + x;
      if (!valid[p]) continue;
      double s = 0, sw = 0;
      for (int d = std::max(-r, -y); d <= std::min(r, h - 1 - y); ++d) {
        const std::size_t q = static_cast<std::size_t>(y + d) * w + x;
        s += k[d + r] * tmp[q], sw += k[d + r] * tw[q];
      }
      if (sw > 0) out[p] = static_cast<float>(s / sw);
    }
  return out;
}

double blur_noise_factor(double sigma) {
  if (!(sigma > 0)) return 1.0;
  const int r = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  double s = 0, s2 = 0;
  for (int d = -r; d <= r; ++d) {
    const double k = std::exp(-0.5 * d * d / (sigma * sigma));
    s += k, s2 += k * k;
  }
  return s2 / (s * s);  // 2-D: (1-D noise factor)^2
}

PsfMatch psf_matching_sigma(const float* x, const float* y, std::span<const std::uint8_t> valid, int w, int h,
                            double noise_x, double noise_y, const std::vector<MatchStamp>& stamps,
                            const PsfMatchOptions& o) {
  PsfMatch out;
  const int margin = static_cast<int>(std::ceil(3.0 * o.max_sigma)) + 1;
  std::vector<Box> boxes;
  for (const MatchStamp& s : stamps)
    if (!s.aperture.empty() && s.ring.size() >= 8) boxes.push_back(cut_box(x, y, valid, w, h, s, margin));
  out.stamps = static_cast<int>(boxes.size());
  if (out.stamps < std::max(1, o.min_stamps) || !(o.step > 0)) return out;
  const int half = static_cast<int>(std::lround(o.max_sigma / o.step));
  // Every kCoarse-th grid point first, then every point within kCoarse - 1 of the best one: for an objective with
  // one minimum that is the minimum of the whole grid, at a third of the blurs (each point blurs every stamp).
  constexpr int kCoarse = 5;
  std::vector<double> j(static_cast<std::size_t>(2 * half + 1), std::numeric_limits<double>::quiet_NaN());
  auto at = [&](int i) {
    double& v = j[static_cast<std::size_t>(i + half)];
    if (std::isnan(v)) v = objective(boxes, i * o.step, noise_x * noise_x, noise_y * noise_y);
    return v;
  };
  int best = -half;
  for (int i = -half; i <= half; i += kCoarse)
    if (at(i) < at(best)) best = i;
  if ((2 * half) % kCoarse != 0 && at(half) < at(best)) best = half;
  int m = std::max(-half, best - kCoarse + 1);
  for (int i = m + 1; i <= std::min(half, best + kCoarse - 1); ++i)
    if (at(i) < at(m)) m = i;
  double s = m * o.step;
  if (m > -half && m < half) {
    const double curv = at(m - 1) - 2.0 * at(m) + at(m + 1);
    if (curv > 0) s += 0.5 * (at(m - 1) - at(m + 1)) / curv * o.step;
  }
  out.sigma = s;
  out.ok = true;
  return out;
}

}  // namespace zm
