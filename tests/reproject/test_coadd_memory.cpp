// The coadd's own price (coadd_item_price / coadd_footprint, what the Phase 5 plan is given) against what the coadd
// really allocates: this executable counts every operator new, so the heap bytes live at once during a coadd are
// measured, and they must stay within the price while not being grossly below it.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "io/fits_writer.hpp"
#include "reproject/coadd.hpp"
#include "reproject_test_util.hpp"
#include "test_support.hpp"

namespace {

std::atomic<long long> g_live{0};
std::atomic<long long> g_peak{0};

void note_alloc(void* p) {
  if (p == nullptr) return;
  const long long now = g_live.fetch_add(static_cast<long long>(malloc_usable_size(p))) +
                        static_cast<long long>(malloc_usable_size(p));
  long long peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n > 0 ? n : 1);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}

void* counted_aligned_alloc(std::size_t n, std::align_val_t al) {
  const std::size_t a = static_cast<std::size_t>(al);
  void* p = std::aligned_alloc(a, ((n > 0 ? n : 1) + a - 1) / a * a);
  if (p == nullptr) throw std::bad_alloc();
  note_alloc(p);
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_live.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
  std::free(p);
}

// Heap bytes allocated at once between start() and peak(), above what was live at start().
struct HeapWindow {
  long long base = 0;
  void start() {
    base = g_live.load();
    g_peak.store(base);
  }
  std::uint64_t peak() const { return static_cast<std::uint64_t>(std::max(0LL, g_peak.load() - base)); }
};

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_aligned_alloc(n, a); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }

namespace {

using namespace zm;
using zm::reproject_test::tan_wcs;
namespace fs = std::filesystem;

const SkyCoord kCentre{150.0, 30.0};
constexpr double kScale = 2.5;
// Allocations the price leaves out on purpose: per-thread row buffers of the accumulation loop, transform clones,
// threads, node grids (a few hundred KB at most for these sizes).
constexpr std::uint64_t kSlack = 1u << 20;

// One tile wider than the canvas (so every band row is a full-width pixel map), with COVERAGE.
CoaddInput write_wide_tile(const fs::path& dir, const Wcs& tile) {
  const fs::path p = dir / "wide.fits";
  const ImageF img = reproject_test::random_image(3, 980, 360, 5);
  FitsHeader h;
  tile.write_to_header(h);
  const std::size_t px = 980u * 360u;
  std::vector<FitsExtension> ext;
  ext.push_back(FitsExtension{"ALPHA", 980, 360, std::vector<std::uint8_t>(px, 255), {}, {}});
  ext.push_back(FitsExtension{"COVERAGE", 980, 360, {}, std::vector<float>(px, 4.0f), {}});
  write_fits_float(p, img, h, ext);
  return CoaddInput{p, tile, 980, 360, 3};
}

struct WideTile {
  Wcs out = tan_wcs(kCentre, kScale, 0.0, 900, 300);
  Wcs tile = tan_wcs(kCentre, kScale, 4.0, 980, 360);
  CoaddInput input;
  explicit WideTile(const fs::path& dir) : input(write_wide_tile(dir, tile)) {}
};

struct Measured {
  std::uint64_t peak = 0;
  CoaddStats stats;
};

Measured measure(const WideTile& t, const fs::path& dir, const CoaddOptions& base) {
  CoaddOptions o = base;
  o.scratch_dir = dir / "scratch";
  const CoaddOutputs out{dir / "image.raw", dir / "weight.raw", dir / "cov.raw"};
  const std::vector<CoaddInput> tiles = {t.input};
  HeapWindow w;
  w.start();
  Measured m;
  m.stats = coadd_tiles(tiles, t.out, t.out.width(), t.out.height(), 3, o, out);
  m.peak = w.peak();
  return m;
}

TEST(CoaddPrice, OneBandAllocatesWhatThePriceSays) {
  test::TempDir dir{"coadd_price"};
  const WideTile t(dir.path());
  const int W = t.out.width();
  const int rows = 100;
  const CoaddItemPrice price = coadd_item_price(CoaddMethod::ReprojectCoadd, W, 3, 980, 360);
  EXPECT_EQ(price.bytes(rows), coadd_footprint(CoaddMethod::ReprojectCoadd, W, rows, 3, 980, 360));
  EXPECT_EQ(price.row_bytes, static_cast<std::uint64_t>(W) * (5 * 8 + 16 + 5 * 4));
  EXPECT_EQ(price.fixed_bytes, 980u * 360u * 5 * 4);
  EXPECT_NE(price.formula.find("coadd band row"), std::string::npos);

  CoaddOptions o;
  o.band_rows = rows;
  o.workers = 1;  // one band in flight
  const Measured m = measure(t, dir.path(), o);
  ASSERT_FALSE(m.stats.cancelled);
  ASSERT_EQ(m.stats.bands, 3);
  std::cout << "ReprojectCoadd: measured " << m.peak << " B, priced " << price.bytes(rows) << " B\n";
  EXPECT_LE(m.peak, price.bytes(rows) + kSlack);
  // What is certainly live at once is really allocated: the accumulators with the normalised rows, and the
  // accumulators with a full-width pixel map (then beside a tile's rows, which the price bounds by the whole tile).
  const std::uint64_t px = static_cast<std::uint64_t>(W) * rows;
  EXPECT_GE(m.peak, px * (5 * 8 + 5 * 4));
  EXPECT_GE(m.peak, px * (5 * 8 + 16));
  EXPECT_LE(m.peak - px * (5 * 8 + 16), price.fixed_bytes + kSlack);
}

TEST(CoaddPrice, BandsInFlightStayWithinThePlannedPeak) {
  test::TempDir dir{"coadd_price2"};
  const WideTile t(dir.path());
  CoaddOptions o;
  o.band_rows = 64;
  o.workers = 2;
  const Measured m = measure(t, dir.path(), o);
  ASSERT_FALSE(m.stats.cancelled);
  std::cout << "ReprojectCoadd x2: measured " << m.peak << " B, planned " << m.stats.peak_bytes_estimate << " B\n";
  EXPECT_LE(m.peak, m.stats.peak_bytes_estimate + kSlack);
  EXPECT_EQ(m.stats.peak_bytes_estimate,
            2 * coadd_footprint(CoaddMethod::ReprojectCoadd, t.out.width(), 64, 3, 980, 360));
}

TEST(CoaddPrice, IncrementalChunksAllocateWhatThePriceSays) {
  test::TempDir dir{"coadd_price3"};
  const WideTile t(dir.path());
  const int rows = 64;
  const CoaddItemPrice price = coadd_item_price(CoaddMethod::Incremental, t.out.width(), 3, 980, 360);
  EXPECT_EQ(price.bytes(rows), coadd_footprint(CoaddMethod::Incremental, t.out.width(), rows, 3, 980, 360));
  CoaddOptions o;
  o.method = CoaddMethod::Incremental;
  o.band_rows = rows;
  o.workers = 1;
  const Measured m = measure(t, dir.path(), o);
  ASSERT_FALSE(m.stats.cancelled);
  std::cout << "Incremental: measured " << m.peak << " B, priced " << price.bytes(rows) << " B\n";
  EXPECT_LE(m.peak, price.bytes(rows) + kSlack);
  EXPECT_GE(m.peak, price.bytes(rows) / 2);
}

}  // namespace
