// Star-list matching: asterism (triangle) hypotheses, exhaustive voting, then iterative refinement with clipping.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "stars/star.hpp"
#include "stars/transform.hpp"

namespace zm {

enum class MatchModel { Similarity, Affine };

struct MatchParams {
  int max_stars = 40;             // brightest stars of each list that form triangles
  int neighbours = 6;             // each star makes triangles with pairs of its nearest neighbours
  double min_side = 5.0;          // px: shorter triangles are too noisy to compare
  double ratio_tolerance = 0.015; // side-ratio match window (each of the two ratios)
  bool allow_flip = true;         // accept mirror-image solutions
  double min_scale = 0.9;         // accepted scale of target -> ref (|det|^0.5)
  double max_scale = 1.1;
  double vote_radius = 3.0;       // px: a star supports a hypothesis when mapped this close to a ref star
  int verify_ref_stars = 120;     // brightest ref stars a hypothesis is checked against
  int min_votes = 6;              // support a hypothesis needs among the brightest target stars
  MatchModel model = MatchModel::Similarity;  // model of the final fit
  int refine_stars = 0;           // stars of each list used in the refinement (0 = all)
  int refine_iterations = 10;
  double clip_sigma = 3.0;        // residual clipping, in robust per-axis sigmas
  double min_match_radius = 0.5;  // px: floor of the association radius once the fit is good
  bool weighted = true;           // weight pairs by their centroid precision (fwhm / snr)
  double position_error_floor = 0.02;  // px added in quadrature to each star's centroid error
  int min_inliers = 8;
  double max_rms = 1.0;           // px: a final fit worse than this is a failure
};

struct StarPair {
  int ref = -1;     // index into the ref list
  int target = -1;  // index into the target list
};

struct MatchResult {
  bool ok = false;
  std::string reason;          // why it failed (empty when ok)
  Affine2D transform;          // maps target pixel coordinates to ref pixel coordinates
  std::vector<StarPair> pairs; // inliers of the final fit, by target index
  double rms = 0.0;            // px, unweighted RMS of the inlier residuals, in the ref frame
  // px, RMS with the fit's weights: dominated by the well-measured stars, so it tracks the quality of the
  // transform rather than the centroid noise of the faintest stars (equal to rms when unweighted).
  double weighted_rms = 0.0;
  int n_inliers = 0;
  int votes = 0;               // support of the best triangle hypothesis
  int hypotheses = 0;          // triangle correspondences tried
};

// Finds the transform target -> ref. Lists need not be sorted (brightness is taken from flux, ties by index);
// non-finite positions are ignored. Deterministic: exhaustive over the candidate triangle pairs, no randomness,
// no threads.
MatchResult match_stars(std::span<const Star> ref, std::span<const Star> target, const MatchParams& params = {});

}  // namespace zm
