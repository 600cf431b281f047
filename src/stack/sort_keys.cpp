#include "stack/sort_keys.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <utility>

namespace zm::detail {
namespace {

constexpr double kPad = std::numeric_limits<double>::infinity();

struct Network {
  std::array<std::pair<int, int>, 256> c{};
  int n = 0;
};

// Batcher's odd-even merge sort for the next power of two >= N, keeping only comparators between lanes below N:
// lanes N.. act as +infinity, which no comparator moves down, so the dropped ones are no-ops.
constexpr Network batcher(int N) {
  int size = 1;
  while (size < N) size *= 2;
  Network net;
  for (int p = 1; p < size; p *= 2)
    for (int k = p; k >= 1; k /= 2)
      for (int j = k % p; j + k < size; j += 2 * k)
        for (int i = 0; i < k && i + j + k < size; ++i) {
          const int lo = i + j, hi = i + j + k;
          if (lo / (2 * p) == hi / (2 * p) && hi < N) net.c[net.n++] = {lo, hi};
        }
  return net;
}

template <int N>
inline constexpr Network kNetwork = batcher(N);

template <int N>
void network_sort(double* v) {
  constexpr const Network& net = kNetwork<N>;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    ((void)([&] {
       constexpr int lo = net.c[K].first, hi = net.c[K].second;
       const double a = v[lo], b = v[hi];
       v[lo] = std::min(a, b);
       v[hi] = std::max(a, b);
     }()),
     ...);
  }(std::make_index_sequence<static_cast<std::size_t>(net.n)>{});
}

// Sizes rounded up to a multiple of 4 keep the number of instantiations small; the pad is +infinity.
void small_sort(double* v, int m) {
  const int size = (m + 3) & ~3;
  for (int i = m; i < size; ++i) v[i] = kPad;
  switch (size) {
    case 0: return;
    case 4: return network_sort<4>(v);
    case 8: return network_sort<8>(v);
    case 12: return network_sort<12>(v);
    case 16: return network_sort<16>(v);
    case 20: return network_sort<20>(v);
    case 24: return network_sort<24>(v);
    case 28: return network_sort<28>(v);
    default: return network_sort<32>(v);
  }
}

// Merges two ascending runs from both ends at once: the front takes minima, the back maxima. The two halves are
// independent dependency chains, which hides most of the compare-select latency of a branch-free merge.
// Exhausted runs read as +infinity (front) or -infinity (back).
void merge_runs(const double* a, int na, const double* b, int nb, double* out) {
  constexpr double kNegPad = -std::numeric_limits<double>::infinity();
  const int total = na + nb, front = total / 2;
  int i = 0, j = 0, ia = na - 1, jb = nb - 1;
  for (int k = 0; k < front; ++k) {
    const double x = i < na ? a[i] : kPad, y = j < nb ? b[j] : kPad;
    const bool take_b = y < x;
    out[k] = take_b ? y : x;
    j += take_b;
    i += !take_b;
    const double xb = ia >= 0 ? a[ia] : kNegPad, yb = jb >= 0 ? b[jb] : kNegPad;
    const bool back_a = xb > yb;  // on ties the back takes from b, mirroring the front taking from a
    out[total - 1 - k] = back_a ? xb : yb;
    ia -= back_a;
    jb -= !back_a;
  }
  if (total % 2) {
    const double x = i < na ? a[i] : kPad, y = j < nb ? b[j] : kPad;
    out[front] = y < x ? y : x;
  }
}

}  // namespace

void sort_keys(double* keys, int m, double* tmp) {
  if (m <= kSortRun) return small_sort(keys, m);
  const int cap = sort_capacity(m);
  for (int i = m; i < cap; ++i) keys[i] = kPad;
  for (int r = 0; r < cap; r += kSortRun) network_sort<kSortRun>(keys + r);
  // The pads sort to the end of the last run, so the merges only need the first m keys.
  double* src = keys;
  double* dst = tmp;
  for (int width = kSortRun; width < m; width *= 2) {
    for (int lo = 0; lo < m; lo += 2 * width) {
      const int mid = std::min(lo + width, m), hi = std::min(lo + 2 * width, m);
      merge_runs(src + lo, mid - lo, src + mid, hi - mid, dst + lo);
    }
    std::swap(src, dst);
  }
  if (src != keys) std::copy(src, src + m, keys);
}

}  // namespace zm::detail
