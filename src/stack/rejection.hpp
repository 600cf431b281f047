// Per-pixel outlier rejection and combination of a stack of n samples (one per frame) into one value.
//
// Input: n < 2^29 samples (NaN/Inf = missing) and optional per-frame weights (null = all 1). A sample is *valid*
// when it is finite and its weight is finite and > 0 (a zero weight removes a frame from mean and median alike).
// The valid samples are sorted (ties broken by frame index, so the order is a pure function of the input) and
// every algorithm works on that sorted list. kappa_low applies below the centre and kappa_high above it, each on
// its own side (ZeMosaic passes kappa_low for both sides of its winsorized call; we do not).
//
// Algorithms (k = number of samples currently kept; a pass that would leave fewer than 2 samples is abandoned
// and the iteration stops, so rejection never empties a pixel; at most max_iterations passes):
// - None: every valid sample is kept.
// - KappaSigma: centre c = median of the kept samples, s = their standard deviation (about the mean, n-1
//   normalisation). Reject x < c - kappa_low*s and x > c + kappa_high*s; repeat until nothing changes. Needs
//   k >= 3. Non-robust s means a single outlier among k equal values is rejected only when sqrt(k) > kappa
//   (k >= 10 at kappa 3); use WinsorizedSigmaClip for small stacks.
// - WinsorizedSigmaClip (PixInsight/Siril style, Huber's winsorisation): starting from m = median,
//   s = 1.4826*MAD, the winsorisation "clip copies of the samples to [m - 1.5s, m + 1.5s], m = mean of the
//   clipped copies, s = 1.134 * their standard deviation" (1.134 undoes the variance lost by clipping a
//   Gaussian at 1.5 sigma) is taken to its fixed point, solved exactly rather than iterated to a 5e-4
//   tolerance (see winsorized_location_impl in rejection.cpp). Then reject ORIGINAL samples outside
//   [m - kappa_low*s, m + kappa_high*s] and repeat on the kept ones. When MAD = 0 (more than half the samples
//   are identical) s = 0: the identical majority is the consensus and every other sample is rejected on its
//   side. Needs k >= 3.
// - LinearFitClip (PixInsight's idea of fitting a line to the sorted stack, made Gaussian-exact): the sorted
//   kept samples are fitted against their expected standard-normal order statistics (Blom scores
//   z_i = Phi^-1((i + 0.625) / (k + 0.25)), i.e. rank through the normal quantile function, so a Gaussian stack
//   is a straight line): least squares over the central ranks (|z| <= 1, all ranks when fewer than 2 are
//   central) gives intercept m and slope s, a robust location and sigma that the extreme ranks, where
//   outliers sit, cannot pull. Reject residuals x_i - (m + s*z_i) below -kappa_low*s and above kappa_high*s,
//   refit on the kept samples (ranks renumbered), repeat. Distances are measured from each sample's expected
//   position, so the natural spread of a large stack's extremes is never clipped (the output noise matches a
//   plain mean) while outliers must exceed that expected extreme by kappa sigmas. Needs k >= 3. With s = 0
//   (identical central samples) every sample off the line is rejected, as in WinsorizedSigmaClip.
//
// Combine: Mean = sum(w*x)/sum(w) over kept samples (double accumulation); Median = median of kept samples
// (mean of the two middle ones for an even count; weights ignored). No valid sample: value NaN, kept 0.
// All statistics are accumulated in double; results depend only on the samples, never on the caller's batching.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace zm {

enum class RejectAlgo { None, KappaSigma, WinsorizedSigmaClip, LinearFitClip };
enum class CombineMethod { Mean, Median };

struct RejectParams {
  RejectAlgo algo = RejectAlgo::WinsorizedSigmaClip;
  float kappa_low = 3.0f;   // below the centre, in sigmas
  float kappa_high = 3.0f;  // above the centre, in sigmas
  int max_iterations = 10;  // rejection passes (the winsorisation rounds inside one pass are capped separately)
  CombineMethod combine = CombineMethod::Mean;
};

// Throws std::invalid_argument for negative/NaN kappas or max_iterations < 1.
void validate(const RejectParams& params);

struct PixelResult {
  float value = 0.0f;     // NaN when no valid sample
  int kept = 0;           // samples that entered the combine
  int rejected_low = 0;   // valid samples rejected below the centre
  int rejected_high = 0;  // valid samples rejected above the centre
};

// Working memory of combine_pixel, reused across pixels so the hot loop never allocates. One per thread.
struct RejectScratch {
  std::vector<double> keys;  // sample and frame index packed for sorting (sort_keys.hpp)
  std::vector<double> sort_tmp;
  std::vector<float> values;        // kept samples, sorted
  std::vector<std::uint32_t> frames;
  std::vector<double> prefix1, prefix2;  // running sums for the winsorisation rounds
  static constexpr int kBlomCacheMax = 256;
  std::vector<std::vector<double>> normal_scores;  // Blom scores per stack size k <= kBlomCacheMax, on first use
  std::vector<double> blom_large;                  // scores for one larger k, recomputed per pass
  void reserve(int n);
  const double* blom_scores(int k);
};

// Combines samples[0..n) (weights[0..n) or null). scratch is grown as needed.
PixelResult combine_pixel(const float* samples, const float* weights, int n, const RejectParams& params,
                          RejectScratch& scratch);

// Convenience form for tests and one-off calls (allocates). weights may be empty (= all 1) or of samples' size.
PixelResult combine_pixel(std::span<const float> samples, std::span<const float> weights,
                          const RejectParams& params);

namespace detail {
struct Location {
  double m = 0.0;
  double s = 0.0;
};
// The winsorised (m, s) of WinsorizedSigmaClip for an ascending array of n >= 2 samples (exposed for tests).
Location winsorized_location(const float* sorted, int n, RejectScratch& scratch);
}  // namespace detail

}  // namespace zm
