// Robust statistics of unordered float samples (NaN/Inf ignored) used to derive normalisation and weights.
#pragma once

#include <span>
#include <vector>

namespace zm {

// Percentile p in [0, 100] with linear interpolation between order statistics (numpy's default), NaN when no
// finite sample.
double percentile(std::span<const float> samples, double p);

// Several percentiles from one copy of the samples (selection, not a full sort). ps must be ascending.
std::vector<double> percentiles(std::span<const float> samples, std::span<const double> ps);

// Robust Gaussian sigma: 1.4826 * MAD, iterated on the samples within kappa sigmas of the median until the kept
// set stops changing or max_iterations passes (astropy's sigma_clipped_stats with a MAD-based sigma).
// NaN when no finite sample; 0 for a constant set.
double sigma_clipped_sigma(std::span<const float> samples, double kappa = 3.0, int max_iterations = 5);

}  // namespace zm
