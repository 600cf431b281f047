// Reprojection throughput: warp megapixels/s per core for each kernel (1080 x 1920 RGB TAN-SIP frame onto a
// rotated TAN grid of similar size), and the cost of the adaptive pixel map against exact WCS evaluation.
//
// Arguments: /<kernel 0..3 = nearest, bilinear, bicubic, lanczos3>/<0 = one thread (tbb::global_control), so the
// numbers read "per core"; 1 = every core>. Rates are output pixels (all three channels) per second.
#include <benchmark/benchmark.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "image/image.hpp"
#include "io/fits_header.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "wcs/wcs.hpp"

namespace {

using namespace zm;

constexpr int kW = 1080;
constexpr int kH = 1920;

Wcs input_wcs() {
  FitsHeader hd;
  const double s = 2.4 / 3600.0;
  hd.set("NAXIS", 2LL);
  hd.set("NAXIS1", static_cast<long long>(kW));
  hd.set("NAXIS2", static_cast<long long>(kH));
  hd.set("CTYPE1", std::string("RA---TAN-SIP"));
  hd.set("CTYPE2", std::string("DEC--TAN-SIP"));
  hd.set("CRVAL1", 150.0);
  hd.set("CRVAL2", 30.0);
  hd.set("CRPIX1", (kW + 1) / 2.0);
  hd.set("CRPIX2", (kH + 1) / 2.0);
  hd.set("CD1_1", -s);
  hd.set("CD1_2", 0.0);
  hd.set("CD2_1", 0.0);
  hd.set("CD2_2", s);
  hd.set("A_ORDER", 2LL);
  hd.set("B_ORDER", 2LL);
  hd.set("A_2_0", 2e-6);
  hd.set("A_0_2", -1e-6);
  hd.set("B_1_1", 1.5e-6);
  return Wcs::from_header(hd, "bench", kW, kH);
}

Wcs output_wcs() {
  const double s = 2.5 / 3600.0, a = 12.0 * std::numbers::pi / 180.0;
  return Wcs::make_tan(SkyCoord{150.01, 30.02}, PixelCoord{(kW - 1) / 2.0, (kH - 1) / 2.0},
                       {-s * std::cos(a), s * std::sin(a), s * std::sin(a), s * std::cos(a)}, kW, kH);
}

struct Fixture {
  Wcs in = input_wcs();
  Wcs out = output_wcs();
  ImageF img{3, kW, kH};
  PixelMap map;
  Fixture() {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(100.0f, 2000.0f);
    for (float& v : img.data) v = u(rng);
    const PixelRect all{0, 0, kW, kH};
    map = compute_pixel_map(out, in, all, choose_map_grid(out, in, all));
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

int threads_for(const benchmark::State& state) {
  return state.range(1) == 0 ? 1 : tbb::info::default_concurrency();
}

void BM_Warp(benchmark::State& state) {
  Fixture& f = fixture();
  const Kernel k = static_cast<Kernel>(state.range(0));
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads_for(state));
  for (auto _ : state) {
    WarpedBand w = warp_band(f.img, f.map, k);
    benchmark::DoNotOptimize(w.image.data.data());
  }
  const double px = static_cast<double>(f.map.band.area());
  state.counters["Mpix/s"] = benchmark::Counter(px * state.iterations() / 1e6, benchmark::Counter::kIsRate);
  state.counters["ns/px"] =
      benchmark::Counter(px * state.iterations() / 1e9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.SetLabel(std::string(to_string(k)) + (state.range(1) ? " all threads" : " 1 thread"));
}

void BM_PixelMap(benchmark::State& state) {
  Fixture& f = fixture();
  const bool exact = state.range(0) == 1;
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads_for(state));
  const PixelRect all{0, 0, kW, kH};
  MapGrid grid;
  for (auto _ : state) {
    PixelMapOptions opt;
    opt.mode = exact ? MapMode::Exact : MapMode::Adaptive;
    grid = choose_map_grid(f.out, f.in, all, opt);
    PixelMap m = compute_pixel_map(f.out, f.in, all, grid);
    benchmark::DoNotOptimize(m.x.data());
  }
  const double px = static_cast<double>(all.area());
  state.counters["Mpix/s"] = benchmark::Counter(px * state.iterations() / 1e6, benchmark::Counter::kIsRate);
  state.counters["step"] = grid.step;
  state.counters["max_err_px"] = grid.max_error_px;
  state.SetLabel(std::string(exact ? "exact" : "adaptive") + (state.range(1) ? " all threads" : " 1 thread"));
}

}  // namespace

BENCHMARK(BM_Warp)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PixelMap)->ArgsProduct({{0, 1}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
