#include "photometry/offset_solve.hpp"

#include <Eigen/Sparse>

#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace zm {

bool significant(double x, double identity, double sigma, double significance) {
  if (significance <= 0.0) return true;
  return std::fabs(x - identity) > significance * std::max(0.0, sigma);
}

GraphSolution solve_difference_graph(int n, const std::vector<OffsetPair>& rows, int reference) {
  GraphSolution g;
  const auto N = static_cast<std::size_t>(std::max(0, n));
  g.x.assign(N, 0.0);
  g.sigma.assign(N, 0.0);
  g.linked.assign(N, 0);
  if (n <= 0) return g;
  std::vector<int> label(N);
  std::iota(label.begin(), label.end(), 0);
  const auto find = [&](int x) {
    while (label[static_cast<std::size_t>(x)] != x)
      x = label[static_cast<std::size_t>(x)] = label[static_cast<std::size_t>(label[static_cast<std::size_t>(x)])];
    return x;
  };
  std::vector<const OffsetPair*> used;
  std::vector<double> info(N, 0.0);
  std::vector<Eigen::Triplet<double>> t;
  for (const OffsetPair& p : rows) {
    if (p.i < 0 || p.j < 0 || p.i >= n || p.j >= n || p.i == p.j)
      throw std::invalid_argument("solve_difference_graph: row index out of range");
    if (!(p.sigma > 0.0) || !std::isfinite(p.sigma) || !std::isfinite(p.diff)) continue;
    const double w = 1.0 / (p.sigma * p.sigma);
    t.emplace_back(p.i, p.i, w);
    t.emplace_back(p.j, p.j, w);
    t.emplace_back(p.i, p.j, -w);
    t.emplace_back(p.j, p.i, -w);
    info[static_cast<std::size_t>(p.i)] += w;
    info[static_cast<std::size_t>(p.j)] += w;
    label[static_cast<std::size_t>(find(p.i))] = find(p.j);
    used.push_back(&p);
  }
  // One pinned node per piece (its root) makes the Laplacian definite; the pin's weight is far above any pair's so
  // that it holds, and the piece's mean is removed afterwards (the Laplacian's null space is the constant per piece).
  double wmax = 1.0;
  for (double w : info) wmax = std::max(wmax, w);
  for (int k = 0; k < n; ++k) t.emplace_back(k, k, find(k) == k ? 1e6 * wmax : 0.0);
  Eigen::SparseMatrix<double> a(n, n);
  a.setFromTriplets(t.begin(), t.end());
  const Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> solver(a);
  std::vector<double> sum(N, 0.0), count(N, 0.0);
  for (int k = 0; k < n; ++k) count[static_cast<std::size_t>(find(k))] += 1.0;
  // x for row values v (one per used row), each piece at zero mean.
  const auto solve = [&](const std::vector<double>& v) {
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n);
    for (std::size_t r = 0; r < used.size(); ++r) {
      const double w = 1.0 / (used[r]->sigma * used[r]->sigma);
      rhs[used[r]->i] += w * v[r];
      rhs[used[r]->j] -= w * v[r];
    }
    const Eigen::VectorXd x = solver.solve(rhs);
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int k = 0; k < n; ++k) sum[static_cast<std::size_t>(find(k))] += x[k];
    std::vector<double> out(N);
    for (int k = 0; k < n; ++k) out[static_cast<std::size_t>(k)] = x[k] - sum[static_cast<std::size_t>(find(k))] / count[static_cast<std::size_t>(find(k))];
    return out;
  };
  std::vector<double> v(used.size());
  for (std::size_t r = 0; r < used.size(); ++r) v[r] = used[r]->diff;
  g.x = solve(v);
  std::mt19937_64 rng(0x5eed15u);
  std::normal_distribution<double> unit(0.0, 1.0);
  std::vector<double> var(N, 0.0);
  const bool ref = reference >= 0 && reference < n;
  for (int d = 0; d < kSigmaDraws; ++d) {
    for (std::size_t r = 0; r < used.size(); ++r) v[r] = unit(rng) * used[r]->sigma;
    const std::vector<double> x = solve(v);
    for (int k = 0; k < n; ++k) {
      const bool rel = ref && find(k) == find(reference);
      const double e = x[static_cast<std::size_t>(k)] - (rel ? x[static_cast<std::size_t>(reference)] : 0.0);
      var[static_cast<std::size_t>(k)] += e * e;
    }
  }
  for (std::size_t k = 0; k < N; ++k) {
    g.linked[k] = info[k] > 0.0 ? 1 : 0;
    if (!g.linked[k]) g.x[k] = 0.0;
    g.sigma[k] = g.linked[k] ? std::sqrt(var[k] / kSigmaDraws) : 0.0;
  }
  return g;
}

OffsetSolution solve_offsets(int n, const std::vector<OffsetPair>& pairs, double significance) {
  OffsetSolution s;
  const auto N = static_cast<std::size_t>(std::max(0, n));
  s.offset.assign(N, 0.0);
  s.fitted.assign(N, 0.0);
  s.sigma.assign(N, 0.0);
  s.applied.assign(N, 0);
  const GraphSolution g = solve_difference_graph(n, pairs);
  for (std::size_t k = 0; k < N; ++k) {
    if (!g.linked[k]) {
      ++s.unlinked;
      continue;
    }
    s.fitted[k] = g.x[k];
    s.sigma[k] = g.sigma[k];
    if (significant(s.fitted[k], 0.0, s.sigma[k], significance)) {
      s.offset[k] = s.fitted[k];
      s.applied[k] = 1;
      ++s.corrected;
    } else {
      ++s.not_significant;
    }
  }
  return s;
}

}  // namespace zm
