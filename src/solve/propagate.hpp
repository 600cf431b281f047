// Relative solving: a frame's WCS from a solved frame of the same group, by star matching and WCS composition.
#pragma once

#include <span>
#include <string>

#include "io/fits_header.hpp"
#include "stars/match.hpp"
#include "stars/star.hpp"

namespace zm {

struct PropagationParams {
  double max_rms_px = 0.3;  // weighted RMS of the matched stars a propagated WCS must beat
  int min_matches = 12;
  MatchParams match = default_match();

  static MatchParams default_match() {
    MatchParams m;
    m.model = MatchModel::Affine;
    m.allow_flip = true;
    m.min_scale = 0.97;  // same camera: only a small scale change is physical
    m.max_scale = 1.03;
    m.max_stars = 40;
    m.max_rms = 1.0;
    return m;
  }
};

struct Propagation {
  bool ok = false;
  std::string reason;
  FitsHeader wcs;               // the target's WCS cards when ok
  double rms_px = 0.0;          // unweighted RMS of the matched stars
  double weighted_rms_px = 0.0;
  int matches = 0;
};

// Matches target stars to ref stars (any rotation, flips), fits an affine target -> ref, composes it with
// `ref_wcs` (keeping SIP), and verifies the fit. Deterministic.
Propagation propagate_wcs(std::span<const Star> ref_stars, const FitsHeader& ref_wcs,
                          std::span<const Star> target_stars, int width, int height,
                          const PropagationParams& params = {});

}  // namespace zm
