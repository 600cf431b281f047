// How end-to-end tests measure a mosaic (or a master tile) against the simulator's truth on the same grid: the
// photometric gain of a region from catalogue-star aperture fluxes, from detected-source flux ratios, or pixel-wise
// against a blur-matched truth.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <vector>

#include "image/image.hpp"
#include "photometry/flux_ratio.hpp"
#include "photometry/psf_match.hpp"
#include "sim/sky_model.hpp"
#include "wcs/wcs.hpp"

namespace zm::test {

struct CatalogueGain {
  double gain = 0.0;   // 0 when fewer than min_stars qualify
  double sigma = 0.0;  // 1-sigma of gain, from the stars' scatter
  int stars = 0;
  double scale = 0.0;  // sqrt(chi2 / dof): the scatter against the noise model
};

// The truth's plane `channel` or the image's, blurred so that their PSFs agree (psf_match.hpp), fitted on the
// stamps of the catalogue's bright stars (disc of 6 px, ring 7-10 px) that lie wholly on finite pixels. Empty
// vectors: that side is left as it is.
struct PsfMatched {
  std::vector<float> truth, image;
  double sigma = 0.0;  // > 0: truth blurred, < 0: image blurred
};

inline PsfMatched match_truth_psf(const ImageF& image, const ImageF& truth, Wcs& grid,
                                  const std::vector<sim::Star>& stars, int channel, double pix_sigma,
                                  const std::function<bool(int, int)>& keep) {
  const int w = image.width, h = image.height;
  const float* I = image.plane(channel);
  const float* T = truth.plane(channel);
  std::vector<std::uint8_t> valid(image.plane_size());
  for (std::size_t k = 0; k < valid.size(); ++k) valid[k] = std::isfinite(I[k]) && std::isfinite(T[k]);
  double tmax = 0;
  for (std::size_t k = 0; k < valid.size(); ++k)
    if (valid[k]) tmax = std::max(tmax, static_cast<double>(T[k]));
  std::vector<MatchStamp> stamps;
  for (const auto& st : stars) {
    if (st.flux[channel] < 400.0 * pix_sigma) continue;
    const auto p = grid.world_to_pixel(st.pos);
    if (!p) continue;
    const int cx = static_cast<int>(std::lround(p->x)), cy = static_cast<int>(std::lround(p->y));
    if (cx < 12 || cy < 12 || cx >= w - 12 || cy >= h - 12 || !keep(cx, cy)) continue;
    MatchStamp m;
    bool whole = true;
    for (int dy = -10; dy <= 10 && whole; ++dy)
      for (int dx = -10; dx <= 10; ++dx) {
        const double d = std::hypot(cx + dx - p->x, cy + dy - p->y);
        const std::size_t k = static_cast<std::size_t>(cy + dy) * w + cx + dx;
        if (d > 10) continue;
        if (!valid[k]) { whole = false; break; }
        (d <= 6 ? m.aperture : m.ring).push_back(k);
      }
    if (whole && m.ring.size() >= 8) stamps.push_back(std::move(m));
  }
  std::vector<float> i_copy(I, I + valid.size()), t_copy(T, T + valid.size());
  for (std::size_t k = 0; k < valid.size(); ++k)
    if (!valid[k]) i_copy[k] = t_copy[k] = 0.0f;
  // The truth is noise-free: a token noise keeps the objective's noise term for the image alone.
  const PsfMatch m = psf_matching_sigma(t_copy.data(), i_copy.data(), valid, w, h, 1e-6 * (tmax + 1.0), pix_sigma, stamps);
  PsfMatched out;
  out.sigma = m.ok ? m.sigma : 0.0;
  if (!m.ok || std::fabs(m.sigma) < 0.02) return out;
  if (m.sigma > 0) {
    out.truth = gaussian_blur_valid(t_copy.data(), valid, w, h, m.sigma);
  } else {
    out.image = gaussian_blur_valid(i_copy.data(), valid, w, h, -m.sigma);
  }
  for (std::size_t k = 0; k < valid.size(); ++k)
    if (!valid[k]) (m.sigma > 0 ? out.truth : out.image)[k] = std::numeric_limits<float>::quiet_NaN();
  if (std::getenv("ZM_TEST_VERBOSE")) std::printf("  [psf match sigma %.3f on %d stamps]\n", m.sigma, m.stamps);
  return out;
}

// Gain of `image` against `truth` (same grid, plane `channel`) over the catalogue stars whose centre lies in
// keep(x, y) at least radius + 8 px inside the grid, with a finite disc and annulus, and whose flux (any channel)
// is at most max_flux (brighter ones may saturate in the raw frames). With match_psf, the truth (or the image,
// whichever is sharper) is first blurred to the other's PSF over the stars in keep (match_truth_psf): in a crowded
// field a PSF width difference moves neighbours' light across the disc edge differently in the two images, which
// read as a gain that drifts with the star's flux (measured on master tiles: ~1 % between faint and bright stars,
// tiles reading 1.5-2 % below their reference frame's transparency; matched: flat, and within 0.1-0.5 % of it).
// Per star: the sum over a disc of `radius` px minus the mean of an annulus radius + 2 .. radius + 6 px, in both
// images. The truth is noise-free, so the weighted least-squares slope through the origin,
// g = sum w F_t F_i / sum w F_t^2, is unbiased by the image's noise; w = 1 / (sigma_ap^2 + kappa g F_t +
// (floor g F_t)^2), kappa the stars' shot noise fitted to the residuals, floor = 0.5 %, 4-sigma clipped.
inline CatalogueGain catalogue_gain(const ImageF& image, const ImageF& truth, Wcs& grid,
                                    const std::vector<sim::Star>& stars, const std::function<bool(int, int)>& keep,
                                    int channel = 1, double radius = 9.0, double max_flux = 4e5,
                                    bool match_psf = true) {
  const int w = image.width, h = image.height, r_out = static_cast<int>(std::ceil(radius + 6));
  const float* I = image.plane(channel);
  const float* T = truth.plane(channel);
  std::vector<float> tmp(I, I + image.plane_size());
  const double pix_sigma = plane_noise_sigma(tmp.data(), w, h);
  // The image's PSF (seeing, registration, resampling) differs from the truth's; in a crowded field the aperture
  // then reads neighbours' wings differently in each, a bias that grows as the star gets fainter. Match first.
  std::vector<float> matched_i, matched_t;
  if (match_psf) {
    const PsfMatched m = match_truth_psf(image, truth, grid, stars, channel, pix_sigma, keep);
    if (!m.truth.empty()) matched_t = m.truth, T = matched_t.data();
    if (!m.image.empty()) matched_i = m.image, I = matched_i.data();
  }
  struct S { double fi, ft, var; };
  std::vector<S> s;
  std::vector<double> ai, at;
  // Stars brighter than max_flux saturate in the frames: neither they nor the stars in their halo measure a gain.
  std::vector<PixelCoord> saturated;
  for (const auto& st : stars)
    if (std::max({st.flux[0], st.flux[1], st.flux[2]}) > max_flux)
      if (const auto p = grid.world_to_pixel(st.pos)) saturated.push_back(*p);
  for (const auto& st : stars) {
    if (std::max({st.flux[0], st.flux[1], st.flux[2]}) > max_flux) continue;
    const auto p = grid.world_to_pixel(st.pos);
    if (!p) continue;
    const int cx = static_cast<int>(std::lround(p->x)), cy = static_cast<int>(std::lround(p->y));
    if (cx < r_out + 2 || cy < r_out + 2 || cx >= w - r_out - 2 || cy >= h - r_out - 2 || !keep(cx, cy)) continue;
    bool in_halo = false;
    for (const auto& q : saturated) in_halo = in_halo || std::hypot(q.x - p->x, q.y - p->y) < 3.0 * r_out;
    if (in_halo) continue;
    double si = 0, sti = 0;
    int n = 0;
    bool bad = false;
    ai.clear(), at.clear();
    for (int dy = -r_out; dy <= r_out && !bad; ++dy)
      for (int dx = -r_out; dx <= r_out; ++dx) {
        const double d = std::hypot(cx + dx - p->x, cy + dy - p->y);
        const std::size_t k = static_cast<std::size_t>(cy + dy) * w + cx + dx;
        const bool in_disc = d <= radius, in_ring = d >= radius + 2 && d <= radius + 6;
        if (!in_disc && !in_ring) continue;
        if (!std::isfinite(I[k]) || !std::isfinite(T[k])) { bad = true; break; }
        if (in_disc) si += I[k], sti += T[k], ++n;
        else ai.push_back(I[k]), at.push_back(T[k]);
      }
    if (bad || ai.size() < 20) continue;
    // Means, not medians: the image's annulus is the truth's (wings, faint neighbours: a skewed distribution)
    // plus noise, and the median of a skewed distribution shifts with the noise added to it (measured: a few ADU
    // per pixel, an aperture deficit that pulled faint stars' ratios down by tens of percent). The mean is linear.
    auto mean = [](const std::vector<double>& v) {
      double t = 0;
      for (double x : v) t += x;
      return t / static_cast<double>(v.size());
    };
    const double bi = mean(ai), bt = mean(at);
    const double var = pix_sigma * pix_sigma * n * (1.0 + n / static_cast<double>(ai.size()));
    s.push_back({si - n * bi, sti - n * bt, var});
  }
  CatalogueGain out;
  if (s.size() < 10) return out;
  constexpr double kFloor = 0.005;
  // Per star: the pixel noise of the disc and annulus, the star's own shot noise kappa * g * F_t (kappa fitted to
  // the kept residuals by moments: the raw frames have few electrons per ADU, so a bright star's flux scatters far
  // more than the sky noise says) and a 0.5 % floor (residual PSF and interpolation differences).
  std::vector<std::uint8_t> keep_s(s.size(), 1);
  double g = 1.0, kappa = 0.0;
  const auto variance = [&](const S& st) { return st.var + kappa * g * std::fabs(st.ft) + kFloor * kFloor * g * g * st.ft * st.ft; };
  for (int it = 0; it < 20; ++it) {
    double num = 0, den = 0, chi2 = 0;
    int n = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (!keep_s[k]) continue;
      const double wgt = 1.0 / variance(s[k]);
      num += wgt * s[k].ft * s[k].fi, den += wgt * s[k].ft * s[k].ft;
    }
    g = num / den;
    double excess = 0, per = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (!keep_s[k]) continue;
      const double r = s[k].fi - g * s[k].ft;
      excess += r * r - (s[k].var + kFloor * kFloor * g * g * s[k].ft * s[k].ft);
      per += g * std::fabs(s[k].ft);
    }
    kappa = per > 0 ? std::max(0.0, excess / per) : 0.0;
    for (std::size_t k = 0; k < s.size(); ++k) {
      const double z = (s[k].fi - g * s[k].ft) / std::sqrt(variance(s[k]));
      if (keep_s[k]) chi2 += z * z, ++n;
    }
    const double scale = std::sqrt(chi2 / std::max(1, n - 1));
    bool changed = false;
    for (std::size_t k = 0; k < s.size(); ++k) {
      const std::uint8_t next = std::fabs(s[k].fi - g * s[k].ft) / std::sqrt(variance(s[k])) <= 4.0 * std::max(1.0, scale);
      changed = changed || next != keep_s[k];
      keep_s[k] = next;
    }
    out.stars = n;
    out.scale = scale;
    out.sigma = std::sqrt(1.0 / den) * std::max(1.0, scale);
    if (!changed && it > 2) break;
  }
  out.gain = out.stars >= 10 ? g : 0.0;
  return out;
}

// Gain of `mosaic` against `truth` (green plane) over the pixels where keep(x, y): the ratio of background-subtracted
// source fluxes. A pixel-wise regression would read each region's PSF width (seeing, resampling) as a gain change,
// which is not what photometric harmonisation is asked to remove. 0 when too few sources.
inline double flux_gain(const ImageF& mosaic, const ImageF& truth, const std::function<bool(int, int)>& keep) {
  const int w = mosaic.width, h = mosaic.height;
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(w) * h, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float m = mosaic.at(1, y, x), t = truth.at(1, y, x);
      valid[static_cast<std::size_t>(y) * w + x] = keep(x, y) && std::isfinite(m) && std::isfinite(t);
    }
  // Non-finite pixels are outside `valid`; flux_ratio reads every pixel of the planes, so give it finite ones.
  std::vector<float> m(mosaic.plane(1), mosaic.plane(1) + mosaic.plane_size());
  std::vector<float> t(truth.plane(1), truth.plane(1) + truth.plane_size());
  for (std::size_t i = 0; i < m.size(); ++i)
    if (!valid[i]) m[i] = NAN;
  const double sm = plane_noise_sigma(m.data(), w, h);  // over the region only
  for (std::size_t i = 0; i < m.size(); ++i)
    if (!valid[i]) m[i] = t[i] = 0.0f;
  PlaneSet pt{{t.data()}, {std::max(1e-3, 1e-3 * sm)}}, pm{{m.data()}, {std::max(sm, 1e-3)}};
  FluxRatioOptions o;
  o.min_sources = 20;
  const auto r = flux_ratio(pt, pm, valid, w, h, o);
  if (std::getenv("ZM_TEST_VERBOSE") && !r.empty())
    std::printf("flux_gain: a %.5f +- %.5f, %d sources, %d rejected, b %.2f\n", r[0].a, r[0].a * r[0].a_rel_sigma,
                r[0].sources, r[0].rejected, r[0].b);
  return r.empty() || !r[0].ok ? 0.0 : r[0].a;
}

// Gain of `mosaic` against `truth` (green) over keep(x, y), pixel-wise but with the truth first blurred (Gaussian,
// sigma searched) to the region's PSF: the least-squares gain at the blur that fits best. The truth is noise-free,
// so with it as the regressor the slope is unbiased by the mosaic's noise, and the blur match removes the bias a
// PSF wider than the truth's puts on a plain pixel fit. 0 when the region is too small.
inline double matched_gain(const ImageF& mosaic, const ImageF& truth, const std::function<bool(int, int)>& keep,
                           double* best_sigma = nullptr) {
  const int w = mosaic.width, h = mosaic.height;
  std::vector<std::uint8_t> use(static_cast<std::size_t>(w) * h, 0);
  for (int y = 4; y < h - 4; ++y)
    for (int x = 4; x < w - 4; ++x) use[static_cast<std::size_t>(y) * w + x] = keep(x, y);
  const float* t0 = truth.plane(1);
  const float* m = mosaic.plane(1);
  auto blurred = [&](double sigma) {
    std::vector<float> out(t0, t0 + static_cast<std::size_t>(w) * h);
    if (sigma <= 0) return out;
    const int r = static_cast<int>(std::ceil(3.5 * sigma));
    std::vector<double> k(2 * r + 1);
    double sum = 0;
    for (int i = -r; i <= r; ++i) sum += k[i + r] = std::exp(-0.5 * i * i / (sigma * sigma));
    for (auto& v : k) v /= sum;
    std::vector<float> tmp(out.size());
    for (int pass = 0; pass < 2; ++pass) {
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          double acc = 0, wsum = 0;
          for (int i = -r; i <= r; ++i) {
            const int xx = pass == 0 ? x + i : x, yy = pass == 0 ? y : y + i;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            const float v = out[static_cast<std::size_t>(yy) * w + xx];
            if (!std::isfinite(v)) continue;
            acc += k[i + r] * v;
            wsum += k[i + r];
          }
          tmp[static_cast<std::size_t>(y) * w + x] = wsum > 0 ? static_cast<float>(acc / wsum) : NAN;
        }
      out.swap(tmp);
    }
    return out;
  };
  auto fit = [&](const std::vector<float>& t, double* rss) {
    double sxx = 0, sxy = 0, sx = 0, sy = 0, syy = 0;
    long long n = 0;
    for (std::size_t i = 0; i < use.size(); ++i) {
      if (!use[i] || !std::isfinite(t[i]) || !std::isfinite(m[i])) continue;
      sxx += double(t[i]) * t[i]; sxy += double(t[i]) * m[i]; sx += t[i]; sy += m[i]; syy += double(m[i]) * m[i]; ++n;
    }
    if (n < 1000) return 0.0;
    const double vx = sxx - sx * sx / n, cxy = sxy - sx * sy / n, vy = syy - sy * sy / n;
    *rss = vy - cxy * cxy / vx;
    return cxy / vx;
  };
  double best_rss = 1e300, best_g = 0, best_s = 0;
  for (double step : {0.25, 0.0625, 0.015625}) {  // coarse to fine around the best blur so far
    const double lo = std::max(0.0, best_s - 4 * step), hi = best_rss < 1e300 ? best_s + 4 * step : 2.5;
    for (double sigma = lo; sigma <= hi + 1e-9; sigma += step) {
      double rss = 0;
      const double g = fit(blurred(sigma), &rss);
      if (g > 0 && rss < best_rss) { best_rss = rss; best_g = g; best_s = sigma; }
    }
  }
  if (best_sigma) *best_sigma = best_s;
  return best_g;
}

// max / min - 1 over the non-zero gains (0 when fewer than two).
inline double gain_spread(const std::vector<double>& gains) {
  std::vector<double> g;
  for (double v : gains)
    if (v > 0) g.push_back(v);
  if (g.size() < 2) return 0.0;
  const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
  return *hi / *lo - 1.0;
}

// Median of the green plane's finite pixels over a side x side box at (x0, y0): a sky level that stars barely move.
inline double box_median(const ImageF& img, int x0, int y0, int side) {
  std::vector<float> v;
  for (int y = y0; y < y0 + side; ++y)
    for (int x = x0; x < x0 + side; ++x)
      if (std::isfinite(img.at(1, y, x))) v.push_back(img.at(1, y, x));
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace zm::test
