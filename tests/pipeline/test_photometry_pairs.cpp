// Pair selection for the frame photometry: against a brute-force reference, connectivity, size and speed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>

#include "pipeline/frame_photometry/photometry_pairs.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace {

using Pairs = std::vector<std::pair<int, int>>;

constexpr double kSeestarRadius = 0.73;  // half diagonal of a 1080 x 1920 frame at 2.4 "/px, degrees
constexpr int kMaxChosen = kPhotometryNeighbours + 8 * kPerSector;  // partners a frame picks itself

bool overlaps(const std::vector<SkyCoord>& c, const std::vector<double>& r, int i, int j) {
  return footprints_overlap(c, r, i, j);
}

Pairs all_overlapping(const std::vector<SkyCoord>& c, const std::vector<double>& r) {
  Pairs out;
  for (int i = 0; i < static_cast<int>(c.size()); ++i)
    for (int j = i + 1; j < static_cast<int>(c.size()); ++j)
      if (overlaps(c, r, i, j)) out.emplace_back(i, j);
  return out;
}

std::vector<std::vector<int>> brute_nearest(const std::vector<SkyCoord>& c, const std::vector<double>& r, int k) {
  const int n = static_cast<int>(c.size());
  std::vector<std::vector<int>> out(c.size());
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> cand;
    for (int j = 0; j < n; ++j)
      if (j != i && overlaps(c, r, i, j))
        cand.emplace_back(centre_distance_deg(c[static_cast<std::size_t>(i)], c[static_cast<std::size_t>(j)]), j);
    std::sort(cand.begin(), cand.end());
    for (int m = 0; m < std::min<int>(k, static_cast<int>(cand.size())); ++m)
      out[static_cast<std::size_t>(i)].push_back(cand[static_cast<std::size_t>(m)].second);
  }
  return out;
}

// Reference for sector_overlapping from the spherical bearing: sectors 45 deg wide centred on N, NE, E, ...
std::vector<std::vector<int>> brute_sectors(const std::vector<SkyCoord>& c, const std::vector<double>& r, int m) {
  const int n = static_cast<int>(c.size());
  std::vector<std::vector<int>> out(c.size());
  for (int i = 0; i < n; ++i) {
    std::vector<std::vector<std::pair<double, int>>> sector(8);
    const SkyCoord ci = c[static_cast<std::size_t>(i)];
    for (int j = 0; j < n; ++j) {
      const double d = centre_distance_deg(ci, c[static_cast<std::size_t>(j)]);
      if (j == i || !overlaps(c, r, i, j) || d <= 0.25 * r[static_cast<std::size_t>(i)]) continue;
      const int s = static_cast<int>(std::floor((bearing_deg(ci, c[static_cast<std::size_t>(j)]) + 22.5) / 45.0)) % 8;
      sector[static_cast<std::size_t>(s)].emplace_back(d, j);
    }
    for (auto& v : sector) {
      std::sort(v.begin(), v.end());
      for (int k = 0; k < std::min<int>(m, static_cast<int>(v.size())); ++k)
        out[static_cast<std::size_t>(i)].push_back(v[static_cast<std::size_t>(k)].second);
    }
  }
  return out;
}

int components(int n, const Pairs& pairs) {
  std::vector<int> parent(static_cast<std::size_t>(n));
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int x) {
    while (parent[static_cast<std::size_t>(x)] != x)
      x = parent[static_cast<std::size_t>(x)] = parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(x)])];
    return x;
  };
  for (const auto& [a, b] : pairs) parent[static_cast<std::size_t>(find(a))] = find(b);
  int count = 0;
  for (int i = 0; i < n; ++i) count += find(i) == i ? 1 : 0;
  return count;
}

bool sorted_unique_ordered(const Pairs& p) {
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p[k].first >= p[k].second) return false;
    if (k > 0 && !(p[k - 1] < p[k])) return false;
  }
  return true;
}

// A mosaic grid: rows 0.9 deg apart in Dec, frames 0.9 deg apart on the sky along each row.
void add_grid(std::vector<SkyCoord>& c, std::vector<double>& r, int rows, int cols, double ra0, double dec0) {
  for (int y = 0; y < rows; ++y) {
    const double dec = dec0 + 0.9 * y;
    for (int x = 0; x < cols; ++x) {
      c.push_back({ra0 + 0.9 * x / std::cos(dec * 3.14159265358979323846 / 180.0), dec});
      r.push_back(kSeestarRadius);
    }
  }
}

// `count` dithered frames at one pointing (a few arcmin of dither, as a Seestar session drifts).
void add_pointing(std::vector<SkyCoord>& c, std::vector<double>& r, int count, SkyCoord at, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(-0.05, 0.05);
  for (int k = 0; k < count; ++k) {
    c.push_back({at.ra + d(rng), at.dec + d(rng)});
    r.push_back(kSeestarRadius);
  }
}

void random_field(std::vector<SkyCoord>& c, std::vector<double>& r, int n, unsigned seed, double spread) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> pos(-spread, spread), rad(0.3, 1.2);
  for (int k = 0; k < n; ++k) {
    c.push_back({120.0 + pos(rng), 35.0 + pos(rng)});
    r.push_back(rad(rng));
  }
}

// The sparse selection itself (the all-pairs shortcut for small runs switched off).
Pairs sparse_pairs(const std::vector<SkyCoord>& c, const std::vector<double>& r) {
  return photometry_pairs(c, r, kPhotometryNeighbours, 0);
}

TEST(PhotometryPairs, UpToTheLimitEveryOverlappingPairIsMeasured) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  random_field(c, r, kAllPairsMaxFrames, 5, 3.0);
  const Pairs all = all_overlapping(c, r);
  EXPECT_EQ(photometry_pairs(c, r), all);
  EXPECT_LT(sparse_pairs(c, r).size(), all.size());  // the limit is what chose all pairs
  random_field(c, r, kAllPairsMaxFrames + 1, 5, 3.0);
  EXPECT_EQ(photometry_pairs(c, r), sparse_pairs(c, r));
}

TEST(PhotometryPairs, SmallRunsKeepEveryOverlappingPair) {
  int partial = 0;  // runs where some pair does not overlap: the test must exercise the overlap test too
  for (unsigned seed = 0; seed < 40; ++seed) {
    const int n = 2 + static_cast<int>(seed % 8);  // 2..9 frames: n - 1 <= 8
    std::vector<SkyCoord> c;
    std::vector<double> r;
    random_field(c, r, n, seed, 1.5);
    const Pairs all = all_overlapping(c, r);
    EXPECT_EQ(sparse_pairs(c, r), all) << "seed " << seed;
    partial += static_cast<int>(all.size()) < n * (n - 1) / 2 ? 1 : 0;
  }
  EXPECT_GT(partial, 5);
  // Same with a larger k for a larger run.
  std::vector<SkyCoord> c;
  std::vector<double> r;
  random_field(c, r, 40, 99, 3.0);
  EXPECT_EQ(photometry_pairs(c, r, 39, 0), all_overlapping(c, r));
}

TEST(PhotometryPairs, NearestMatchesBruteForce) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  random_field(c, r, 300, 7, 4.0);
  add_pointing(c, r, 200, {121.0, 36.0}, 8);
  for (int k : {1, 3, 8, 20}) {
    const auto fast = nearest_overlapping(c, r, k);
    EXPECT_EQ(fast, brute_nearest(c, r, k)) << "k " << k;
  }
}

TEST(PhotometryPairs, SectorPicksMatchBruteForce) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  random_field(c, r, 300, 17, 4.0);
  add_pointing(c, r, 100, {119.0, 34.0}, 18);
  add_pointing(c, r, 100, {119.9, 34.5}, 19);
  std::size_t picks = 0;
  for (int m : {1, 2, 3}) {
    const auto fast = sector_overlapping(c, r, m);
    EXPECT_EQ(fast, brute_sectors(c, r, m)) << "per sector " << m;
    for (const auto& v : fast) {
      EXPECT_LE(v.size(), static_cast<std::size_t>(8 * m));
      picks += v.size();
    }
  }
  EXPECT_GT(picks, c.size() * 6);  // the reference is not vacuous
}

TEST(PhotometryPairs, DeepPointingsAreTiedByManyPairs) {
  // A 3x3 mosaic of pointings, 100 dithered frames each: each frame's 8 nearest are dithers of its own pointing,
  // so the pairs between pointings come from the sector picks; every overlapping pair of pointings must get many.
  std::vector<SkyCoord> c;
  std::vector<double> r;
  std::vector<SkyCoord> grid;
  std::vector<double> grid_r;
  add_grid(grid, grid_r, 3, 3, 40.0, 20.0);
  for (std::size_t p = 0; p < grid.size(); ++p) add_pointing(c, r, 100, grid[p], 30 + static_cast<unsigned>(p));
  const int n = static_cast<int>(c.size());
  const Pairs pairs = sparse_pairs(c, r);
  std::vector<int> crossing(81, 0);
  for (const auto& [i, j] : pairs)
    if (i / 100 != j / 100) ++crossing[static_cast<std::size_t>(i / 100 * 9 + j / 100)];
  int tied = 0;
  for (int a = 0; a < 9; ++a)
    for (int b = a + 1; b < 9; ++b) {
      if (!overlaps(grid, grid_r, a, b)) continue;
      ++tied;
      EXPECT_GE(crossing[static_cast<std::size_t>(a * 9 + b)], 100) << "pointings " << a << ", " << b;
    }
  EXPECT_EQ(tied, 20);  // 12 side + 8 diagonal neighbours
  EXPECT_LE(pairs.size(), static_cast<std::size_t>(n * kMaxChosen));
  EXPECT_LT(pairs.size() * 10, all_overlapping(c, r).size());
}

TEST(PhotometryPairs, MosaicGridIsSparseAndConnected) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  add_grid(c, r, 60, 60, 10.0, -10.0);
  const int n = static_cast<int>(c.size());
  const auto t0 = std::chrono::steady_clock::now();
  const Pairs pairs = sparse_pairs(c, r);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("60x60 grid: %zu pairs in %.3f s\n", pairs.size(), seconds);
  const auto chosen = nearest_overlapping(c, r, kPhotometryNeighbours);
  int full = 0;
  for (const auto& v : chosen) {
    EXPECT_LE(v.size(), static_cast<std::size_t>(kPhotometryNeighbours));
    full += v.size() == static_cast<std::size_t>(kPhotometryNeighbours) ? 1 : 0;
  }
  EXPECT_GT(full, n / 2);  // interior frames overlap their 8 grid neighbours
  for (const auto& v : sector_overlapping(c, r)) EXPECT_LE(v.size(), static_cast<std::size_t>(8 * kPerSector));
  EXPECT_TRUE(sorted_unique_ordered(pairs));
  for (const auto& [i, j] : pairs) EXPECT_TRUE(overlaps(c, r, i, j)) << i << "," << j;
  EXPECT_EQ(components(n, pairs), 1);
  EXPECT_LE(pairs.size(), static_cast<std::size_t>(n * kMaxChosen));
  EXPECT_GE(pairs.size(), static_cast<std::size_t>(n - 1));
  EXPECT_LT(seconds, 1.0);
}

TEST(PhotometryPairs, SinglePointingIsSparseAndConnected) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  add_pointing(c, r, 500, {83.8, -5.4}, 1);
  const int n = static_cast<int>(c.size());
  ASSERT_EQ(all_overlapping(c, r).size(), static_cast<std::size_t>(n * (n - 1) / 2));  // all 124750 overlap
  const Pairs pairs = sparse_pairs(c, r);
  for (const auto& v : nearest_overlapping(c, r, kPhotometryNeighbours))
    EXPECT_EQ(v.size(), static_cast<std::size_t>(kPhotometryNeighbours));
  for (const auto& v : sector_overlapping(c, r)) EXPECT_TRUE(v.empty());  // no other pointing: no sector picks
  EXPECT_TRUE(sorted_unique_ordered(pairs));
  EXPECT_EQ(components(n, pairs), 1);
  EXPECT_LE(pairs.size(), static_cast<std::size_t>(n * kPhotometryNeighbours));
  EXPECT_GE(pairs.size(), static_cast<std::size_t>(n * kPhotometryNeighbours / 2));
}

TEST(PhotometryPairs, TenThousandFramesWellUnderASecond) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  add_grid(c, r, 60, 60, 200.0, 10.0);
  add_pointing(c, r, 6400, {c[1830].ra, c[1830].dec}, 3);  // one deep pointing inside the mosaic
  const int n = static_cast<int>(c.size());
  ASSERT_EQ(n, 10000);
  const auto t0 = std::chrono::steady_clock::now();
  const Pairs pairs = sparse_pairs(c, r);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("10000 frames: %zu pairs in %.3f s\n", pairs.size(), seconds);
  EXPECT_EQ(components(n, pairs), 1);
  EXPECT_LE(pairs.size(), static_cast<std::size_t>(n * kMaxChosen));
  EXPECT_LT(seconds, 1.0);
}

// Two tight clusters whose only overlapping pair is (bridge_a, bridge_b); each bridge has 8 nearer partners in
// its own cluster, so the nearest neighbours alone lose that pair.
void two_clusters(std::vector<SkyCoord>& c, std::vector<double>& r, int* bridge_a, int* bridge_b) {
  add_pointing(c, r, 40, {100.0, 0.0}, 11);
  *bridge_a = static_cast<int>(c.size());
  c.push_back({100.55, 0.0});
  add_pointing(c, r, 40, {102.0, 0.0}, 12);
  *bridge_b = static_cast<int>(c.size());
  c.push_back({101.45, 0.0});
  r.assign(c.size(), 0.5);
}

TEST(PhotometryPairs, KeepsTheOnlyPairJoiningTwoClusters) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  int a = 0, b = 0;
  two_clusters(c, r, &a, &b);
  const int n = static_cast<int>(c.size());
  ASSERT_EQ(components(n, all_overlapping(c, r)), 1);
  const auto chosen = nearest_overlapping(c, r, kPhotometryNeighbours);
  Pairs nearest_only;
  for (int i = 0; i < n; ++i)
    for (int j : chosen[static_cast<std::size_t>(i)]) nearest_only.emplace_back(std::min(i, j), std::max(i, j));
  ASSERT_EQ(components(n, nearest_only), 2);  // the nearest neighbours alone split the run
  const Pairs pairs = sparse_pairs(c, r);
  EXPECT_TRUE(std::binary_search(pairs.begin(), pairs.end(), std::make_pair(std::min(a, b), std::max(a, b))));
  EXPECT_EQ(components(n, pairs), 1);
  int crossing = 0;  // cluster A = indices 0..40
  for (const auto& [i, j] : pairs) crossing += (i <= a) != (j <= a) ? 1 : 0;
  EXPECT_EQ(crossing, 1);
}

TEST(PhotometryPairs, ConnectionStepKeepsABridgeThatNoFramePicks) {
  // Radii differ so that each bridge frame has, in the bridge's own direction, two nearer overlapping frames of
  // its own side that do not reach the other side: neither the nearest nor the sector picks hold (a, b).
  std::vector<SkyCoord> c;
  std::vector<double> r;
  add_pointing(c, r, 40, {100.0, 0.0}, 21);
  r.assign(c.size(), 0.3);
  const int a = static_cast<int>(c.size());
  c.push_back({100.5, 0.0}), r.push_back(0.5);
  c.push_back({100.7, 0.05}), r.push_back(0.1);
  c.push_back({100.7, -0.05}), r.push_back(0.1);
  const int b = static_cast<int>(c.size());
  c.push_back({101.4, 0.0}), r.push_back(0.5);
  c.push_back({101.2, 0.05}), r.push_back(0.1);
  c.push_back({101.2, -0.05}), r.push_back(0.1);
  add_pointing(c, r, 40, {101.9, 0.0}, 22);
  r.resize(c.size(), 0.3);
  const int n = static_cast<int>(c.size());
  ASSERT_EQ(components(n, all_overlapping(c, r)), 1);
  Pairs picked;
  for (const auto& chosen : {nearest_overlapping(c, r, kPhotometryNeighbours), sector_overlapping(c, r)})
    for (int i = 0; i < n; ++i)
      for (int j : chosen[static_cast<std::size_t>(i)]) picked.emplace_back(std::min(i, j), std::max(i, j));
  ASSERT_EQ(components(n, picked), 2);
  const Pairs pairs = sparse_pairs(c, r);
  EXPECT_TRUE(std::binary_search(pairs.begin(), pairs.end(), std::make_pair(a, b)));
  EXPECT_EQ(components(n, pairs), 1);
  for (const auto& [i, j] : pairs) EXPECT_TRUE(overlaps(c, r, i, j)) << i << "," << j;
}

TEST(PhotometryPairs, ChainsSeveralClustersAndStopsWhereNothingOverlaps) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  int a = 0, b = 0;
  two_clusters(c, r, &a, &b);
  // A third cluster bridged to the second on the other side, and a fourth far away that overlaps nothing.
  const int a2 = static_cast<int>(c.size());
  c.push_back({102.5, 0.0});
  add_pointing(c, r, 40, {103.9, 0.0}, 13);
  const int b2 = static_cast<int>(c.size());
  c.push_back({103.35, 0.0});
  add_pointing(c, r, 20, {150.0, 30.0}, 14);
  r.assign(c.size(), 0.5);
  const int n = static_cast<int>(c.size());
  ASSERT_EQ(components(n, all_overlapping(c, r)), 2);
  const Pairs pairs = sparse_pairs(c, r);
  EXPECT_TRUE(std::binary_search(pairs.begin(), pairs.end(), std::make_pair(std::min(a, b), std::max(a, b))));
  EXPECT_TRUE(std::binary_search(pairs.begin(), pairs.end(), std::make_pair(std::min(a2, b2), std::max(a2, b2))));
  EXPECT_EQ(components(n, pairs), 2);
  for (const auto& [i, j] : pairs) EXPECT_TRUE(overlaps(c, r, i, j)) << i << "," << j;
}

TEST(PhotometryPairs, EqualDistanceTiesGoToTheLowerIndex) {
  // One frame and 12 frames stacked at one identical centre nearby: all 12 are equally near it, so it must choose
  // the 8 lowest indices among them, wherever it sits in the list.
  for (int self : {0, 5, 12}) {
    std::vector<SkyCoord> c(13, SkyCoord{50.3, 20.1});
    c[static_cast<std::size_t>(self)] = {50.0, 20.0};
    const std::vector<double> r(13, 0.5);
    const auto chosen = nearest_overlapping(c, r, 8);
    std::vector<int> expect;
    for (int j = 0; j < 13 && expect.size() < 8; ++j)
      if (j != self) expect.push_back(j);
    EXPECT_EQ(chosen[static_cast<std::size_t>(self)], expect) << "self " << self;
  }
}

TEST(PhotometryPairs, DeterministicUnderShuffledTies) {
  // A regular lattice (many equal and nearly equal distances), listed in shuffled orders: the result must always
  // equal the brute-force ranking (distance, then index) of that order, and repeat itself exactly.
  std::vector<SkyCoord> base;
  for (int y = 0; y < 15; ++y)
    for (int x = 0; x < 15; ++x)
      for (int dup = 0; dup < 2; ++dup) base.push_back({180.0 + 0.5 * (x - 7), 0.5 * (y - 7)});
  for (unsigned seed = 0; seed < 4; ++seed) {
    std::vector<SkyCoord> c = base;
    std::shuffle(c.begin(), c.end(), std::mt19937(seed));
    const std::vector<double> r(c.size(), 0.6);
    const auto chosen = nearest_overlapping(c, r, 8);
    EXPECT_EQ(chosen, brute_nearest(c, r, 8)) << "seed " << seed;
    const Pairs pairs = sparse_pairs(c, r);
    EXPECT_EQ(pairs, sparse_pairs(c, r));
    EXPECT_EQ(components(static_cast<int>(c.size()), pairs), 1);
  }
}

TEST(PhotometryPairs, UnusableFramesAndBadInput) {
  std::vector<SkyCoord> c{{10.0, 10.0}, {std::nan(""), 10.0}, {10.1, 10.0}};
  const std::vector<double> r(3, 0.5);
  EXPECT_EQ(sparse_pairs(c, r), (Pairs{{0, 2}}));
  EXPECT_TRUE(photometry_pairs({}, {}).empty());
  EXPECT_TRUE(sparse_pairs({}, {}).empty());
  EXPECT_THROW(photometry_pairs(c, {0.5}), std::invalid_argument);
}

}  // namespace
}  // namespace zm

namespace zm {
namespace {

// Three pointings of 30 dithered frames in a row; the selection joins them. Every selected pair between pointings
// fails to measure: relink_pairs must join the pieces again with pairs it had not tried, once per gap.
TEST(RelinkPairs, JoinsPiecesThatFailedPairsCutOff) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  for (int p = 0; p < 3; ++p) add_pointing(c, r, 30, SkyCoord{150.0 + 0.9 * p, 20.0}, 40u + static_cast<unsigned>(p));
  const int n = static_cast<int>(c.size());
  const Pairs tried = sparse_pairs(c, r);
  ASSERT_EQ(components(n, tried), 1);
  const auto piece = [](int i) { return i / 30; };
  Pairs measured;
  for (const auto& [i, j] : tried)
    if (piece(i) == piece(j)) measured.push_back({i, j});
  ASSERT_EQ(components(n, measured), 3);
  int calls = 0;
  const Pairs added = relink_pairs(c, r, measured, tried, [&](int i, int j) {
    ++calls;
    EXPECT_NE(piece(i), piece(j)) << "a pair inside one piece was tried";
    EXPECT_FALSE(std::binary_search(tried.begin(), tried.end(), std::make_pair(i, j))) << "a tried pair again";
    return (i + j) % 3 != 0;  // some fail here too
  });
  Pairs all = measured;
  all.insert(all.end(), added.begin(), added.end());
  EXPECT_EQ(components(n, all), 1);
  EXPECT_EQ(added.size(), 2u);  // one link per gap
  EXPECT_GE(calls, 2);
}

TEST(RelinkPairs, NothingToDoOrNothingLeft) {
  std::vector<SkyCoord> c;
  std::vector<double> r;
  add_pointing(c, r, 20, SkyCoord{150.0, 20.0}, 5u);
  add_pointing(c, r, 20, SkyCoord{150.9, 20.0}, 6u);
  const Pairs tried = sparse_pairs(c, r);
  int calls = 0;
  const auto count = [&](int, int) { return ++calls, true; };
  EXPECT_TRUE(relink_pairs(c, r, tried, tried, count).empty());  // already connected: nothing is measured
  EXPECT_EQ(calls, 0);
  Pairs inside;
  for (const auto& [i, j] : tried)
    if (i / 20 == j / 20) inside.push_back({i, j});
  EXPECT_TRUE(relink_pairs(c, r, inside, tried, [](int, int) { return false; }).empty());  // every try fails
}

}  // namespace
}  // namespace zm
