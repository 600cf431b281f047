// Stream construction and the non-uniform deviates of Rng.
#include "sim/rng.hpp"

#include <array>
#include <numbers>

namespace zm::sim {

Rng::Rng(std::uint64_t seed, RngDomain domain, std::uint64_t a, std::uint64_t b) {
  // Chain the key parts through the mixer so that (a, b) and (b, a) give unrelated streams.
  std::uint64_t z = mix64(seed);
  z = mix64(z ^ static_cast<std::uint64_t>(domain));
  z = mix64(z ^ a);
  z = mix64(z ^ (b + 0x632be59bd9b4e019ULL));
  for (auto& s : s_) {
    z += 0x9e3779b97f4a7c15ULL;
    s = mix64(z);
  }
}

double log_factorial(std::uint64_t k) {
  static constexpr std::array<double, 16> kTable = {
      0.0,
      0.0,
      0.69314718055994531,
      1.79175946922805500,
      3.17805383034794562,
      4.78749174278204599,
      6.57925121201010100,
      8.52516136106541430,
      10.60460290274525023,
      12.80182748008146961,
      15.10441257307551530,
      17.50230784587388584,
      19.98721449566188615,
      22.55216385312342289,
      25.19122118273868150,
      27.89927138384089157,
  };
  if (k < kTable.size()) return kTable[k];
  const double n = static_cast<double>(k);
  const double inv = 1.0 / n;
  const double inv2 = inv * inv;
  return n * std::log(n) - n + 0.5 * std::log(2.0 * std::numbers::pi * n) +
         inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0));
}

std::uint64_t Rng::poisson_small(double mean) {
  if (!(mean > 0.0)) return 0;
  // Inversion: one uniform, walk the CDF.
  double p = std::exp(-mean);
  double cdf = p;
  const double u = uniform();
  std::uint64_t k = 0;
  while (u > cdf && k < 1000) {
    ++k;
    p *= mean / static_cast<double>(k);
    cdf += p;
  }
  return k;
}

// PTRS, W. Hörmann, "The transformed rejection method for generating Poisson random variables",
// Insurance: Mathematics and Economics 12 (1993); ~87 % of draws take the fast acceptance branch.
std::uint64_t Rng::poisson_ptrs(double mean) {
  const double smu = std::sqrt(mean);
  const double b = 0.931 + 2.53 * smu;
  const double a = -0.059 + 0.02483 * b;
  const double vr = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    const double kf = std::floor((2.0 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(kf);
    if (kf < 0.0 || (us < 0.013 && v > us)) continue;
    const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    const auto k = static_cast<std::uint64_t>(kf);
    if (std::log(v * inv_alpha / (a / (us * us) + b)) <= -mean + kf * std::log(mean) - log_factorial(k)) return k;
  }
}

}  // namespace zm::sim
