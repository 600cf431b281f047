// harmonize_tiles: overlap fits in parallel, pruning, anchored least-squares solve per channel.
#include "photometry/harmonize.hpp"

#include <tbb/parallel_for.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "photometry/offset_solve.hpp"
#include "photometry/overlap_difference.hpp"
#include "photometry/overlap_graph.hpp"
#include "photometry/robust_fit.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace {

constexpr int kMaxResidualSamples = 8192;  // per pair and channel, kept for the residual diagnostics
// A pixel-wise slope is trusted to +-(lambda_x + lambda_y), lambda = noise variance / sample variance (the
// first-order attenuation of a least-squares slope by noise in the regressor), never better than 0.5 % (blur
// differences between tiles bias it too).
constexpr double kRegressionRelSigmaFloor = 0.005;
constexpr double kRegressionSkip = 0.05;  // a regression this uncertain adds nothing to a flux gain
constexpr double kGainRelSigmaFloor = 1e-4;        // keeps one excellent pair from swamping the solve

struct ChannelPair {
  double a = 1, b = 0;
  double level = 0;            // tile i's level at which the offsets are matched
  double gain_weight = 0;      // 1 / var(log a)
  double offset_weight = 0;    // samples behind b
  double rel_sigma = 0;
  int samples = 0, sources = 0;
  bool flux = false;
  std::vector<float> x, y;  // strided subset of the overlap samples
};

// The offset's uncertainty of a pair fit: the median's standard error over its residuals' robust scatter (from the
// strided samples, counted as `samples`), never below kOverlapDifferenceFloor x the overlap's level.
double offset_sigma(const ChannelPair& cp) {
  std::vector<double> r;
  for (std::size_t k = 0; k < cp.x.size() && k < cp.y.size(); ++k) r.push_back(cp.y[k] - (cp.a * cp.x[k] + cp.b));
  if (r.empty()) return std::numeric_limits<double>::infinity();
  const double m = median_in_place(r);
  for (double& v : r) v = std::fabs(v - m);
  const double mad = 1.4826 * median_in_place(r);
  const double n = std::max(1, cp.samples);
  return std::max({1.2533 * mad / std::sqrt(n), kOverlapDifferenceFloor * std::fabs(cp.level), 1e-12});
}

struct PairWork {
  int i = 0, j = 0;
  long long samples = 0;  // pixels valid in both
  double overlap = 0;
  bool ok = false;
  std::vector<ChannelPair> channels;
};

struct TileInfo {
  std::optional<Wcs> wcs;           // the preview's WCS sized like its image
  std::vector<std::uint8_t> valid;  // every channel finite
  std::vector<double> noise;        // per channel, per preview pixel
  long long n_valid = 0;
  SkyCoord centre;
  double radius_deg = 0;
};

TileInfo tile_info(const TilePreview& t) {
  TileInfo info;
  const std::size_t n = t.image.plane_size();
  info.valid.assign(n, 1);
  for (int c = 0; c < t.image.channels; ++c) {
    const float* p = t.image.plane(c);
    for (std::size_t k = 0; k < n; ++k)
      if (!std::isfinite(p[k])) info.valid[k] = 0;
    info.noise.push_back(plane_noise_sigma(p, t.image.width, t.image.height));
  }
  for (std::uint8_t v : info.valid) info.n_valid += v;
  Wcs w = t.wcs;
  w.set_size(t.image.width, t.image.height);
  info.wcs = w;
  info.centre = image_centre(w);
  for (const SkyCoord& s : footprint_corners(w))
    info.radius_deg = std::max(info.radius_deg, angular_distance_deg(info.centre, s));
  return info;
}

// `in` warped onto `out`'s grid over `rect`, beside `out`'s own pixels: x = out, y = in, valid in both.
struct OverlapGrid {
  int w = 0, h = 0, channels = 0;
  std::vector<float> x, y;  // C planes of w x h
  std::vector<std::uint8_t> valid;
  long long n = 0;
  const float* xp(int c) const { return x.data() + static_cast<std::size_t>(c) * w * h; }
  const float* yp(int c) const { return y.data() + static_cast<std::size_t>(c) * w * h; }
};

OverlapGrid overlap_grid(const TilePreview& out, const TileInfo& out_info, const TilePreview& in, const TileInfo& in_info,
                         const PixelRect& rect) {
  OverlapGrid g;
  g.w = rect.cols, g.h = rect.rows, g.channels = out.image.channels;
  PixelMapOptions mo;
  mo.interp = MapInterp::Bilinear;
  const PixelMap map = compute_pixel_map(*out_info.wcs, *in_info.wcs, rect, mo);
  WarpedBand warped = warp_band(in.image, map, Kernel::Bilinear);
  const std::size_t np = static_cast<std::size_t>(g.w) * g.h;
  g.y = std::move(warped.image.data);
  g.x.assign(static_cast<std::size_t>(g.channels) * np, 0.0f);
  g.valid.assign(np, 0);
  for (int r = 0; r < rect.rows; ++r)
    for (int col = 0; col < rect.cols; ++col) {
      const std::size_t k = static_cast<std::size_t>(r) * rect.cols + col;
      const std::size_t p = static_cast<std::size_t>(rect.y0 + r) * out.image.width + rect.x0 + col;
      for (int c = 0; c < g.channels; ++c) g.x[c * np + k] = out.image.plane(c)[p];
      if (!warped.footprint[k] || !out_info.valid[p]) continue;
      g.valid[k] = 1;
      ++g.n;
    }
  return g;
}

// The valid samples of channel c as two lists (x, y).
void samples_of(const OverlapGrid& g, int c, std::vector<float>& xs, std::vector<float>& ys) {
  xs.clear(), ys.clear();
  const float* x = g.xp(c);
  const float* y = g.yp(c);
  for (std::size_t k = 0; k < g.valid.size(); ++k)
    if (g.valid[k]) xs.push_back(x[k]), ys.push_back(y[k]);
}

std::vector<float> strided(const std::vector<float>& v) {
  const std::size_t step = std::max<std::size_t>(1, (v.size() + kMaxResidualSamples - 1) / kMaxResidualSamples);
  std::vector<float> out;
  for (std::size_t k = 0; k < v.size(); k += step) out.push_back(v[k]);
  return out;
}

// The pixel-wise regression of one channel (the fallback); false when it fails.
bool regression_fit(const OverlapGrid* rev, int c, const std::vector<float>& xs,
                    const std::vector<float>& ys, double lambda, const HarmonizeOptions& o, ChannelPair& cp) {
  const LineFit fit = robust_line_fit(xs, ys, o.clip_sigma, o.min_samples);
  if (!fit.ok || !(fit.a > 0)) return false;
  cp.a = fit.a;
  if (rev != nullptr && rev->n >= o.min_samples) {
    std::vector<float> rx, ry;
    samples_of(*rev, c, rx, ry);
    const LineFit back = robust_line_fit(rx, ry, o.clip_sigma, o.min_samples);
    if (back.ok && back.a > 0) cp.a = std::sqrt(fit.a / back.a);
  }
  cp.b = fit.mean_y - cp.a * fit.mean_x;
  cp.level = fit.mean_x;
  cp.samples = fit.kept;
  cp.rel_sigma = std::max(kRegressionRelSigmaFloor, lambda);
  cp.gain_weight = 1.0 / (cp.rel_sigma * cp.rel_sigma);
  cp.offset_weight = fit.kept;
  cp.flux = false;
  return true;
}

// Combines the flux ratios measured on tile i's grid (tile j resampled: y = j) with those on tile j's grid (tile i
// resampled: y = i). The resampling blurs only the warped tile, which moves flux out of the apertures and into
// the background annulus of that tile alone, a bias of the order of a percent that PSF matching removes only as
// well as it measures the small width difference. It enters a_ij as (1 - e) and 1 / a_ji as 1 / (1 - e), so
// sqrt(a_ij / a_ji) cancels it to first order; the same holds for the pixel-wise slope. The two measurements
// share their sources and noise, so the combined uncertainty is their mean, not smaller.
void symmetrize(std::vector<ChannelFluxRatio>& fwd, const std::vector<ChannelFluxRatio>& back) {
  for (std::size_t c = 0; c < fwd.size() && c < back.size(); ++c) {
    ChannelFluxRatio& f = fwd[c];
    const ChannelFluxRatio& r = back[c];
    if (!f.ok || !r.ok || !(r.a > 0)) continue;
    const double a = std::sqrt(f.a / r.a);
    f.b += (f.a - a) * f.sky_x;  // median(y - a x) at the sky level, to first order
    f.a = a;
    f.a_rel_sigma = 0.5 * (f.a_rel_sigma + r.a_rel_sigma);
    if (f.pixel_a > 0 && r.pixel_a > 0) {
      f.pixel_a = std::sqrt(f.pixel_a / r.pixel_a);
      f.pixel_lambda = 0.5 * (f.pixel_lambda + r.pixel_lambda);
    } else {
      f.pixel_a = 0.0;
    }
  }
}

PairWork fit_pair(const std::vector<TilePreview>& tiles, const std::vector<TileInfo>& info, int i, int j,
                  const PixelRect& rect_on_i, const PixelRect& rect_on_j, const HarmonizeOptions& o) {
  PairWork w;
  w.i = i, w.j = j;
  const OverlapGrid g = overlap_grid(tiles[i], info[i], tiles[j], info[j], rect_on_i);
  w.samples = g.n;
  const long long smaller = std::min(info[i].n_valid, info[j].n_valid);
  w.overlap = smaller > 0 ? static_cast<double>(w.samples) / smaller : 0.0;
  if (w.overlap < o.overlap_min || w.samples < o.min_samples) return w;
  const int C = tiles[i].image.channels;
  std::vector<ChannelFluxRatio> flux(C);
  if (o.flux_gain) {
    PlaneSet xs, ys;
    for (int c = 0; c < C; ++c) {
      xs.planes.push_back(g.xp(c)), ys.planes.push_back(g.yp(c));
      xs.sigma.push_back(info[i].noise[c]), ys.sigma.push_back(info[j].noise[c]);
    }
    flux = flux_ratio(xs, ys, g.valid, g.w, g.h, o.flux);
  }
  std::optional<OverlapGrid> rev;
  if (o.flux_gain && o.symmetric_flux && !rect_on_j.empty()) {
    rev = overlap_grid(tiles[j], info[j], tiles[i], info[i], rect_on_j);
    if (rev->n >= o.min_samples) {
      PlaneSet xs, ys;
      for (int c = 0; c < C; ++c) {
        xs.planes.push_back(rev->xp(c)), ys.planes.push_back(rev->yp(c));
        xs.sigma.push_back(info[j].noise[c]), ys.sigma.push_back(info[i].noise[c]);
      }
      symmetrize(flux, flux_ratio(xs, ys, rev->valid, rev->w, rev->h, o.flux));
    }
  }
  w.channels.resize(C);
  w.ok = true;
  std::vector<float> xs, ys;
  for (int c = 0; c < C; ++c) {
    ChannelPair& cp = w.channels[c];
    samples_of(g, c, xs, ys);
    const ChannelFluxRatio& f = flux[c];
    ChannelPair reg;
    bool have_reg = false;
    if (!f.ok) {
      const double lambda = attenuation(xs, info[i].noise[c]) + attenuation(ys, info[j].noise[c]);
      if (o.symmetric_fit && !rev && !rect_on_j.empty()) rev = overlap_grid(tiles[j], info[j], tiles[i], info[i], rect_on_j);
      have_reg = regression_fit(rev ? &*rev : nullptr, c, xs, ys, lambda, o, reg);
    }
    if (f.ok) {
      cp.a = f.a, cp.b = f.b, cp.level = f.sky_x;
      cp.rel_sigma = std::hypot(f.a_rel_sigma, kGainRelSigmaFloor);
      cp.offset_weight = static_cast<double>(f.sky_pixels);
      cp.samples = static_cast<int>(std::min<long long>(f.sky_pixels, std::numeric_limits<int>::max()));
      cp.sources = f.sources;
      cp.flux = true;
      const double sr = std::max(kRegressionRelSigmaFloor, f.pixel_lambda);
      const bool consistent = f.pixel_a > 0 && std::fabs(std::log(f.pixel_a / f.a)) < 3.0 * std::hypot(sr, cp.rel_sigma);
      if (f.pixel_a > 0 && f.pixel_lambda < kRegressionSkip && consistent) {
        // Low noise against the overlap's structure (gradients, nebulae): the pixel-wise slope on the
        // PSF-matched planes is good to ~lambda; inverse-variance mean in log a, b again at the sky level. A
        // slope that disagrees with the flux gain is left out (a few bright outliers can steer a pixel fit).
        const double wf = 1.0 / (cp.rel_sigma * cp.rel_sigma), wr = 1.0 / (sr * sr);
        const double a = std::exp((wf * std::log(f.a) + wr * std::log(f.pixel_a)) / (wf + wr));
        cp.b = f.b + (f.a - a) * f.sky_x;  // median(y - a x) at the sky level, to first order
        cp.a = a;
        cp.rel_sigma = 1.0 / std::sqrt(wf + wr);
      }
      cp.gain_weight = 1.0 / (cp.rel_sigma * cp.rel_sigma);
    } else if (have_reg) {
      cp = reg;
    } else {
      w.ok = false;
    }
    cp.x = strided(xs);
    cp.y = strided(ys);
  }
  return w;
}

// Pairs whose footprints can meet: centre distance within the radii, then j's edge on i's grid (and back).
struct Candidate {
  int i = 0, j = 0;
  PixelRect on_i, on_j;
};

std::vector<Candidate> candidate_pairs(const std::vector<TilePreview>& tiles, const std::vector<TileInfo>& info) {
  std::vector<Candidate> out;
  const int n = static_cast<int>(tiles.size());
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      if (info[i].n_valid == 0 || info[j].n_valid == 0) continue;
      if (angular_distance_deg(info[i].centre, info[j].centre) > 1.01 * (info[i].radius_deg + info[j].radius_deg))
        continue;
      const PixelRect on_i = output_bbox(*info[j].wcs, *info[i].wcs, 2);
      if (on_i.empty()) continue;
      out.push_back({i, j, on_i, output_bbox(*info[i].wcs, *info[j].wcs, 2)});
    }
  return out;
}

int choose_anchor(const std::vector<TilePreview>& tiles, const std::vector<OverlapEdge>& edges,
                  const std::vector<int>& used) {
  std::vector<int> degree(tiles.size(), 0);
  for (int e : used) ++degree[edges[e].i], ++degree[edges[e].j];
  int best = 0;
  double best_score = -1;
  for (std::size_t k = 0; k < tiles.size(); ++k) {
    const double score = degree[k] * std::max(0.0, tiles[k].weight);
    if (score > best_score) best_score = score, best = static_cast<int>(k);
  }
  return best;
}

// Weighted least squares for x (x_anchor = 0) from rows x_i - x_j = rhs with weights w (normal-equation weight,
// i.e. the square of the row weight), over the nodes with col[k] >= 0.
std::vector<double> solve_differences(const std::vector<int>& col, int n_unknown,
                                      const std::vector<std::array<int, 2>>& ij, const std::vector<double>& rhs,
                                      const std::vector<double>& w) {
  std::vector<double> x(col.size(), 0.0);
  if (n_unknown == 0) return x;
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(n_unknown, n_unknown);
  Eigen::VectorXd v = Eigen::VectorXd::Zero(n_unknown);
  for (std::size_t r = 0; r < ij.size(); ++r) {
    const int nodes[2] = {ij[r][0], ij[r][1]};
    const double sign[2] = {1.0, -1.0};
    for (int p = 0; p < 2; ++p) {
      const int cp = col[nodes[p]];
      if (cp < 0) continue;
      v(cp) += w[r] * sign[p] * rhs[r];
      for (int q = 0; q < 2; ++q) {
        const int cq = col[nodes[q]];
        if (cq >= 0) M(cp, cq) += w[r] * sign[p] * sign[q];
      }
    }
  }
  const Eigen::VectorXd sol = M.ldlt().solve(v);
  for (std::size_t k = 0; k < col.size(); ++k)
    if (col[k] >= 0) x[k] = sol(col[k]);
  return x;
}

}  // namespace

HarmonizeResult harmonize_tiles(const std::vector<TilePreview>& tiles, const HarmonizeOptions& o) {
  HarmonizeResult result;
  const int n = static_cast<int>(tiles.size());
  if (n == 0) return result;
  const int C = tiles[0].image.channels;
  for (const TilePreview& t : tiles)
    if (t.image.channels != C || C < 1 || C > 3)
      throw std::invalid_argument("harmonize_tiles: previews need the same channel count, 1..3");
  if (o.anchor >= n) throw std::invalid_argument("harmonize_tiles: anchor index out of range");

  std::vector<TileInfo> info(n);
  tbb::parallel_for(0, n, [&](int k) { info[k] = tile_info(tiles[k]); });
  const std::vector<Candidate> cands = candidate_pairs(tiles, info);
  std::vector<PairWork> work(cands.size());
  tbb::parallel_for(std::size_t{0}, cands.size(), [&](std::size_t k) {
    work[k] = fit_pair(tiles, info, cands[k].i, cands[k].j, cands[k].on_i, cands[k].on_j, o);
  });

  std::vector<OverlapEdge> edges;
  std::vector<int> edge_work;
  for (std::size_t k = 0; k < work.size(); ++k)
    if (work[k].ok) {
      edges.push_back({work[k].i, work[k].j, static_cast<double>(work[k].samples)});
      edge_work.push_back(static_cast<int>(k));
    }
  const std::vector<int> used = prune_edges(edges, n, o.prune_k);
  const std::vector<int> label = connected_components(edges, used, n);
  result.anchor = o.anchor >= 0 ? o.anchor : choose_anchor(tiles, edges, used);

  std::vector<int> col(n, -1);
  int n_unknown = 0;
  for (int k = 0; k < n; ++k)
    if (k != result.anchor && label[k] == label[result.anchor]) col[k] = n_unknown++;

  result.tiles.resize(n);
  for (int k = 0; k < n; ++k) {
    result.tiles[k].id = tiles[k].id;
    result.tiles[k].anchor = k == result.anchor;
    result.tiles[k].connected = label[k] == label[result.anchor];
  }
  std::vector<std::array<int, 2>> ij;
  for (int e : used) ij.push_back({edges[e].i, edges[e].j});
  for (int c = 0; c < C; ++c) {
    std::vector<double> rhs, wt, wo;
    for (int e : used) {
      const ChannelPair& cp = work[edge_work[e]].channels[c];
      rhs.push_back(std::log(cp.a));
      wt.push_back(cp.gain_weight);
      wo.push_back(cp.offset_weight);
    }
    const std::vector<double> lg = solve_differences(col, n_unknown, ij, rhs, wt);
    // The offsets' gate: their sigmas against the anchor (solve_difference_graph on the same rows). Gains are not
    // gated here (see the file comment, step 6).
    std::vector<OffsetPair> offset_rows;
    for (std::size_t r = 0; r < used.size(); ++r) {
      offset_rows.push_back({ij[r][0], ij[r][1], 0.0, offset_sigma(work[edge_work[used[r]]].channels[c])});
    }
    const bool gate = o.significance > 0.0;
    const GraphSolution offset_sigma_of = gate ? solve_difference_graph(n, offset_rows, result.anchor) : GraphSolution{};
    std::vector<double> g(n, 1.0);
    for (int k = 0; k < n; ++k) {
      if (col[k] < 0) continue;
      g[k] = std::clamp(std::exp(lg[k]), o.gain_min, o.gain_max);
      ++result.gains_applied;
    }
    rhs.clear();
    for (int e : used) {
      const ChannelPair& cp = work[edge_work[e]].channels[c];
      rhs.push_back(g[edges[e].j] * (cp.a * cp.level + cp.b) - g[edges[e].i] * cp.level);
    }
    const std::vector<double> off = solve_differences(col, n_unknown, ij, rhs, wo);
    for (int k = 0; k < n; ++k) {
      result.tiles[k].gain[c] = g[k];
      double applied = 0.0;
      if (col[k] >= 0) {
        if (!gate || significant(off[k], 0.0, offset_sigma_of.sigma[k], o.significance)) {
          applied = std::clamp(off[k], -o.offset_limit, o.offset_limit);
          ++result.offsets_applied;
        } else {
          ++result.offsets_not_significant;
        }
      }
      result.tiles[k].offset[c] = applied;
    }
  }

  for (int e : used) {
    const PairWork& w = work[edge_work[e]];
    for (int c = 0; c < C; ++c) {
      const ChannelPair& cp = w.channels[c];
      const TileCorrection& ti = result.tiles[w.i];
      const TileCorrection& tj = result.tiles[w.j];
      PairFit p{w.i, w.j, c, cp.a, cp.b, cp.samples, w.overlap, 0, 0, cp.flux, cp.sources, cp.rel_sigma};
      p.residual_before = robust_rms(cp.x, cp.y, cp.a, cp.b);
      p.residual_after = robust_rms(cp.x, cp.y, ti.gain[c] / tj.gain[c], (ti.offset[c] - tj.offset[c]) / tj.gain[c]);
      result.pairs.push_back(p);
    }
  }
  return result;
}

nlohmann::json to_json(const HarmonizeResult& r) {
  nlohmann::json tiles = nlohmann::json::array();
  for (const TileCorrection& t : r.tiles)
    tiles.push_back({{"id", t.id}, {"gain", t.gain}, {"offset", t.offset}, {"anchor", t.anchor},
                     {"connected", t.connected}});
  nlohmann::json pairs = nlohmann::json::array();
  for (const PairFit& p : r.pairs) {
    const auto id = [&](int k) { return k >= 0 && k < static_cast<int>(r.tiles.size()) ? r.tiles[k].id : k; };
    pairs.push_back({{"i", p.i}, {"j", p.j}, {"id_i", id(p.i)}, {"id_j", id(p.j)}, {"channel", p.channel},
                     {"a", p.a}, {"b", p.b}, {"samples", p.samples}, {"overlap", p.overlap},
                     {"residual_before", p.residual_before}, {"residual_after", p.residual_after},
                     {"gain_method", p.flux_gain ? "flux" : "regression"}, {"sources", p.sources},
                     {"a_rel_sigma", p.a_rel_sigma}});
  }
  return {{"anchor", r.anchor},
          {"anchor_id", r.anchor >= 0 && r.anchor < static_cast<int>(r.tiles.size()) ? r.tiles[r.anchor].id : -1},
          {"tiles", tiles},
          {"pairs", pairs}};
}

}  // namespace zm
