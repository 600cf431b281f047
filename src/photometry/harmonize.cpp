// harmonize_tiles: overlap fits in parallel, pruning, anchored least-squares solve per channel.
#include "photometry/harmonize.hpp"

#include <tbb/parallel_for.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include "photometry/overlap_graph.hpp"
#include "photometry/robust_fit.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace {

constexpr int kMaxResidualSamples = 8192;  // per pair and channel, kept for the residual diagnostics

struct ChannelPair {
  LineFit fit;
  double a = 1, b = 0;
  std::vector<float> x, y;  // strided subset of the overlap samples
};

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

// Samples of `in` (warped onto `out`'s grid over `rect`) paired with `out`'s own pixels, channel by channel:
// xs[c] = out, ys[c] = in.
long long overlap_samples(const TilePreview& out, const TileInfo& out_info, const TilePreview& in,
                          const TileInfo& in_info, const PixelRect& rect, std::vector<std::vector<float>>& xs,
                          std::vector<std::vector<float>>& ys) {
  const int C = out.image.channels;
  xs.assign(C, {});
  ys.assign(C, {});
  PixelMapOptions mo;
  mo.interp = MapInterp::Bilinear;
  const PixelMap map = compute_pixel_map(*out_info.wcs, *in_info.wcs, rect, mo);
  const WarpedBand warped = warp_band(in.image, map, Kernel::Bilinear);
  long long n = 0;
  for (int r = 0; r < rect.rows; ++r)
    for (int col = 0; col < rect.cols; ++col) {
      const std::size_t k = static_cast<std::size_t>(r) * rect.cols + col;
      const std::size_t p = static_cast<std::size_t>(rect.y0 + r) * out.image.width + rect.x0 + col;
      if (!warped.footprint[k] || !out_info.valid[p]) continue;
      ++n;
      for (int c = 0; c < C; ++c) {
        xs[c].push_back(out.image.plane(c)[p]);
        ys[c].push_back(warped.image.plane(c)[k]);
      }
    }
  return n;
}

std::vector<float> strided(const std::vector<float>& v) {
  const std::size_t step = std::max<std::size_t>(1, (v.size() + kMaxResidualSamples - 1) / kMaxResidualSamples);
  std::vector<float> out;
  for (std::size_t k = 0; k < v.size(); k += step) out.push_back(v[k]);
  return out;
}

PairWork fit_pair(const std::vector<TilePreview>& tiles, const std::vector<TileInfo>& info, int i, int j,
                  const PixelRect& rect_on_i, const PixelRect& rect_on_j, const HarmonizeOptions& o) {
  PairWork w;
  w.i = i, w.j = j;
  std::vector<std::vector<float>> xs, ys;
  w.samples = overlap_samples(tiles[i], info[i], tiles[j], info[j], rect_on_i, xs, ys);
  const long long smaller = std::min(info[i].n_valid, info[j].n_valid);
  w.overlap = smaller > 0 ? static_cast<double>(w.samples) / smaller : 0.0;
  if (w.overlap < o.overlap_min || w.samples < o.min_samples) return w;
  std::vector<std::vector<float>> rxs, rys;
  if (o.symmetric_fit && !rect_on_j.empty()) overlap_samples(tiles[j], info[j], tiles[i], info[i], rect_on_j, rxs, rys);
  const int C = tiles[i].image.channels;
  w.channels.resize(C);
  w.ok = true;
  for (int c = 0; c < C; ++c) {
    ChannelPair& cp = w.channels[c];
    cp.fit = robust_line_fit(xs[c], ys[c], o.clip_sigma, o.min_samples);
    if (!cp.fit.ok || !(cp.fit.a > 0)) {
      w.ok = false;
      continue;
    }
    cp.a = cp.fit.a;
    if (o.symmetric_fit && !rxs.empty() && rxs[c].size() >= static_cast<std::size_t>(o.min_samples)) {
      const LineFit rev = robust_line_fit(rxs[c], rys[c], o.clip_sigma, o.min_samples);
      if (rev.ok && rev.a > 0) cp.a = std::sqrt(cp.fit.a / rev.a);
    }
    cp.b = cp.fit.mean_y - cp.a * cp.fit.mean_x;
    cp.x = strided(xs[c]);
    cp.y = strided(ys[c]);
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
    std::vector<double> rhs, wt;
    for (int e : used) {
      const ChannelPair& cp = work[edge_work[e]].channels[c];
      rhs.push_back(std::log(cp.a));
      wt.push_back(cp.fit.kept);
    }
    const std::vector<double> lg = solve_differences(col, n_unknown, ij, rhs, wt);
    std::vector<double> g(n, 1.0);
    for (int k = 0; k < n; ++k)
      if (col[k] >= 0) g[k] = std::clamp(std::exp(lg[k]), o.gain_min, o.gain_max);
    rhs.clear();
    for (int e : used) {
      const ChannelPair& cp = work[edge_work[e]].channels[c];
      rhs.push_back(g[edges[e].j] * cp.fit.mean_y - g[edges[e].i] * cp.fit.mean_x);
    }
    const std::vector<double> off = solve_differences(col, n_unknown, ij, rhs, wt);
    for (int k = 0; k < n; ++k) {
      result.tiles[k].gain[c] = g[k];
      result.tiles[k].offset[c] = col[k] >= 0 ? std::clamp(off[k], -o.offset_limit, o.offset_limit) : 0.0;
    }
  }

  for (int e : used) {
    const PairWork& w = work[edge_work[e]];
    for (int c = 0; c < C; ++c) {
      const ChannelPair& cp = w.channels[c];
      const TileCorrection& ti = result.tiles[w.i];
      const TileCorrection& tj = result.tiles[w.j];
      PairFit p{w.i, w.j, c, cp.a, cp.b, cp.fit.kept, w.overlap, 0, 0};
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
                     {"residual_before", p.residual_before}, {"residual_after", p.residual_after}});
  }
  return {{"anchor", r.anchor},
          {"anchor_id", r.anchor >= 0 && r.anchor < static_cast<int>(r.tiles.size()) ? r.tiles[r.anchor].id : -1},
          {"tiles", tiles},
          {"pairs", pairs}};
}

}  // namespace zm
