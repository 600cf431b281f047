// Additive offsets between overlapping inputs from what they share: the differences measured over their overlaps,
// solved for every input at once by weighted least squares over the overlap graph (the approach of Montage's
// background model and astropy reproject's match_background), never from each input's own absolute sky level,
// which differs wherever the sky does (a bright cluster or nebula in some inputs only).
//
// The solve: min sum_pairs w (o_i - o_j - d_ij)^2, w = 1 / sigma_ij^2, with the offsets of each connected piece of
// the graph summing to zero (the mosaic keeps the inputs' mean level; an input alone keeps 0). Sparse LDLT on the
// graph Laplacian with one node pinned per piece, then each piece's mean removed: the same minimiser.
//
// The gate: an offset is applied only where the overlaps support it, |o_k| > significance x sigma_k, sigma_k the
// standard deviation of k's solved offset under the pairs' noise (solve_difference_graph). A gated offset is 0.
// 1 / sqrt(sum of the weights of k's pairs) was tried first: it ignores the neighbours' own uncertainty, and along a
// chain of 12 consistent inputs it claimed 0.1 for an offset whose noise is 0.3 (the unit test's case), so fitted
// noise passed the gate.
#pragma once

#include <vector>

namespace zm {

// corrected_i - corrected_j should vanish on the overlap: d = median over the overlap of (corrected_j - corrected_i)
// before the offsets (so o_i - o_j = d), known to sigma (> 0; pairs with sigma <= 0 or non-finite values are
// ignored).
struct OffsetPair {
  int i = 0, j = 0;
  double diff = 0.0;
  double sigma = 0.0;
};

// x per node of a difference graph and its uncertainty.
struct GraphSolution {
  std::vector<double> x;      // each connected piece at zero mean; 0 for a node without rows
  std::vector<double> sigma;  // standard deviation of x (or of x - x[reference]), 0 without rows
  std::vector<char> linked;   // the node has at least one usable row
};

// Weighted least squares for x_i - x_j = diff (weight 1 / sigma^2) over a graph, each connected piece at zero mean
// (sparse LDLT of the Laplacian with one node pinned per piece, then the piece's mean removed). sigma: the solution's
// standard deviation under the rows' noise, estimated from kSigmaDraws solves of noise-only rows (diff drawn from
// N(0, sigma), fixed seed) on the same factorisation: exact in expectation, ~9 % relative error, O(draws x n).
// With reference >= 0, sigma is that of x_k - x_reference (the uncertainty against an anchor; pieces other than the
// reference's keep their zero-mean sigma). Rows with sigma <= 0 or non-finite values are ignored; throws
// std::invalid_argument for an index outside 0..n-1 or i == j. Deterministic.
GraphSolution solve_difference_graph(int n, const std::vector<OffsetPair>& rows, int reference = -1);
inline constexpr int kSigmaDraws = 64;

// Relative uncertainty below which the gate never takes a flux-ratio gain between two inputs to be known, however
// many stars measured it: on the real 2MASS M17 tiles (one photometric scale, MAGZP within 0.26 %) both the frame
// routes' star apertures and Phase 4.5's PSF-matched flux ratios measured pair ratios 1-2.2 % off 1 (aperture losses
// and annulus skies differ with seeing and the nebula), which a statistical sigma alone let through as "significant"
// gains. With 1.2 % per pair an input tied by 3-4 pairs needs ~2.5 % to be corrected: the 2MASS gains stay 1 and
// +-5 % jitter is corrected where it exceeds ~2.5 % (below that the offsets still match the sky, and the uncorrected
// gain scales only the signal above it).
inline constexpr double kGainGateFloor = 0.012;

// Solved offsets per input, their uncertainty, and what the gate decided.
struct OffsetSolution {
  std::vector<double> offset;  // applied (0 where gated or unlinked)
  std::vector<double> fitted;  // before the gate
  std::vector<double> sigma;   // 0 for an input without pairs
  std::vector<char> applied;   // offset passed the gate
  int corrected = 0;           // inputs whose offset is applied
  int not_significant = 0;     // linked inputs whose offset the gate left at 0
  int unlinked = 0;            // inputs without any usable pair
};

// Throws std::invalid_argument for a pair index outside 0..n-1 or i == j. significance <= 0 applies every fitted
// offset. Deterministic (serial, fixed order).
OffsetSolution solve_offsets(int n, const std::vector<OffsetPair>& pairs, double significance);

// True when the value x known to sigma differs from `identity` by more than significance x sigma (significance <= 0:
// always). The gate of every correction the matching applies.
bool significant(double x, double identity, double sigma, double significance);

}  // namespace zm
