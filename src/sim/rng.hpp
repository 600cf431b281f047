// Deterministic random streams for the simulator: splitmix64-seeded xoshiro256**, with our own normal (Marsaglia's
// polar form of Box–Muller) and Poisson deviates, so a given (seed, stream key) yields the same numbers on every platform and thread layout.
//
// Why not <random>: std::normal_distribution / std::poisson_distribution are implementation-defined, and a shared
// engine would make results depend on scheduling. Every consumer instead opens its own stream keyed by what it
// renders (seed, domain, frame, row ...), so any subset can be regenerated alone and in any order.
#pragma once

#include <cmath>
#include <cstdint>

namespace zm::sim {

// What a stream is for; part of the key so that streams of different purposes never coincide.
enum class RngDomain : std::uint64_t {
  Stars = 1,
  Nebula = 2,
  FrameGeometry = 3,
  Night = 4,
  Noise = 5,
  HotPixels = 6,
  Trails = 7,
  Selection = 8,
};

// The splitmix64 finaliser: a bijective 64-bit mix with full avalanche.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng(std::uint64_t seed, RngDomain domain, std::uint64_t a = 0, std::uint64_t b = 0);

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias for huge n is irrelevant here).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64);
  }
  // Standard normal deviate (polar Box–Muller, no trigonometry; the second value of each pair is cached).
  double normal() {
    if (has_cached_) {
      has_cached_ = false;
      return cached_normal_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    cached_normal_ = v * f;
    has_cached_ = true;
    return u * f;
  }
  // Poisson deviate: inversion for means below 10, Hörmann's PTRS (transformed rejection) above.
  std::uint64_t poisson(double mean) {
    if (!(mean >= 10.0)) return poisson_small(mean);
    return poisson_ptrs(mean);
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t poisson_small(double mean);
  std::uint64_t poisson_ptrs(double mean);
  std::uint64_t s_[4];
  double cached_normal_ = 0.0;
  bool has_cached_ = false;
};

// ln(k!) exactly enough for the PTRS acceptance test (table below 16, Stirling series above).
double log_factorial(std::uint64_t k);

}  // namespace zm::sim
