// flux_ratio: detection, apertures, local backgrounds, clipped flux-ratio mean, sky offset.
#include "photometry/flux_ratio.hpp"

#include "photometry/psf_match.hpp"
#include "photometry/robust_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace zm {
namespace {

constexpr double kMadToSigma = 1.4826;
constexpr int kMeshBlock = 16;     // px: detection ignores structure larger than this
constexpr int kFluxMeshBlock = 32;  // px: background under the sources (more sky pixels per median)
constexpr double kFwhmToSigma = 2.3548;
constexpr double kMinPsfMismatch = 0.05;  // px of Gaussian sigma below which no matching is done
constexpr double kFwhmPeakSigmas = 20.0;  // sources bright enough for a half-maximum area
constexpr double kMinDiscRadius = 3.0;  // px
constexpr double kMedianVarFactor = std::numbers::pi / 2.0;  // var(median) = (pi/2) sigma^2 / n, Gaussian


// Square dilation of radius g, separable (rows then columns), ignoring validity.
std::vector<std::uint8_t> dilate(const std::vector<std::uint8_t>& in, int w, int h, int g) {
  std::vector<std::uint8_t> tmp(in.size(), 0), out(in.size(), 0);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* r = in.data() + static_cast<std::size_t>(y) * w;
    std::uint8_t* t = tmp.data() + static_cast<std::size_t>(y) * w;
    for (int x = 0; x < w; ++x)
      if (r[x])
        for (int d = std::max(0, x - g); d <= std::min(w - 1, x + g); ++d) t[d] = 1;
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (tmp[static_cast<std::size_t>(y) * w + x])
        for (int d = std::max(0, y - g); d <= std::min(h - 1, y + g); ++d) out[static_cast<std::size_t>(d) * w + x] = 1;
  return out;
}

struct Sources {
  std::vector<int> label;  // per pixel: source index of its aperture or ring, -1 = none
  std::vector<std::uint8_t> in_aperture;
  int count = 0;
  std::vector<std::uint8_t> truncated;
};

// 8-connected components of `mask` in scan order (deterministic labels).
void label_components(const std::vector<std::uint8_t>& mask, int w, int h, Sources& s) {
  s.label.assign(mask.size(), -1);
  std::vector<std::size_t> stack;
  for (std::size_t k0 = 0; k0 < mask.size(); ++k0) {
    if (!mask[k0] || s.label[k0] >= 0) continue;
    const int id = s.count++;
    s.label[k0] = id;
    stack.assign(1, k0);
    while (!stack.empty()) {
      const std::size_t k = stack.back();
      stack.pop_back();
      const int x = static_cast<int>(k % w), y = static_cast<int>(k / w);
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const std::size_t n = static_cast<std::size_t>(ny) * w + nx;
          if (mask[n] && s.label[n] < 0) s.label[n] = id, stack.push_back(n);
        }
    }
  }
}

// Breadth-first growth of the labels by `steps` 8-connected steps into unlabelled pixels that `passable`
// allows (all when empty), from every labelled pixel in scan order: each pixel joins the first label to reach it.
void grow_labels(const std::vector<std::uint8_t>& passable, int w, int h, int steps, std::vector<int>& label) {
  std::vector<std::size_t> queue;
  std::vector<int> dist(label.size(), 0);
  for (std::size_t k = 0; k < label.size(); ++k)
    if (label[k] >= 0) queue.push_back(k);
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const std::size_t k = queue[q];
    if (dist[k] >= steps) continue;
    const int x = static_cast<int>(k % w), y = static_cast<int>(k / w);
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx) {
        const int nx = x + dx, ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const std::size_t n = static_cast<std::size_t>(ny) * w + nx;
        if ((!passable.empty() && !passable[n]) || label[n] >= 0) continue;
        label[n] = label[k];
        dist[n] = dist[k] + 1;
        queue.push_back(n);
      }
  }
}

// Pixel indices per source, split into aperture and ring (counting sort by label, scan order inside).
struct SourcePixels {
  std::vector<std::size_t> ap_start, ap, ring_start, ring;
};

SourcePixels gather(const Sources& s) {
  SourcePixels p;
  p.ap_start.assign(s.count + 1, 0);
  p.ring_start.assign(s.count + 1, 0);
  for (std::size_t k = 0; k < s.label.size(); ++k)
    if (s.label[k] >= 0) ++(s.in_aperture[k] ? p.ap_start : p.ring_start)[s.label[k] + 1];
  for (int i = 0; i < s.count; ++i) p.ap_start[i + 1] += p.ap_start[i], p.ring_start[i + 1] += p.ring_start[i];
  p.ap.resize(p.ap_start.back());
  p.ring.resize(p.ring_start.back());
  std::vector<std::size_t> ai(p.ap_start.begin(), p.ap_start.end() - 1), ri(p.ring_start.begin(), p.ring_start.end() - 1);
  for (std::size_t k = 0; k < s.label.size(); ++k) {
    const int l = s.label[k];
    if (l < 0) continue;
    if (s.in_aperture[k]) p.ap[ai[l]++] = k;
    else p.ring[ri[l]++] = k;
  }
  return p;
}

struct Measure {
  double fx = 0, fy = 0, vx = 0, vy = 0;
};

// Block medians (block x block) of the valid values of `v`, bilinearly interpolated between block centres:
// the large-scale part (sky gradient, nebulosity) that detection must ignore. Blocks with too few valid
// values take the mean of their valid neighbours, or the global median.
std::vector<float> mesh_background(const std::vector<float>& v, const std::vector<std::uint8_t>& valid, int w, int h,
                                   int block) {
  const int nbx = (w + block - 1) / block, nby = (h + block - 1) / block;
  std::vector<double> mesh(static_cast<std::size_t>(nbx) * nby, 0.0), tmp, all;
  std::vector<std::uint8_t> have(mesh.size(), 0);
  for (int by = 0; by < nby; ++by)
    for (int bx = 0; bx < nbx; ++bx) {
      tmp.clear();
      for (int y = by * block; y < std::min(h, (by + 1) * block); ++y)
        for (int x = bx * block; x < std::min(w, (bx + 1) * block); ++x) {
          const std::size_t k = static_cast<std::size_t>(y) * w + x;
          if (valid[k]) tmp.push_back(v[k]);
        }
      if (static_cast<int>(tmp.size()) * 4 < block * block) continue;
      const std::size_t m = static_cast<std::size_t>(by) * nbx + bx;
      mesh[m] = median_in_place(tmp), have[m] = 1;
      all.push_back(mesh[m]);
    }
  const double global = median_in_place(all);
  std::vector<double> filled = mesh;
  for (int by = 0; by < nby; ++by)
    for (int bx = 0; bx < nbx; ++bx) {
      const std::size_t m = static_cast<std::size_t>(by) * nbx + bx;
      if (have[m]) continue;
      double sum = 0;
      int cnt = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = bx + dx, ny = by + dy;
          if (nx < 0 || ny < 0 || nx >= nbx || ny >= nby) continue;
          const std::size_t n = static_cast<std::size_t>(ny) * nbx + nx;
          if (have[n]) sum += mesh[n], ++cnt;
        }
      filled[m] = cnt > 0 ? sum / cnt : global;
    }
  std::vector<float> out(v.size(), 0.0f);
  for (int y = 0; y < h; ++y) {
    const double fy = std::clamp((y + 0.5) / block - 0.5, 0.0, nby - 1.0);
    const int y0 = std::min(static_cast<int>(fy), nby - 1), y1 = std::min(y0 + 1, nby - 1);
    const double ty = fy - y0;
    for (int x = 0; x < w; ++x) {
      const double fx = std::clamp((x + 0.5) / block - 0.5, 0.0, nbx - 1.0);
      const int x0 = std::min(static_cast<int>(fx), nbx - 1), x1 = std::min(x0 + 1, nbx - 1);
      const double tx = fx - x0;
      const auto at = [&](int xx, int yy) { return filled[static_cast<std::size_t>(yy) * nbx + xx]; };
      out[static_cast<std::size_t>(y) * w + x] = static_cast<float>(
          (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x1, y0)) + ty * ((1 - tx) * at(x0, y1) + tx * at(x1, y1)));
    }
  }
  return out;
}

// Sources = 8-connected components of the cores; apertures = the cores grown by `grow` px, each pixel going to
// the nearest core (so crowded sources share out the pixels between them instead of merging into blobs that
// always reach an edge; both images use the same partition). A source is dropped (truncated) when one of its
// core pixels lies within `edge_grow` px of an invalid pixel or the grid edge: its flux would be cut by the
// overlap boundary, where the two PSFs differ. Aperture pixels outside the valid area are not summed. Rings (for
// the FWHM pass) grow `ring_width` px further through valid pixels.
Sources build_sources(const std::vector<std::uint8_t>& core, const std::vector<std::uint8_t>& valid, int w, int h,
                      int grow, int edge_grow, int ring_width) {
  Sources src;
  label_components(core, w, h, src);
  grow_labels({}, w, h, grow, src.label);
  src.in_aperture.assign(valid.size(), 0);
  for (std::size_t k = 0; k < valid.size(); ++k) src.in_aperture[k] = src.label[k] >= 0 ? 1 : 0;
  src.truncated.assign(src.count, 0);
  std::vector<std::uint8_t> edge(valid.size(), 0);
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t k = static_cast<std::size_t>(yy) * w + xx;
      edge[k] = !valid[k] || xx == 0 || yy == 0 || xx == w - 1 || yy == h - 1;
    }
  edge = dilate(edge, w, h, edge_grow);
  for (std::size_t k = 0; k < valid.size(); ++k)
    if (core[k] && edge[k]) src.truncated[src.label[k]] = 1;
  grow_labels(valid, w, h, ring_width, src.label);
  return src;
}

// Median FWHM (px) of the bright sources of one image, from the area above half their peak (channels summed,
// local background removed); 0 when fewer than 3 qualify.
double image_fwhm(const PlaneSet& img, const Sources& src, const SourcePixels& px) {
  const int C = static_cast<int>(img.planes.size());
  double var = 0;
  for (double s : img.sigma) var += s * s;
  const double pixel_sigma = std::sqrt(var);
  const auto value = [&](std::size_t k) {
    double v = 0;
    for (int c = 0; c < C; ++c) v += img.planes[c][k];
    return v;
  };
  std::vector<double> ring, fwhms;
  for (int s = 0; s < src.count; ++s) {
    if (src.truncated[s] || px.ring_start[s + 1] - px.ring_start[s] < 8) continue;
    ring.clear();
    for (std::size_t q = px.ring_start[s]; q < px.ring_start[s + 1]; ++q) ring.push_back(value(px.ring[q]));
    const double bg = median_in_place(ring);
    double peak = 0;
    for (std::size_t q = px.ap_start[s]; q < px.ap_start[s + 1]; ++q) peak = std::max(peak, value(px.ap[q]) - bg);
    if (peak < kFwhmPeakSigmas * pixel_sigma) continue;
    int above = 0;
    for (std::size_t q = px.ap_start[s]; q < px.ap_start[s + 1]; ++q) above += value(px.ap[q]) - bg > 0.5 * peak ? 1 : 0;
    fwhms.push_back(2.0 * std::sqrt(above / std::numbers::pi));
  }
  if (fwhms.size() < 3) return 0.0;
  return median_in_place(fwhms);
}

// Channel sums of one image (the PSF is matched once for all channels) and their per-pixel noise.
std::vector<float> channel_sum(const PlaneSet& img, std::size_t n, double& noise) {
  std::vector<float> sum(n, 0.0f);
  double var = 0;
  for (std::size_t c = 0; c < img.planes.size(); ++c) {
    for (std::size_t k = 0; k < n; ++k) sum[k] += img.planes[c][k];
    var += img.sigma[c] * img.sigma[c];
  }
  noise = std::sqrt(var);
  return sum;
}

// The sources bright enough in both images for PSF matching: whole (not truncated), with a background ring, and a
// peak above kFwhmPeakSigmas of the channel sum's noise in each.
std::vector<MatchStamp> bright_stamps(const std::vector<float>& sx, double nx, const std::vector<float>& sy, double ny,
                                      const Sources& src, const SourcePixels& px) {
  std::vector<MatchStamp> out;
  std::vector<double> rx, ry;
  for (int s = 0; s < src.count; ++s) {
    if (src.truncated[s] || px.ring_start[s + 1] - px.ring_start[s] < 8) continue;
    rx.clear(), ry.clear();
    for (std::size_t q = px.ring_start[s]; q < px.ring_start[s + 1]; ++q)
      rx.push_back(sx[px.ring[q]]), ry.push_back(sy[px.ring[q]]);
    const double bx = median_in_place(rx), by = median_in_place(ry);
    double peak_x = 0, peak_y = 0;
    for (std::size_t q = px.ap_start[s]; q < px.ap_start[s + 1]; ++q)
      peak_x = std::max(peak_x, sx[px.ap[q]] - bx), peak_y = std::max(peak_y, sy[px.ap[q]] - by);
    if (peak_x < kFwhmPeakSigmas * nx || peak_y < kFwhmPeakSigmas * ny) continue;
    const auto ap0 = px.ap.begin(), ring0 = px.ring.begin();
    MatchStamp m;
    m.aperture.assign(ap0 + static_cast<std::ptrdiff_t>(px.ap_start[s]), ap0 + static_cast<std::ptrdiff_t>(px.ap_start[s + 1]));
    m.ring.assign(ring0 + static_cast<std::ptrdiff_t>(px.ring_start[s]), ring0 + static_cast<std::ptrdiff_t>(px.ring_start[s + 1]));
    out.push_back(std::move(m));
  }
  return out;
}

// Blurs the sharper image's planes to the other's PSF (psf_match.hpp); returns the fitted sigma (0 = none). The
// blurred planes live in `store`; noise_x / noise_y get the per-pixel noise factor the blur leaves.
double match_psfs(const PlaneSet& x, const PlaneSet& y, const std::vector<std::uint8_t>& valid, int w, int h,
                  const Sources& src, const SourcePixels& px, PlaneSet& xm, PlaneSet& ym,
                  std::vector<std::vector<float>>& store, double& noise_x, double& noise_y) {
  double nx = 0, ny = 0;
  const std::vector<float> sx = channel_sum(x, valid.size(), nx), sy = channel_sum(y, valid.size(), ny);
  const PsfMatch m = psf_matching_sigma(sx.data(), sy.data(), valid, w, h, nx, ny, bright_stamps(sx, nx, sy, ny, src, px));
  if (!m.ok || std::fabs(m.sigma) <= kMinPsfMismatch) return 0.0;
  PlaneSet& sharp = m.sigma > 0 ? xm : ym;
  (m.sigma > 0 ? noise_x : noise_y) = blur_noise_factor(std::fabs(m.sigma));
  store.resize(sharp.planes.size());
  for (std::size_t c = 0; c < sharp.planes.size(); ++c) {
    store[c] = gaussian_blur_valid(sharp.planes[c], valid, w, h, std::fabs(m.sigma));
    sharp.planes[c] = store[c].data();
  }
  return m.sigma;
}

// Cores from the smoothed, noise-normalised detection map; false when the map has no spread.
bool detect_cores(const PlaneSet& x, const PlaneSet& y, const std::vector<std::uint8_t>& valid, int w, int h,
                  double detect_sigma, std::vector<std::uint8_t>& core) {
  const std::size_t n = valid.size();
  const int C = static_cast<int>(x.planes.size());
  std::vector<float> z(n, 0.0f);
  std::vector<double> tmp;
  for (int c = 0; c < C; ++c)
    for (const PlaneSet* img : {&x, &y}) {
      const float* p = img->planes[c];
      tmp.clear();
      for (std::size_t k = 0; k < n; ++k)
        if (valid[k]) tmp.push_back(p[k]);
      const double med = median_in_place(tmp), inv = 1.0 / img->sigma[c];
      for (std::size_t k = 0; k < n; ++k)
        if (valid[k]) z[k] += static_cast<float>((p[k] - med) * inv);
    }
  std::vector<float> s(n, 0.0f);
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) {
      const std::size_t k = static_cast<std::size_t>(yy) * w + xx;
      if (!valid[k]) continue;
      double sum = 0;
      int cnt = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = xx + dx, ny = yy + dy;
          if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
          const std::size_t m = static_cast<std::size_t>(ny) * w + nx;
          if (valid[m]) sum += z[m], ++cnt;
        }
      s[k] = static_cast<float>(sum / cnt);
    }
  const std::vector<float> bg = mesh_background(s, valid, w, h, kMeshBlock);
  for (std::size_t k = 0; k < n; ++k)
    if (valid[k]) s[k] -= bg[k];
  tmp.clear();
  for (std::size_t k = 0; k < n; ++k)
    if (valid[k]) tmp.push_back(s[k]);
  const double med = median_in_place(tmp);
  for (double& v : tmp) v = std::fabs(v - med);
  const double sigma = kMadToSigma * median_in_place(tmp);
  if (!(sigma > 0)) return false;
  core.assign(n, 0);
  const double thr = med + detect_sigma * sigma;
  for (std::size_t k = 0; k < n; ++k) core[k] = valid[k] && s[k] > thr ? 1 : 0;
  return true;
}

// Clipped inverse-variance mean of the flux ratios; fills a, a_rel_sigma, sources, rejected.
void solve_ratio(const std::vector<Measure>& m, const FluxRatioOptions& o, ChannelFluxRatio& out) {
  std::vector<double> r;
  for (const Measure& s : m) r.push_back(s.fy / s.fx);
  if (static_cast<int>(m.size()) < std::max(1, o.min_sources)) return;
  std::vector<double> tmp = r;
  double a = median_in_place(tmp);
  std::vector<std::uint8_t> keep(m.size(), 1), next(m.size());
  std::vector<double> z(m.size()), v(m.size());
  double sum_inv = 0, chi2 = 0;
  int kept = 0;
  for (int it = 0; it < 30; ++it) {
    for (std::size_t s = 0; s < m.size(); ++s) {
      const double fh = 0.5 * (m[s].fx + m[s].fy / a);
      v[s] = (m[s].vx + m[s].vy / (a * a)) / (fh * fh) + o.systematic * o.systematic;
      z[s] = (r[s] / a - 1.0) / std::sqrt(v[s]);
    }
    tmp.clear();
    for (std::size_t s = 0; s < m.size(); ++s)
      if (keep[s]) tmp.push_back(std::fabs(z[s]));
    const double scale = std::max(1.0, kMadToSigma * median_in_place(tmp));
    int n_next = 0;
    for (std::size_t s = 0; s < m.size(); ++s) n_next += next[s] = std::fabs(z[s]) <= o.clip_sigma * scale ? 1 : 0;
    if (n_next < o.min_sources) break;
    const bool same = next == keep;
    keep = next;
    double num = 0, den = 0;
    sum_inv = chi2 = 0;
    kept = n_next;
    for (std::size_t s = 0; s < m.size(); ++s) {
      if (!keep[s]) continue;
      const double fh = 0.5 * (m[s].fx + m[s].fy / a);
      const double wgt = 1.0 / (v[s] * fh);
      num += wgt * m[s].fy, den += wgt * m[s].fx;
      sum_inv += 1.0 / v[s];
      chi2 += z[s] * z[s];
    }
    const double a_new = num / den;
    const bool settled = std::fabs(a_new / a - 1.0) < 1e-9;
    a = a_new;
    if (same && settled) break;
  }
  if (kept < o.min_sources || !(a > 0) || !std::isfinite(a)) return;
  out.a = a;
  out.sources = kept;
  out.rejected = static_cast<int>(m.size()) - kept;
  out.a_rel_sigma = std::sqrt(1.0 / sum_inv) * std::max(1.0, std::sqrt(chi2 / std::max(1, kept - 1)));
  out.ok = true;
}

// Peak pixel of each whole (not truncated) source, in the noise-normalised channel sums of both images: the disc
// centre. Its exact position does not matter for the ratio, as both images are summed over the same disc.
std::vector<std::size_t> source_peaks(const PlaneSet& x, const PlaneSet& y, const Sources& src,
                                      const std::vector<std::uint8_t>& core, std::size_t n) {
  std::vector<std::size_t> peak(src.count, n);
  std::vector<double> best(src.count, -std::numeric_limits<double>::infinity());
  for (std::size_t k = 0; k < n; ++k) {
    const int s = core[k] ? src.label[k] : -1;
    if (s < 0 || src.truncated[s]) continue;
    double v = 0;
    for (std::size_t c = 0; c < x.planes.size(); ++c) v += x.planes[c][k] / x.sigma[c] + y.planes[c][k] / y.sigma[c];
    if (v > best[s]) best[s] = v, peak[s] = k;
  }
  return peak;
}

// Fixed-disc photometry: the sum over a disc of `radius` px minus its area times the mean of an annulus
// radius + 2 .. radius + 5 px, the same pixels in both images. Sources whose disc or annulus meets an invalid
// pixel or the grid edge are left out.
std::vector<Measure> disc_measures(const float* X, const float* Y, const std::vector<std::uint8_t>& valid, int w,
                                   int h, const std::vector<std::size_t>& peaks, double radius, double sx2,
                                   double sy2) {
  const int r_out = static_cast<int>(std::ceil(radius + 5));
  std::vector<Measure> out;
  for (std::size_t k0 : peaks) {
    if (k0 >= valid.size()) continue;
    const int cx = static_cast<int>(k0 % w), cy = static_cast<int>(k0 / w);
    if (cx < r_out || cy < r_out || cx >= w - r_out || cy >= h - r_out) continue;
    double sx = 0, sy = 0, ax = 0, ay = 0;
    int n = 0, na = 0;
    bool whole = true;
    for (int dy = -r_out; dy <= r_out && whole; ++dy)
      for (int dx = -r_out; dx <= r_out; ++dx) {
        const double d = std::hypot(dx, dy);
        const bool disc = d <= radius, ring = d >= radius + 2 && d <= radius + 5;
        if (!disc && !ring) continue;
        const std::size_t k = static_cast<std::size_t>(cy + dy) * w + cx + dx;
        if (!valid[k]) {
          whole = false;
          break;
        }
        if (disc) sx += X[k], sy += Y[k], ++n;
        else ax += X[k], ay += Y[k], ++na;
      }
    if (!whole || na < 8) continue;
    Measure m;
    m.fx = sx - n * ax / na, m.fy = sy - n * ay / na;
    m.vx = n * sx2 * (1.0 + static_cast<double>(n) / na);
    m.vy = n * sy2 * (1.0 + static_cast<double>(n) / na);
    out.push_back(m);
  }
  return out;
}

// Grown-core apertures over the block-median background (disc_fwhms = 0).
std::vector<Measure> core_measures(const float* X, const float* Y, const std::vector<std::uint8_t>& valid, int w,
                                   int h, const Sources& src, const SourcePixels& px, double sx2, double sy2) {
  std::vector<std::uint8_t> sky(valid.size());
  long long n_sky = 0;
  for (std::size_t k = 0; k < valid.size(); ++k) n_sky += sky[k] = valid[k] && !src.in_aperture[k] ? 1 : 0;
  const double bg_samples = std::max(1.0, static_cast<double>(kFluxMeshBlock) * kFluxMeshBlock * n_sky / valid.size());
  std::vector<float> plane(X, X + valid.size());
  const std::vector<float> bx = mesh_background(plane, sky, w, h, kFluxMeshBlock);
  plane.assign(Y, Y + valid.size());
  const std::vector<float> by = mesh_background(plane, sky, w, h, kFluxMeshBlock);
  std::vector<Measure> out;
  for (int s = 0; s < src.count; ++s) {
    if (src.truncated[s]) continue;
    Measure me;
    double nn = 0;
    for (std::size_t q = px.ap_start[s]; q < px.ap_start[s + 1]; ++q) {
      const std::size_t k = px.ap[q];
      if (!valid[k]) continue;
      me.fx += X[k] - bx[k], me.fy += Y[k] - by[k], nn += 1;
    }
    me.vx = nn * sx2 + nn * nn * kMedianVarFactor * sx2 / bg_samples;
    me.vy = nn * sy2 + nn * nn * kMedianVarFactor * sy2 / bg_samples;
    out.push_back(me);
  }
  return out;
}

}  // namespace

double plane_noise_sigma(const float* p, int w, int h) {
  const int row_step = std::max(1, static_cast<int>(static_cast<long long>(w) * h / 200000));
  std::vector<double> d;
  for (int y = 0; y < h; y += row_step)
    for (int x = 0; x + 2 < w; ++x) {
      const float a = p[static_cast<std::size_t>(y) * w + x], b = p[static_cast<std::size_t>(y) * w + x + 2];
      if (std::isfinite(a) && std::isfinite(b)) d.push_back(a - b);
    }
  if (d.size() < 16) return 0.0;
  std::vector<double> tmp = d;
  const double med = median_in_place(tmp);
  for (double& v : d) v = std::fabs(v - med);
  return kMadToSigma * median_in_place(d) / std::numbers::sqrt2;
}

std::vector<ChannelFluxRatio> flux_ratio(const PlaneSet& x, const PlaneSet& y, std::span<const std::uint8_t> valid_in,
                                         int w, int h, const FluxRatioOptions& o) {
  const int C = static_cast<int>(x.planes.size());
  if (C < 1 || y.planes.size() != x.planes.size() || x.sigma.size() != x.planes.size() ||
      y.sigma.size() != y.planes.size() || valid_in.size() != static_cast<std::size_t>(w) * h)
    throw std::invalid_argument("flux_ratio: plane sets and mask disagree");
  std::vector<ChannelFluxRatio> out(C);
  for (int c = 0; c < C; ++c)
    if (!(x.sigma[c] > 0) || !(y.sigma[c] > 0)) return out;
  const std::vector<std::uint8_t> valid(valid_in.begin(), valid_in.end());
  std::vector<std::uint8_t> core;
  if (!detect_cores(x, y, valid, w, h, o.detect_sigma, core)) return out;

  // PSF matching (psf_match.hpp): the sharper image is convolved with the Gaussian fitted on the bright sources'
  // stamps, so the flux an aperture misses and the wings its background sees are the same fraction in both
  // images. The half-maximum widths only size the apertures.
  const int base = std::max(0, o.aperture_grow);
  Sources src = build_sources(core, valid, w, h, base, base, std::max(1, o.ring_width));
  SourcePixels px = gather(src);
  const double fwhm_x = image_fwhm(x, src, px), fwhm_y = image_fwhm(y, src, px);
  std::vector<std::vector<float>> matched;
  PlaneSet xm = x, ym = y;
  double noise_x = 1.0, noise_y = 1.0;  // per-pixel noise left by the matching blur, relative
  if (o.psf_match) match_psfs(x, y, valid, w, h, src, px, xm, ym, matched, noise_x, noise_y);
  const double fwhm = std::max(fwhm_x, fwhm_y);
  const int grow = std::max(o.aperture_grow, static_cast<int>(std::ceil(o.aperture_psf_sigmas * fwhm / kFwhmToSigma)));
  if (grow > o.aperture_grow) {
    src = build_sources(core, valid, w, h, grow, base, std::max(1, o.ring_width));
    px = gather(src);
  }

  // Fluxes: fixed discs (disc_fwhms) or the grown-core apertures; both are sums over the same pixels in x and y.
  const std::vector<std::size_t> peaks = source_peaks(xm, ym, src, core, valid.size());
  const double disc_radius = std::max(kMinDiscRadius, o.disc_fwhms * fwhm);
  std::vector<double> rx, ry;
  for (int c = 0; c < C; ++c) {
    const float* X = xm.planes[c];
    const float* Y = ym.planes[c];
    const double sx2 = x.sigma[c] * x.sigma[c], sy2 = y.sigma[c] * y.sigma[c];
    std::vector<Measure> meas;
    const std::vector<Measure> all = o.disc_fwhms > 0 ? disc_measures(X, Y, valid, w, h, peaks, disc_radius, sx2, sy2)
                                                      : core_measures(X, Y, valid, w, h, src, px, sx2, sy2);
    for (const Measure& me : all)
      if (me.fx > o.min_snr * std::sqrt(me.vx) && me.fy > o.min_snr * std::sqrt(me.vy)) meas.push_back(me);
    ChannelFluxRatio& r = out[c];
    solve_ratio(meas, o, r);
    if (!r.ok) continue;
    rx.clear(), ry.clear();
    for (std::size_t k = 0; k < valid.size(); ++k)
      if (valid[k] && !src.in_aperture[k]) rx.push_back(Y[k] - r.a * X[k]), ry.push_back(X[k]);
    r.sky_pixels = static_cast<long long>(rx.size());
    if (r.sky_pixels < o.min_sky_pixels) {
      r.ok = false;
      continue;
    }
    r.b = median_in_place(rx);
    r.sky_x = median_in_place(ry);
    // The pixel-wise slope on the PSF-matched planes: blur no longer biases it, noise in x still attenuates it
    // by ~lambda, which the caller weighs it with.
    std::vector<float> px_x, px_y;
    for (std::size_t k = 0; k < valid.size(); ++k)
      if (valid[k]) px_x.push_back(X[k]), px_y.push_back(Y[k]);
    const LineFit lf = robust_line_fit(px_x, px_y, o.clip_sigma, o.min_sky_pixels);
    if (lf.ok && lf.a > 0) {
      r.pixel_a = lf.a;
      r.pixel_lambda = attenuation(px_x, x.sigma[c] * noise_x) + attenuation(px_y, y.sigma[c] * noise_y);
    }
  }
  return out;
}

}  // namespace zm
