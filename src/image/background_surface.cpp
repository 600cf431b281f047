#include "image/background_surface.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <Eigen/Dense>

namespace zm {

namespace {

// Smoothing x this is the spline's lambda in coordinates normalised by the longest side. The spline only refines
// the quadratic base, so it may be stiff: from 1e-4 to 1e-1 the analytic cases of
// tests/image/test_background_surface.cpp stay within 0.1-0.25 ADU rms on a 300 ADU sky; 1e-3 is in the middle.
constexpr double kSmoothingScale = 1e-3;
constexpr double kMinWindowFill = 0.2;  // of a window's pixels valid and unmasked for it to give a sample
constexpr int kMinSplineSamples = 10;
constexpr int kBaseRounds = 3;  // mask / quadratic rounds before the spline
constexpr int kBaseClipIterations = 8;
constexpr double kMaxMaskedFraction = 0.8;
// One-sided sample clip (sigmas of the samples' residuals): objects only add light.
constexpr double kClipHigh = 2.0;
constexpr double kClipLow = 4.0;

struct Sample {
  double u = 0, v = 0;   // normalised position
  std::vector<double> z;  // per channel
};

double median_of(std::vector<float>& v) {
  if (v.empty()) return 0.0;
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  double m = v[h];
  if (v.size() % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h)));
  return m;
}

double tps_kernel(double r2) { return r2 > 0 ? 0.5 * r2 * std::log(r2) : 0.0; }  // r^2 log r = r^2 log(r^2) / 2

// Square dilation by `radius` (separable max filter).
void dilate(std::vector<std::uint8_t>& mask, int w, int h, int radius) {
  if (radius <= 0) return;
  std::vector<std::uint8_t> tmp(mask.size());
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* row = mask.data() + static_cast<std::size_t>(y) * w;
    // Running count of set pixels in the window [x - radius, x + radius].
    int count = 0;
    for (int x = 0; x < std::min(w, radius); ++x) count += row[x];
    for (int x = 0; x < w; ++x) {
      if (x + radius < w) count += row[x + radius];
      if (x - radius - 1 >= 0) count -= row[x - radius - 1];
      tmp[static_cast<std::size_t>(y) * w + x] = count > 0;
    }
  }
  for (int x = 0; x < w; ++x) {
    int count = 0;
    for (int y = 0; y < std::min(h, radius); ++y) count += tmp[static_cast<std::size_t>(y) * w + x];
    for (int y = 0; y < h; ++y) {
      if (y + radius < h) count += tmp[static_cast<std::size_t>(y + radius) * w + x];
      if (y - radius - 1 >= 0) count -= tmp[static_cast<std::size_t>(y - radius - 1) * w + x];
      mask[static_cast<std::size_t>(y) * w + x] = count > 0;
    }
  }
}

// The low-order base of the model: 1, u, v, u^2, uv, v^2 (a quadratic carries a light-pollution gradient and the
// bowl that vignetting leaves; the spline only refines what it misses).
constexpr int kBaseTerms = 6;
void base_terms(double u, double v, double* t) {
  t[0] = 1.0, t[1] = u, t[2] = v, t[3] = u * u, t[4] = u * v, t[5] = v * v;
}

struct Quadratic {
  Eigen::MatrixXd q;  // kBaseTerms x C
  double value(int c, double u, double v) const {
    double t[kBaseTerms];
    base_terms(u, v, t);
    double s = 0;
    for (int k = 0; k < kBaseTerms; ++k) s += q(k, c) * t[k];
    return s;
  }
};

// Least squares on the samples: the quadratic with 12 samples or more, a plane with 3, else the fallback constant.
Quadratic fit_quadratic(const std::vector<Sample>& s, int channels, const std::vector<double>& fallback) {
  Quadratic f;
  f.q = Eigen::MatrixXd::Zero(kBaseTerms, channels);
  const auto n = static_cast<Eigen::Index>(s.size());
  const int terms = n >= 12 ? kBaseTerms : n >= 3 ? 3 : 0;
  if (terms == 0) {
    for (int c = 0; c < channels; ++c) f.q(0, c) = fallback[static_cast<std::size_t>(c)];
    return f;
  }
  Eigen::MatrixXd P(n, terms), Z(n, channels);
  for (Eigen::Index i = 0; i < n; ++i) {
    double t[kBaseTerms];
    base_terms(s[static_cast<std::size_t>(i)].u, s[static_cast<std::size_t>(i)].v, t);
    for (int k = 0; k < terms; ++k) P(i, k) = t[k];
    for (int c = 0; c < channels; ++c) Z(i, c) = s[static_cast<std::size_t>(i)].z[static_cast<std::size_t>(c)];
  }
  f.q.topRows(terms) = P.colPivHouseholderQr().solve(Z);
  return f;
}

// A fitted surface as a function of the normalised position: the quadratic base plus a spline through what the
// base leaves at the samples (no spline: the base alone).
struct SurfaceFit {
  Quadratic base;
  std::vector<Sample> centres;
  Eigen::MatrixXd w;  // N x C spline weights (empty: none)
  Eigen::MatrixXd a;  // 3 x C: a0 + a1 u + a2 v of the spline

  double value(int c, double u, double v) const {
    double s = base.value(c, u, v);
    if (w.rows() == 0) return s;
    s += a(0, c) + a(1, c) * u + a(2, c) * v;
    for (std::size_t i = 0; i < centres.size() && w.rows() > 0; ++i) {
      const double du = u - centres[i].u, dv = v - centres[i].v;
      s += w(static_cast<Eigen::Index>(i), c) * tps_kernel(du * du + dv * dv);
    }
    return s;
  }
};

// The spline through the samples' residuals to `base` (with fewer than kMinSplineSamples: the base alone).
SurfaceFit fit_samples(const std::vector<Sample>& s, int channels, double smoothing, const Quadratic& base) {
  SurfaceFit f;
  f.base = base;
  const auto n = static_cast<Eigen::Index>(s.size());
  if (n < kMinSplineSamples) return f;
  Eigen::MatrixXd P(n, 3), Z(n, channels);
  for (Eigen::Index i = 0; i < n; ++i) {
    const Sample& si = s[static_cast<std::size_t>(i)];
    P(i, 0) = 1.0, P(i, 1) = si.u, P(i, 2) = si.v;
    for (int c = 0; c < channels; ++c) Z(i, c) = si.z[static_cast<std::size_t>(c)] - base.value(c, si.u, si.v);
  }
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(n + 3, n + 3);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < i; ++j) {
      const double du = s[static_cast<std::size_t>(i)].u - s[static_cast<std::size_t>(j)].u;
      const double dv = s[static_cast<std::size_t>(i)].v - s[static_cast<std::size_t>(j)].v;
      A(i, j) = A(j, i) = tps_kernel(du * du + dv * dv);
    }
    A(i, i) = static_cast<double>(n) * smoothing * kSmoothingScale;
  }
  A.block(0, n, n, 3) = P;
  A.block(n, 0, 3, n) = P.transpose();
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(n + 3, channels);
  B.topRows(n) = Z;
  const Eigen::MatrixXd x = A.partialPivLu().solve(B);
  f.centres = s;
  f.w = x.topRows(n);
  f.a = x.bottomRows(3);
  return f;
}

// The samples whose residual to model(c, u, v) stays within [m - kClipLow s, m + kClipHigh s] in every channel
// (m, s: median and 1.4826 MAD of the residuals); all of them when fewer than 12 would be left.
template <class Model>
std::vector<Sample> clip_samples(const std::vector<Sample>& s, int channels, const Model& model) {
  if (s.size() < 12) return s;
  std::vector<std::vector<float>> r(static_cast<std::size_t>(channels));
  std::vector<double> m(r.size()), sd(r.size());
  for (int c = 0; c < channels; ++c) {
    auto& rc = r[static_cast<std::size_t>(c)];
    for (const Sample& x : s) rc.push_back(static_cast<float>(x.z[static_cast<std::size_t>(c)] - model(c, x.u, x.v)));
    std::vector<float> tmp = rc;
    m[static_cast<std::size_t>(c)] = median_of(tmp);
    for (auto& v : tmp) v = static_cast<float>(std::fabs(v - m[static_cast<std::size_t>(c)]));
    sd[static_cast<std::size_t>(c)] = std::max(1e-9, 1.4826 * median_of(tmp));
  }
  std::vector<Sample> out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool keep = true;
    for (int c = 0; c < channels; ++c) {
      const double z = (r[static_cast<std::size_t>(c)][i] - m[static_cast<std::size_t>(c)]) / sd[static_cast<std::size_t>(c)];
      keep = keep && z <= kClipHigh && z >= -kClipLow;
    }
    if (keep) out.push_back(s[i]);
  }
  return out.size() >= 12 ? out : s;
}

}  // namespace

float BackgroundSurface::at(int c, double x, double y) const {
  const double fx = std::clamp(x / spacing, 0.0, static_cast<double>(nodes.width - 1));
  const double fy = std::clamp(y / spacing, 0.0, static_cast<double>(nodes.height - 1));
  const int x0 = std::min(static_cast<int>(fx), nodes.width - 1), y0 = std::min(static_cast<int>(fy), nodes.height - 1);
  const int x1 = std::min(x0 + 1, nodes.width - 1), y1 = std::min(y0 + 1, nodes.height - 1);
  const double tx = fx - x0, ty = fy - y0;
  return static_cast<float>((1 - ty) * ((1 - tx) * nodes.at(c, y0, x0) + tx * nodes.at(c, y0, x1)) +
                            ty * ((1 - tx) * nodes.at(c, y1, x0) + tx * nodes.at(c, y1, x1)));
}

BackgroundSurface fit_background_surface(const ImageF& im, const SurfaceOptions& o) {
  const int w = im.width, h = im.height, C = im.channels;
  const std::size_t plane = im.plane_size();
  BackgroundSurface out;
  out.width = w, out.height = h;
  std::vector<std::uint8_t> valid(plane, 1);
  std::size_t n_valid = 0;
  for (std::size_t i = 0; i < plane; ++i) {
    for (int c = 0; c < C; ++c) valid[i] = valid[i] && std::isfinite(im.plane(c)[i]);
    n_valid += valid[i];
  }
  std::vector<double> med(static_cast<std::size_t>(C), 0.0);
  {
    std::vector<float> v;
    for (int c = 0; c < C; ++c) {
      v.clear();
      for (std::size_t i = 0; i < plane; ++i)
        if (valid[i]) v.push_back(im.plane(c)[i]);
      med[static_cast<std::size_t>(c)] = median_of(v);
    }
  }
  // Sample windows: the step grows until there are at most max_samples of them.
  int step = std::max(2, o.sample_step);
  while (static_cast<long long>((w + step - 1) / step) * ((h + step - 1) / step) > std::max(16, o.max_samples)) ++step;
  out.step = step;
  const double norm = 1.0 / std::max(1, std::max(w, h));
  // Node grid of the evaluated model.
  out.spacing = std::max(1, step / 4);
  const int nw = static_cast<int>(std::ceil((w - 1) / out.spacing)) + 1, nh = static_cast<int>(std::ceil((h - 1) / out.spacing)) + 1;
  out.nodes = ImageF(C, nw, nh);
  for (int c = 0; c < C; ++c) std::fill_n(out.nodes.plane(c), out.nodes.plane_size(), static_cast<float>(med[c]));

  std::vector<std::uint8_t> mask(plane, 0), next(plane, 0), over(plane, 0), kept_mask;
  std::vector<float> vals;
  Quadratic base;
  base.q = Eigen::MatrixXd::Zero(kBaseTerms, C);
  for (int c = 0; c < C; ++c) base.q(0, c) = med[static_cast<std::size_t>(c)];
  const int rounds = kBaseRounds + std::max(1, o.iterations);
  for (int it = 0; it < rounds; ++it) {
    const bool spline = it >= kBaseRounds;
    // Objects against the current model, with the sky's statistics from the pixels left unmasked last round.
    // over: above m + obj_k sigma in some channel; bright: above m + max(obj_k + 2, 5) sigma. An object is a
    // bright pixel (a star the grid shrank to one pixel) or an `over` pixel with at least two `over` neighbours:
    // pure noise passes 2.2 sigma in 1.4 % of the pixels, and dilating each of those by 4 px would mask the sky.
    std::fill(over.begin(), over.end(), 0);
    std::fill(next.begin(), next.end(), 0);
    for (int c = 0; c < C; ++c) {
      vals.clear();
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const std::size_t i = static_cast<std::size_t>(y) * w + x;
          if (valid[i] && !mask[i]) vals.push_back(im.plane(c)[i] - out.at(c, x, y));
        }
      if (vals.size() < 16) break;
      const double m = median_of(vals);
      for (auto& v : vals) v = static_cast<float>(std::fabs(v - m));
      const double sigma = std::max(1.4826 * median_of(vals), 1e-12);
      const double thr = m + o.obj_k * sigma, high = m + std::max(o.obj_k + 2.0, 5.0) * sigma;
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const std::size_t i = static_cast<std::size_t>(y) * w + x;
          if (!valid[i]) continue;
          const double r = im.plane(c)[i] - out.at(c, x, y);
          if (r > thr) over[i] = 1;
          if (r > high) next[i] = 1;
        }
    }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t i = static_cast<std::size_t>(y) * w + x;
        if (!over[i] || next[i]) continue;
        int n = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int xx = x + dx, yy = y + dy;
            if (xx >= 0 && yy >= 0 && xx < w && yy < h) n += over[static_cast<std::size_t>(yy) * w + xx];
          }
        if (n >= 3) next[i] = 1;
      }
    dilate(next, w, h, o.obj_dilate_px);
    // Once the spline may bend, what the settled base masked stays masked: a flexible surface would otherwise
    // creep into a large object round after round, and the mask would shrink with it.
    if (spline && kept_mask.empty()) kept_mask = mask;
    if (spline)
      for (std::size_t i = 0; i < plane; ++i) next[i] |= kept_mask[i];
    // A model that misses the sky's shape somewhere reads it all as object; fewer samples then make the next model
    // worse, and the mask can spiral over the whole image (seen on a 3890 x 8218 canvas). Past kMaxMaskedFraction
    // the previous round's mask stands.
    std::size_t n_masked = 0;
    for (std::size_t i = 0; i < plane; ++i) n_masked += valid[i] && next[i];
    if (it == 0 || n_masked <= kMaxMaskedFraction * static_cast<double>(n_valid)) {
      mask.swap(next);
    } else {
      n_masked = 0;
      for (std::size_t i = 0; i < plane; ++i) n_masked += valid[i] && mask[i];
    }
    out.masked_fraction = n_valid ? static_cast<double>(n_masked) / n_valid : 0.0;

    std::vector<Sample> samples;
    for (int y0 = 0; y0 < h; y0 += step)
      for (int x0 = 0; x0 < w; x0 += step) {
        const int x1 = std::min(w, x0 + step), y1 = std::min(h, y0 + step);
        double su = 0, sv = 0;
        int n = 0;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * w + x;
            if (valid[i] && !mask[i]) su += x, sv += y, ++n;
          }
        if (n < std::max(3.0, kMinWindowFill * step * step)) continue;
        Sample s;
        s.u = su / n * norm, s.v = sv / n * norm;
        for (int c = 0; c < C; ++c) {
          vals.clear();
          for (int y = y0; y < y1; ++y)
            for (int x = x0; x < x1; ++x) {
              const std::size_t i = static_cast<std::size_t>(y) * w + x;
              if (valid[i] && !mask[i]) vals.push_back(im.plane(c)[i]);
            }
          s.z.push_back(median_of(vals));
        }
        samples.push_back(std::move(s));
      }
    // Samples the model passes well below are object residue (a large nebula's soft edge, a window half on it):
    // the sky is the lower envelope of what is left, so the clip is one-sided, against the current model for the
    // spline and against the quadratic's own fit, iterated, for the base.
    if (spline) {
      samples = clip_samples(samples, C, [&](int c, double u, double v) { return out.at(c, u / norm, v / norm); });
    } else {
      for (int k = 0; k < kBaseClipIterations; ++k) {
        const Quadratic q = fit_quadratic(samples, C, med);
        const std::size_t before = samples.size();
        samples = clip_samples(samples, C, [&](int c, double u, double v) { return q.value(c, u, v); });
        if (samples.size() == before) break;
      }
    }
    out.samples = static_cast<int>(samples.size());
    if (!spline) base = fit_quadratic(samples, C, med);
    const SurfaceFit fit = spline ? fit_samples(samples, C, o.smoothing, base) : SurfaceFit{base, {}, {}, {}};
    for (int c = 0; c < C; ++c)
      for (int j = 0; j < nh; ++j)
        for (int i = 0; i < nw; ++i)
          out.nodes.at(c, j, i) = static_cast<float>(fit.value(c, i * out.spacing * norm, j * out.spacing * norm));
  }

  out.median.assign(static_cast<std::size_t>(C), 0.0);
  out.amplitude.assign(static_cast<std::size_t>(C), 0.0);
  for (int c = 0; c < C; ++c) {
    vals.clear();
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (valid[static_cast<std::size_t>(y) * w + x]) vals.push_back(out.at(c, x, y));
    if (vals.empty()) continue;
    const auto [lo, hi] = std::minmax_element(vals.begin(), vals.end());
    out.amplitude[static_cast<std::size_t>(c)] = *hi - *lo;
    out.median[static_cast<std::size_t>(c)] = median_of(vals);
  }
  return out;
}

}  // namespace zm
