// Deterministic random samples and comparison helpers for the stacking tests.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

namespace zm::test {

// splitmix64 + Box-Muller: the same numbers on every platform and standard library.
class Gauss {
 public:
  explicit Gauss(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next_u64() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return (static_cast<double>(next_u64() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1)
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double t = 6.283185307179586 * uniform();
    spare_ = r * std::sin(t);
    has_spare_ = true;
    return r * std::cos(t);
  }

 private:
  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// n exact standard-normal quantiles (Blom positions), symmetric about 0: a "perfect" Gaussian stack.
inline double inverse_normal(double p) {
  // Bisection on erfc: slow but exact enough for building fixtures.
  double lo = -10.0, hi = 10.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
inline std::vector<float> normal_quantiles(int n, double mean, double sigma) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    v[i] = static_cast<float>(mean + sigma * inverse_normal((i + 1 - 0.375) / (n + 0.25)));
  return v;
}

inline bool same_bits(float a, float b) { return std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b); }

}  // namespace zm::test
