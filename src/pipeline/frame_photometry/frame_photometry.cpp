#include "pipeline/frame_photometry/frame_photometry.hpp"

#include <tbb/parallel_for.h>

#include <optional>
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include <Eigen/Sparse>

#include "photometry/overlap_difference.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/frame_photometry/photometry_pairs.hpp"
#include "pipeline/model/raw_planes.hpp"
#include "photometry/offset_solve.hpp"
#include "photometry/tile_preview.hpp"
#include "stars/detect.hpp"
#include "wcs/geometry.hpp"
#include "sched/worker_arena.hpp"

namespace zm {

RoutePhotometry solve_route_photometry(const std::vector<CoaddFrame>& inputs, int max_side,
                                       const HarmonizeOptions& options, int workers) {
  RoutePhotometry p;
  p.corrections.resize(inputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) p.corrections[k].id = static_cast<int>(k);
  if (inputs.size() < 2) return p;
  std::vector<std::optional<TilePreview>> slots(inputs.size());
  std::vector<Wcs> wcs;  // private copies made serially: a Wcs is not shared between threads
  wcs.reserve(inputs.size());
  for (const auto& f : inputs) wcs.push_back(f.wcs);
  WorkerArena arena(workers);
  arena.run([&] {
    tbb::parallel_for(std::size_t{0}, inputs.size(), [&](std::size_t k) {
      const CoaddFrame& f = inputs[k];
      slots[k] = planes_preview(f.path, f.width, f.height, f.channels, wcs[k], static_cast<int>(k), max_side);
    });
  });
  std::vector<TilePreview> previews;
  previews.reserve(slots.size());
  for (auto& s : slots) previews.push_back(std::move(*s));
  const HarmonizeResult h = harmonize_tiles(previews, options);
  p.corrections = h.tiles;
  p.anchor = h.anchor;
  p.pairs = static_cast<int>(h.pairs.size());
  for (const auto& t : h.tiles) p.disconnected += t.connected ? 0 : 1;
  p.gains_applied = h.gains_applied;
  p.gains_not_significant = h.gains_not_significant;
  p.offsets_applied = h.offsets_applied;
  p.offsets_not_significant = h.offsets_not_significant;
  return p;
}

void apply_route_photometry(std::vector<CoaddFrame>& inputs, const RoutePhotometry& p,
                            const std::vector<std::array<float, 3>>& sigmas) {
  for (std::size_t k = 0; k < inputs.size(); ++k)
    for (int c = 0; c < 3; ++c) {
      const float g = static_cast<float>(p.corrections[k].gain[c]);
      inputs[k].gain[c] = g;
      inputs[k].offset[c] = static_cast<float>(p.corrections[k].offset[c]);
      const float s = k < sigmas.size() ? sigmas[k][c] : 0.0f;
      inputs[k].weight[c] = s > 0.0f ? 1.0f / ((g * s) * (g * s)) : 1.0f;
    }
}

}  // namespace zm

namespace zm {
namespace {

struct SkyStar {
  double ra = 0, dec = 0;  // degrees
  double flux = 0;
  double snr = 0;
};

struct FrameStars {
  std::array<std::vector<SkyStar>, 3> channel;
  SkyCoord centre;
  double radius_deg = 0;  // half diagonal
  double pixel_deg = 0;
  std::optional<TilePreview> preview;  // block means on the frame's WCS, for the overlap offsets
};

constexpr double kMinSnr = 20.0;
constexpr int kMaxStars = 300;
constexpr int kMinMatches = 3;
constexpr double kSaturationShare = 0.5;
constexpr int kFwhmStars = 60;
constexpr std::size_t kFwhmFrames = 32;
// Aperture radius in FWHMs of the widest sampled frame's PSF. 1.5 FWHM (3.5 sigma) leaves ~0.2 % of a Gaussian
// star outside, so a 10 % seeing difference between frames moves a ratio by ~0.25 %; 1.25 FWHM measured slightly
// better on the simulator (whose frames share one seeing) but would move it by ~1 %. Wider radii add sky noise
// and neighbours: per-frame gain error vs truth 0.37 % rms at 1.5 FWHM (~5 px here), 0.54 % at 7 px, 0.68 % at 8.
constexpr double kApertureFwhms = 1.5;
constexpr double kMinApertureRadius = 3.0;

// Median star FWHM of a frame's middle channel (a cheap first pass: a few bright stars suffice).
double frame_fwhm(const CoaddFrame& f) {
  const ImageF img = CachedFrameReader(f.path, f.width, f.height, f.channels, f.flat).read_all();
  std::vector<float> plane(img.plane(f.channels / 2), img.plane(f.channels / 2) + img.plane_size());
  for (auto& v : plane)
    if (!std::isfinite(v)) v = 0.0f;
  DetectParams dp;
  dp.max_stars = kFwhmStars;
  return photometry_fwhm(detect_stars(plane.data(), f.width, f.height, dp));
}

// Fluxes in one circular aperture of `radius` px for every star of every frame. A radius set per star from its
// own FWHM (the detector's default) scatters with that FWHM's noise and takes in more or less of the neighbours
// in a crowded field, differently in each frame. Stars whose aperture reaches the frame edge are
// dropped: the edge cuts their flux in one frame of a pair only (in the other the star lies well inside), which
// biased the ratios between pointings, whose overlaps lie along the frames' edges. Measured against the
// simulator's truth (test_routes' probe), per-frame gains went from 0.63 % rms off to 0.37 %.
// Flux in the disc of `radius` around (x, y) (pixels whose centres lie within it, as the detector sums) above the
// median of the annulus [radius + 2, radius + 6]. The detector subtracts its mesh background (64 px boxes,
// extrapolated beyond the outer box centres), which under a nebula is off by a few ADU near a frame's edge, and
// differently in two frames that see the same star at opposite edges: neighbouring pointings' ratios, which
// rest on stars along the frames' edges, were biased by up to 1 % (Mosaic-First on the validation matrix, seed
// 24: quadrant gains 1.3 % apart, 0.67 % with this sky). The annulus starts 4 px out to keep most of the star's
// wings (Moffat) out of it. NaN when the disc holds a NaN pixel or the annulus fewer than 16 valid ones.
double annulus_flux(const float* p, int w, int h, double x, double y, double radius, std::vector<float>& ring) {
  const double r_in = radius + 4.0, r_out = radius + 10.0;
  const int R = static_cast<int>(std::ceil(r_out));
  const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
  ring.clear();
  double sum = 0.0;
  int n = 0;
  for (int yy = std::max(0, cy - R); yy <= std::min(h - 1, cy + R); ++yy)
    for (int xx = std::max(0, cx - R); xx <= std::min(w - 1, cx + R); ++xx) {
      const double d2 = (xx - x) * (xx - x) + (yy - y) * (yy - y);
      const float v = p[static_cast<std::size_t>(yy) * w + xx];
      if (d2 <= radius * radius) {
        if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
        sum += v;
        ++n;
      } else if (d2 >= r_in * r_in && d2 <= r_out * r_out && std::isfinite(v)) {
        ring.push_back(v);
      }
    }
  if (ring.size() < 16 || n == 0) return std::numeric_limits<double>::quiet_NaN();
  auto mid = ring.begin() + static_cast<std::ptrdiff_t>(ring.size() / 2);
  std::nth_element(ring.begin(), mid, ring.end());
  return sum - n * static_cast<double>(*mid);
}

// Block means of `img` (max side <= max_side) on the scaled WCS; a block with a non-finite pixel is NaN.
TilePreview block_preview(const ImageF& img, const Wcs& wcs, int max_side) {
  const int f = std::max(1, (std::max(img.width, img.height) + max_side - 1) / std::max(1, max_side));
  const int pw = img.width / f, ph = img.height / f;
  TilePreview p{0, ImageF(img.channels, pw, ph, std::numeric_limits<float>::quiet_NaN()), scale_wcs(wcs, f, pw, ph), f, 1.0};
  for (int c = 0; c < img.channels; ++c)
    for (int Y = 0; Y < ph; ++Y)
      for (int X = 0; X < pw; ++X) {
        double sum = 0.0;
        bool ok = true;
        for (int dy = 0; dy < f && ok; ++dy) {
          const float* r = img.plane(c) + static_cast<std::size_t>(Y * f + dy) * img.width + X * f;
          for (int dx = 0; dx < f; ++dx) {
            if (!std::isfinite(r[dx])) {
              ok = false;
              break;
            }
            sum += r[dx];
          }
        }
        if (ok) p.image.at(c, Y, X) = static_cast<float>(sum / (static_cast<double>(f) * f));
      }
  return p;
}

// local_sky: fluxes over the annulus_flux sky (pairs between pointings) instead of the detector's mesh background
// (frames of one pointing, where a star sits at the same place in every frame and the mesh's error cancels in
// the ratio: there the annulus, which also takes in the star's own wings and its neighbours', moved Phase 3's
// tile gains by up to 3 % in test_p13_stack_truth).
FrameStars frame_stars(const CoaddFrame& f, Wcs& wcs, double radius, bool local_sky, int preview_side = 0) {
  FrameStars fs;
  const ImageF img = CachedFrameReader(f.path, f.width, f.height, f.channels, f.flat).read_all();
  if (preview_side > 0) fs.preview = block_preview(img, wcs, preview_side);
  fs.centre = wcs.pixel_to_world({0.5 * (f.width - 1), 0.5 * (f.height - 1)});
  const SkyCoord next = wcs.pixel_to_world({0.5 * (f.width - 1) + 1.0, 0.5 * (f.height - 1)});
  fs.pixel_deg = angular_distance_deg(fs.centre, next);
  fs.radius_deg = 0.5 * std::hypot(f.width, f.height) * fs.pixel_deg;
  DetectParams dp;
  dp.max_stars = kMaxStars;
  dp.aperture_fwhm = 0.0;
  dp.min_aperture = radius;
  const double margin = radius + 1.0;
  for (int c = 0; c < std::min(3, f.channels); ++c) {
    std::vector<float> plane(img.plane(c), img.plane(c) + img.plane_size());
    float top = 0.0f;
    for (auto& v : plane) {
      if (!std::isfinite(v)) v = 0.0f;
      top = std::max(top, v);
    }
    std::vector<float> ring;
    for (const Star& s : detect_stars(plane.data(), f.width, f.height, dp)) {
      // Stars near the frame's brightest level may be clipped by the sensor: their flux no longer scales with
      // transparency and would pull every ratio towards 1.
      if (s.saturated || s.snr < kMinSnr || s.flux <= 0 || s.peak > kSaturationShare * top) continue;
      if (s.x < margin || s.y < margin || s.x > f.width - 1 - margin || s.y > f.height - 1 - margin) continue;
      const double flux = local_sky ? annulus_flux(img.plane(c), f.width, f.height, s.x, s.y, radius, ring) : s.flux;
      if (!(flux > 0)) continue;
      const SkyCoord p = wcs.pixel_to_world({s.x, s.y});
      fs.channel[c].push_back({p.ra, p.dec, flux, s.snr});
    }
    std::sort(fs.channel[c].begin(), fs.channel[c].end(), [](const SkyStar& a, const SkyStar& b) {
      return a.dec < b.dec || (a.dec == b.dec && a.ra < b.ra);
    });
  }
  return fs;
}

// flux_j / flux_i over the stars matched within tol_deg (each star of j to its nearest in i), or 0 if too few;
// *weight = 1 / var(log ratio). Per star, var(log r) = 1/snr_i^2 + 1/snr_j^2 + floor^2 (the floor: aperture and
// PSF-sampling differences); the inverse-variance mean of log r, clipped at 3 sigma (scaled by the scatter) around
// the running estimate, starting from the median. The earlier estimate, the ratio of the summed fluxes of the stars
// within 15 % of the median, let a handful of the brightest stars decide each pair; measured against the
// simulator's transparencies it left per-frame gains scattered by +-3 %.
double pair_ratio(const std::vector<SkyStar>& a, const std::vector<SkyStar>& b, double tol_deg, int* count,
                  double* weight) {
  constexpr double kFloor = 0.01, kClip = 3.0;
  std::vector<double> lr, var;
  for (const SkyStar& s : b) {
    auto it = std::lower_bound(a.begin(), a.end(), s.dec - tol_deg, [](const SkyStar& x, double d) { return x.dec < d; });
    double best = tol_deg;
    const SkyStar* hit = nullptr;
    for (; it != a.end() && it->dec <= s.dec + tol_deg; ++it) {
      const double d = angular_distance_deg({it->ra, it->dec}, {s.ra, s.dec});
      if (d < best) {
        best = d;
        hit = &*it;
      }
    }
    if (hit && hit->snr > 0 && s.snr > 0) {
      lr.push_back(std::log(s.flux / hit->flux));
      var.push_back(1.0 / (s.snr * s.snr) + 1.0 / (hit->snr * hit->snr) + kFloor * kFloor);
    }
  }
  *count = static_cast<int>(lr.size());
  *weight = 0.0;
  if (*count < kMinMatches) return 0.0;
  std::vector<double> sorted = lr;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  double m = sorted[sorted.size() / 2], scale = 1.0;
  for (int it = 0; it < 10; ++it) {
    double sw = 0, swx = 0, chi2 = 0;
    int n = 0;
    for (std::size_t k = 0; k < lr.size(); ++k) {
      const double z = (lr[k] - m) / std::sqrt(var[k]);
      if (std::fabs(z) > kClip * scale) continue;
      sw += 1.0 / var[k], swx += lr[k] / var[k], chi2 += z * z, ++n;
    }
    if (n < kMinMatches) return 0.0;
    const double next = swx / sw;
    scale = std::max(1.0, std::sqrt(chi2 / std::max(1, n - 1)));
    *count = n;
    *weight = sw / (scale * scale);
    const bool settled = std::fabs(next - m) < 1e-7;
    m = next;
    if (settled) break;
  }
  return std::exp(m);
}

// One aperture radius for every star of every frame: 1.5 x the widest median FWHM of a sample of frames spread over
// the list (an extra detection pass on every frame would cost a third more than the photometry itself). Runs in the
// caller's TBB arena.
double aperture_radius(const std::vector<CoaddFrame>& inputs) {
  std::vector<double> fwhm(std::min<std::size_t>(inputs.size(), kFwhmFrames), 0.0);
  tbb::parallel_for(0, static_cast<int>(fwhm.size()), [&](int m) {
    fwhm[static_cast<std::size_t>(m)] = frame_fwhm(inputs[static_cast<std::size_t>(m) * inputs.size() / fwhm.size()]);
  });
  return photometry_aperture_radius(*std::max_element(fwhm.begin(), fwhm.end()));
}

struct PairRatio {
  int i = 0, j = 0;
  double log_ratio = 0;  // log(flux_j / flux_i)
  int matches = 0;
  double weight = 0;     // 1 / var(log_ratio)
};

// The flux ratio of frames i and j in channel c, when enough common stars measure it.
std::optional<PairRatio> measure_pair(const std::vector<std::optional<FrameStars>>& stars, int i, int j, int c) {
  const FrameStars& a = *stars[static_cast<std::size_t>(i)];
  const FrameStars& b = *stars[static_cast<std::size_t>(j)];
  int m = 0;
  double w = 0;
  const double r = pair_ratio(a.channel[c], b.channel[c], 1.5 * std::max(a.pixel_deg, b.pixel_deg), &m, &w);
  if (!(r > 0 && w > 0)) return std::nullopt;
  return PairRatio{i, j, std::log(r), m, w};
}

// Every frame's stars in one aperture radius and its preview, in parallel.
std::vector<std::optional<FrameStars>> measure_frames(const std::vector<CoaddFrame>& inputs, int preview_side,
                                                      WorkerArena& arena) {
  std::vector<Wcs> wcs;  // private copies made serially: a Wcs is not shared between threads
  wcs.reserve(inputs.size());
  for (const auto& f : inputs) wcs.push_back(f.wcs);
  std::vector<std::optional<FrameStars>> stars(inputs.size());
  double radius = 0;
  arena.run([&] { radius = aperture_radius(inputs); });
  arena.run([&] {
    tbb::parallel_for(0, static_cast<int>(inputs.size()), [&](int k) {
      stars[static_cast<std::size_t>(k)] = frame_stars(inputs[k], wcs[k], radius, true, preview_side);
    });
  });
  return stars;
}

// The pairs of channel c that measured: the candidates (in parallel, kept in candidate order), then, where pairs that
// failed to measure cut frames off the anchor, further overlapping pairs that join the pieces.
std::vector<PairRatio> measure_channel(const std::vector<std::optional<FrameStars>>& stars,
                                       const std::vector<SkyCoord>& centres, const std::vector<double>& radii,
                                       const std::vector<std::pair<int, int>>& candidates, int c,
                                       WorkerArena& arena) {
  std::vector<std::optional<PairRatio>> measured(candidates.size());
  arena.run([&] {
    tbb::parallel_for(std::size_t{0}, candidates.size(), [&](std::size_t q) {
      measured[q] = measure_pair(stars, candidates[q].first, candidates[q].second, c);
    });
  });
  std::vector<PairRatio> pairs;
  for (const auto& q : measured)
    if (q) pairs.push_back(*q);
  std::vector<std::pair<int, int>> ok;
  for (const auto& q : pairs) ok.emplace_back(q.i, q.j);
  relink_pairs(centres, radii, ok, candidates, [&](int i, int j) {
    const auto q = measure_pair(stars, i, j, c);
    if (q) pairs.push_back(*q);
    return q.has_value();
  });
  return pairs;
}

// Log gains of channel c: min sum w (x_i - x_j - log r_ij)^2 with x = log gain (g_i f_i = g_j f_j), each connected piece at zero mean (the frames' mean scale; solve_difference_graph);
// frames not tied to the anchor keep gain 1. The gate: a gain within `significance` x its sigma of 1 stays 1, the
// sigma from the same graph with each pair known to no better than kGainGateFloor.
void solve_channel(const std::vector<PairRatio>& pairs, int c, double significance, RoutePhotometry& p) {
  const int n = static_cast<int>(p.corrections.size());
  std::vector<OffsetPair> rows, gate_rows;
  for (const auto& q : pairs) {
    rows.push_back({q.i, q.j, q.log_ratio, std::sqrt(1.0 / q.weight)});
    gate_rows.push_back({q.i, q.j, q.log_ratio, std::sqrt(1.0 / q.weight + kGainGateFloor * kGainGateFloor)});
    ++p.pairs;
  }
  const GraphSolution g = solve_difference_graph(n, rows);
  const GraphSolution gate = solve_difference_graph(n, gate_rows);
  for (int k = 0; k < n; ++k) {
    auto& corr = p.corrections[static_cast<std::size_t>(k)];
    const auto K = static_cast<std::size_t>(k);
    const bool linked = corr.connected && g.linked[K];
    if (linked && significant(g.x[K], 0.0, gate.sigma[K], significance)) {
      corr.gain[c] = std::exp(g.x[K]);
      ++p.gains_applied;
    } else {
      corr.gain[c] = 1.0;
      p.gains_not_significant += linked ? 1 : 0;
    }
    corr.offset[c] = 0.0;
  }
}

// Offsets of every channel from the gain-corrected previews' differences over the candidate pairs' overlaps
// (pairs measured in parallel, solved serially in pair order), gated at `significance`.
void solve_offsets_over(const std::vector<std::optional<FrameStars>>& stars, const std::vector<std::pair<int, int>>& pairs,
                        int channels, double significance, WorkerArena& arena, RoutePhotometry& p) {
  std::vector<OverlapDifference> diffs(pairs.size());
  arena.run([&] {
    tbb::parallel_for(std::size_t{0}, pairs.size(), [&](std::size_t q) {
      const auto [i, j] = pairs[q];
      const auto& a = stars[static_cast<std::size_t>(i)]->preview;
      const auto& b = stars[static_cast<std::size_t>(j)]->preview;
      if (a && b)
        diffs[q] = overlap_difference(*a, *b, p.corrections[static_cast<std::size_t>(i)].gain,
                                      p.corrections[static_cast<std::size_t>(j)].gain);
    });
  });
  const int n = static_cast<int>(p.corrections.size());
  for (int c = 0; c < channels; ++c) {
    std::vector<OffsetPair> rows;
    for (std::size_t q = 0; q < pairs.size(); ++q)
      if (diffs[q].ok) rows.push_back({pairs[q].first, pairs[q].second, diffs[q].diff[c], diffs[q].sigma[c]});
    const OffsetSolution s = solve_offsets(n, rows, significance);
    for (int k = 0; k < n; ++k) p.corrections[static_cast<std::size_t>(k)].offset[c] = s.offset[static_cast<std::size_t>(k)];
    p.offsets_applied += s.corrected;
    p.offsets_not_significant += s.not_significant;
    p.offsets_unlinked += s.unlinked;
  }
}

// Which frames the measured pairs tie to the anchor.
void mark_connected(const std::array<std::vector<PairRatio>, 3>& pairs, RoutePhotometry& p) {
  const int n = static_cast<int>(p.corrections.size());
  std::vector<int> label(static_cast<std::size_t>(n));
  std::iota(label.begin(), label.end(), 0);
  std::function<int(int)> find = [&](int x) { return label[x] == x ? x : label[x] = find(label[x]); };
  for (const auto& channel : pairs)
    for (const auto& q : channel) label[find(q.i)] = find(q.j);
  for (int k = 0; k < n; ++k) {
    const bool connected = find(k) == find(p.anchor);
    p.corrections[static_cast<std::size_t>(k)].connected = connected;
    p.corrections[static_cast<std::size_t>(k)].anchor = k == p.anchor;
    p.disconnected += connected ? 0 : 1;
  }
}

}  // namespace

RoutePhotometry solve_star_photometry(const std::vector<CoaddFrame>& inputs, const FrameMatchOptions& options,
                                      int workers) {
  RoutePhotometry p;
  const int n = static_cast<int>(inputs.size());
  p.corrections.resize(inputs.size());
  for (int k = 0; k < n; ++k) p.corrections[static_cast<std::size_t>(k)].id = k;
  if (n < 2) return p;
  WorkerArena arena(workers);
  const std::vector<std::optional<FrameStars>> stars = measure_frames(inputs, options.preview_side, arena);
  // A few nearest overlapping neighbours per frame, a few per direction from the neighbouring pointings, and links
  // that keep the graph connected, instead of every overlapping pair: O(n) star matchings rather than O(n^2), in
  // (i, j) order whatever the worker count.
  std::vector<SkyCoord> centres;
  std::vector<double> radii;
  for (const auto& s : stars) {
    centres.push_back(s->centre);
    radii.push_back(s->radius_deg);
  }
  const std::vector<std::pair<int, int>> candidates = photometry_pairs(centres, radii);
  const int channels = std::min(3, inputs.front().channels);
  std::array<std::vector<PairRatio>, 3> pairs;
  std::vector<double> strength(inputs.size(), 0.0);
  for (int c = 0; c < channels; ++c) {
    pairs[c] = measure_channel(stars, centres, radii, candidates, c, arena);
    for (const auto& q : pairs[c]) {
      strength[static_cast<std::size_t>(q.i)] += q.matches;
      strength[static_cast<std::size_t>(q.j)] += q.matches;
    }
  }
  p.anchor = static_cast<int>(std::max_element(strength.begin(), strength.end()) - strength.begin());
  mark_connected(pairs, p);
  for (int c = 0; c < channels; ++c) solve_channel(pairs[c], c, options.significance, p);
  solve_offsets_over(stars, candidates, channels, options.significance, arena, p);
  return p;
}

double photometry_fwhm(const std::vector<Star>& brightest_first) {
  if (brightest_first.size() <= static_cast<std::size_t>(kFwhmStars)) return median_fwhm(brightest_first, kMinSnr);
  const std::vector<Star> top(brightest_first.begin(), brightest_first.begin() + kFwhmStars);
  return median_fwhm(top, kMinSnr);
}

double photometry_aperture_radius(double max_fwhm) { return std::max(kMinApertureRadius, kApertureFwhms * max_fwhm); }

std::vector<std::array<double, 3>> star_gains_against(const std::vector<CoaddFrame>& inputs, int ref) {
  if (inputs.size() < 2 || ref < 0 || ref >= static_cast<int>(inputs.size()))
    return std::vector<std::array<double, 3>>(inputs.size(), {0.0, 0.0, 0.0});
  return star_gains_against(inputs, ref, aperture_radius(inputs));
}

std::vector<std::array<double, 3>> star_gains_against(const std::vector<CoaddFrame>& inputs, int ref, double radius) {
  std::vector<std::array<double, 3>> gains(inputs.size(), {0.0, 0.0, 0.0});
  if (inputs.size() < 2 || ref < 0 || ref >= static_cast<int>(inputs.size())) return gains;
  std::vector<Wcs> wcs;
  for (const auto& f : inputs) wcs.push_back(f.wcs);
  std::vector<std::optional<FrameStars>> stars(inputs.size());
  tbb::parallel_for(0, static_cast<int>(inputs.size()), [&](int k) {
    stars[static_cast<std::size_t>(k)] =
        frame_stars(inputs[static_cast<std::size_t>(k)], wcs[static_cast<std::size_t>(k)], radius, false);
  });
  const FrameStars& r = *stars[static_cast<std::size_t>(ref)];
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const FrameStars& f = *stars[k];
    for (int c = 0; c < std::min(3, inputs[k].channels); ++c) {
      int m = 0;
      double w = 0;
      // ratio = flux_k / flux_ref; the gain that brings frame k onto the reference is its inverse.
      const double ratio = static_cast<int>(k) == ref
                               ? 1.0
                               : pair_ratio(r.channel[c], f.channel[c], 1.5 * std::max(r.pixel_deg, f.pixel_deg), &m, &w);
      gains[k][static_cast<std::size_t>(c)] = ratio > 0 ? 1.0 / ratio : 0.0;
    }
  }
  return gains;
}

}  // namespace zm
