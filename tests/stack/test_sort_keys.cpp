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
