// The branch-free key sort agrees with std::sort for every size, and keys round-trip sample and frame.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "stack/sort_keys.hpp"
#include "stack_test_util.hpp"

namespace zm {
namespace {

using detail::key_frame;
using detail::key_value;
using detail::make_key;

TEST(SortKeys, MatchesStdSortForEverySize) {
  test::Gauss g(5);
  for (int m = 0; m <= 300; ++m) {
    const int cap = detail::sort_capacity(m);
    std::vector<double> keys(cap), tmp(cap);
    for (int i = 0; i < m; ++i) {
      // Every third size has many ties.
      const float x = m % 3 == 0 ? static_cast<float>(g.next_u64() % 5) : static_cast<float>(100.0 * g.normal());
      keys[i] = make_key(x, static_cast<std::uint32_t>(i));
    }
    std::vector<double> expect(keys.begin(), keys.begin() + m);
    std::sort(expect.begin(), expect.end());
    detail::sort_keys(keys.data(), m, tmp.data());
    EXPECT_TRUE(std::equal(expect.begin(), expect.end(), keys.begin())) << m;
  }
}

TEST(SortKeys, KeysOrderByValueAndRoundTrip) {
  const float denorm = std::numeric_limits<float>::denorm_min();
  const float big = std::numeric_limits<float>::max();
  const std::vector<float> values = {3.0f, -0.0f, 0.0f, denorm, -denorm, -big, big, 1.0f, std::nextafter(1.0f, 2.0f),
                                     -1.0f, std::nextafter(-1.0f, -2.0f), 1.0f, -5.5f};
  const std::uint32_t top = (1u << detail::kKeyIndexBits) - 1;
  std::vector<double> keys;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::uint32_t frame = i % 2 ? top - static_cast<std::uint32_t>(i) : static_cast<std::uint32_t>(i);
    keys.push_back(make_key(values[i], frame));
    EXPECT_TRUE(test::same_bits(key_value(keys.back()), values[i])) << i;
    EXPECT_EQ(key_frame(keys.back()), frame) << i;
  }
  keys.resize(static_cast<std::size_t>(detail::sort_capacity(static_cast<int>(values.size()))));
  std::vector<double> tmp(keys.size());
  detail::sort_keys(keys.data(), static_cast<int>(values.size()), tmp.data());
  for (std::size_t i = 1; i < values.size(); ++i) EXPECT_LE(key_value(keys[i - 1]), key_value(keys[i])) << i;
  EXPECT_EQ(key_value(keys[0]), -big);
  EXPECT_EQ(key_value(keys[values.size() - 1]), big);
}

}  // namespace
}  // namespace zm

#include "stack/sorted_stats.hpp"

namespace zm {
namespace {

TEST(SortedStats, MadMatchesBruteForce) {
  test::Gauss g(9);
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = 1 + trial % 70;
    std::vector<float> v(n);
    for (float& x : v) x = trial % 4 == 0 ? static_cast<float>(g.next_u64() % 4) : static_cast<float>(g.normal());
    std::sort(v.begin(), v.end());
    // Centre: the median, or an arbitrary point (also outside the data) for the general contract.
    const double centre = trial % 3 == 0 ? 3.0 * g.normal() : detail::median_sorted(v.data(), n);
    std::vector<double> dev;
    for (float x : v) dev.push_back(std::abs(x - centre));
    std::sort(dev.begin(), dev.end());
    const double expect = n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
    EXPECT_EQ(detail::mad_sorted(v.data(), n, centre), expect) << trial;
  }
}

}  // namespace
}  // namespace zm

#include "stack/normal_quantile.hpp"

namespace zm {
namespace {

// Reference: bisection on erfc to full double precision.
double quantile_by_bisection(double p) {
  double lo = -40.0, hi = 40.0;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

TEST(NormalQuantile, MatchesTheInverseCdfToTheApproximationsAccuracy) {
  std::vector<double> ps;
  for (int e = -12; e <= -1; ++e)
    for (double m : {1.0, 2.5, 5.0, 7.5}) ps.push_back(m * std::pow(10.0, e));
  for (int i = 1; i < 1000; ++i) ps.push_back(i / 1000.0);
  double worst = 0.0;
  for (double p : ps) {
    if (p > 0.5) continue;
    const double z = detail::normal_quantile(p);
    worst = std::max(worst, std::abs(z - quantile_by_bisection(p)) / (std::abs(z) + 1e-3));
    // The upper half mirrors the lower one (checked where 1 - p is still exact enough to mean anything).
    if (p >= 1e-3) {
      EXPECT_NEAR(detail::normal_quantile(1.0 - p), -z, 1e-9 * (std::abs(z) + 1.0)) << p;
    }
  }
  EXPECT_LT(worst, 1.2e-9);
  EXPECT_EQ(detail::normal_quantile(0.5), 0.0);
  EXPECT_NEAR(detail::normal_quantile(0.975), 1.959963984540054, 1e-8);
  EXPECT_TRUE(std::isinf(detail::normal_quantile(0.0)));
  EXPECT_TRUE(std::isnan(detail::normal_quantile(1.5)));
}

}  // namespace
}  // namespace zm
