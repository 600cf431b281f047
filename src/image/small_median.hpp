// Branch-free median of a small fixed-size float array: a sorting network pruned to the comparators the middle
// element depends on, unrolled at compile time. Much faster than std::nth_element, whose branches on random
// data mispredict about half the time.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace zm::detail {

struct ComparatorList {
  std::array<std::pair<int, int>, 256> c{};
  int n = 0;
};

// Batcher's odd-even merge sort on the next power of two >= N, keeping the comparators that only touch lanes
// below N: the missing lanes act as +infinity, which no comparator ever moves down, so the others are no-ops.
// Then a backward pass keeps only comparators whose outputs feed lane `target`.
constexpr ComparatorList selection_network(int N, int target) {
  int size = 1;
  while (size < N) size *= 2;
  ComparatorList all;
  for (int p = 1; p < size; p *= 2) {
    for (int k = p; k >= 1; k /= 2) {
      for (int j = k % p; j + k < size; j += 2 * k) {
        for (int i = 0; i < k && i + j + k < size; ++i) {
          const int lo = i + j, hi = i + j + k;
          if (lo / (2 * p) == hi / (2 * p) && hi < N) all.c[all.n++] = {lo, hi};
        }
      }
    }
  }
  std::array<bool, 64> needed{};
  needed[target] = true;
  ComparatorList kept;
  std::array<std::pair<int, int>, 256> reversed{};
  for (int k = all.n - 1; k >= 0; --k) {
    const auto [lo, hi] = all.c[k];
    if (!needed[lo] && !needed[hi]) continue;
    needed[lo] = needed[hi] = true;
    reversed[kept.n++] = all.c[k];
  }
  for (int k = 0; k < kept.n; ++k) kept.c[k] = reversed[kept.n - 1 - k];
  return kept;
}

template <int N>
inline constexpr ComparatorList kMedianNetwork = selection_network(N, N / 2);

// Element N/2 of v in sorted order (the upper median for even N); scrambles v.
template <int N>
inline float median_network(float* v) {
  static_assert(N >= 1 && N <= 64);
  constexpr const ComparatorList& net = kMedianNetwork<N>;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((void)([&] {
       constexpr int lo = net.c[K].first, hi = net.c[K].second;
       const float a = v[lo], b = v[hi];
       v[lo] = std::min(a, b);
       v[hi] = std::max(a, b);
     }()),
     ...);
  }(std::make_index_sequence<static_cast<std::size_t>(net.n)>{});
  return v[N / 2];
}

}  // namespace zm::detail
