// Phase 5 coadd, CPU against GPU, side by side in one process on the same tiles and output grid: wall time of
// coadd_tiles per kernel and method, the ratio, and whether the two mosaics are the same bits.
//
// Setup: cols x rows 3-channel float32 master tiles (default 4 x 3 of 2400 x 1600 px, like stacked Seestar
// tiles), TAN grids rotated by -6..+6 degrees, ~12 % overlap, ALPHA with a ragged no-data margin, COVERAGE
// extensions; the output is a north-up TAN grid covering them (about 8400 x 4300 px by default). The CPU runs on
// every hardware thread, then on 4 (a smaller machine; the GPU path gets the same host threads). Without a usable
// GPU the GPU column says why and the ratio is omitted.
//
// Plain main (one run of each takes seconds). Usage:
//   bench_coadd_gpu [workdir] [tiles_x tiles_y tile_w tile_h]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <thread>
#include <vector>

#include "gpu/device_probe.hpp"
#include "image/image.hpp"
#include "io/fits_header.hpp"
#include "io/fits_writer.hpp"
#include "reproject/coadd.hpp"
#include "wcs/wcs.hpp"

namespace {

using namespace zm;
namespace fs = std::filesystem;

constexpr double kScale = 2.4;  // arcsec / px
const SkyCoord kCentre{210.8, 54.3};
constexpr double kDeg = std::numbers::pi / 180.0;

Wcs tan(SkyCoord c, double rot_deg, int w, int h) {
  const double s = kScale / 3600.0, cr = std::cos(rot_deg * kDeg), sr = std::sin(rot_deg * kDeg);
  return Wcs::make_tan(c, PixelCoord{(w - 1) / 2.0, (h - 1) / 2.0}, {-s * cr, s * sr, s * sr, s * cr}, w, h);
}

// Tangent-plane offsets (px) of a sky position from the centre.
void plane_xy(double ra, double dec, double& x, double& y) {
  x = (ra - kCentre.ra) * std::cos(kCentre.dec * kDeg) * 3600.0 / kScale;
  y = (dec - kCentre.dec) * 3600.0 / kScale;
}

ImageF render(Wcs& w) {
  const int W = w.width(), H = w.height();
  ImageF img(3, W, H);
  std::vector<double> px(W), py(W), ra(W), dec(W);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      px[x] = x;
      py[x] = y;
    }
    w.pixel_to_world(px, py, ra, dec);
    for (int x = 0; x < W; ++x) {
      double u = 0, v = 0;
      plane_xy(ra[x], dec[x], u, v);
      const double gx = std::round(u / 29.0) * 29.0, gy = std::round(v / 31.0) * 31.0;
      const double star = 3000.0 * std::exp(-((u - gx) * (u - gx) + (v - gy) * (v - gy)) / 4.5);
      const double bg = 600.0 + 40.0 * std::sin(u / 300.0) + 25.0 * std::cos(v / 410.0);
      for (int c = 0; c < 3; ++c)
        img.plane(c)[static_cast<std::size_t>(y) * W + x] = static_cast<float>(bg * (1.0 + 0.2 * c) + star);
    }
  }
  return img;
}

std::vector<CoaddInput> make_tiles(const fs::path& dir, int nx, int ny, int tw, int th) {
  std::vector<CoaddInput> tiles;
  const double step_x = tw * 0.88 * kScale / 3600.0, step_y = th * 0.88 * kScale / 3600.0;
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const int k = j * nx + i;
      const double dec = kCentre.dec + (j - (ny - 1) / 2.0) * step_y;
      const double ra = kCentre.ra + (i - (nx - 1) / 2.0) * step_x / std::cos(dec * kDeg);
      Wcs w = tan({ra, dec}, -6.0 + 12.0 * ((k * 7) % 11) / 10.0, tw, th);
      ImageF img = render(w);
      std::vector<std::uint8_t> alpha(static_cast<std::size_t>(tw) * th, 255);
      for (int y = 0; y < th; ++y)
        for (int x = 0; x < tw; ++x)
          if (x < 6 || x + y < 60) alpha[static_cast<std::size_t>(y) * tw + x] = 0;
      FitsHeader h;
      w.write_to_header(h);
      std::vector<FitsExtension> ext;
      ext.push_back(FitsExtension{"ALPHA", tw, th, alpha, {}, {}});
      ext.push_back(FitsExtension{"COVERAGE", tw, th, {}, std::vector<float>(alpha.size(), 10.0f + k), {}});
      const fs::path p = dir / ("tile" + std::to_string(k) + ".fits");
      write_fits_float(p, img, h, ext);
      CoaddInput in{p, w, tw, th, 3};
      in.gain = {1.0f + 0.01f * (k % 3), 1.0f, 0.99f};
      in.offset = {2.0f * (k % 2), -1.0f, 0.5f};
      tiles.push_back(in);
    }
  return tiles;
}

std::vector<char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

struct Timed {
  double seconds = 0;
  CoaddStats stats;
  bool same = false;
};

Timed run(const std::vector<CoaddInput>& tiles, const Wcs& out, const CoaddOptions& o, const fs::path& dir,
          const std::string& tag, const fs::path* reference) {
  const CoaddOutputs outs{dir / (tag + "_img.raw"), dir / (tag + "_w.raw"), dir / (tag + "_c.raw")};
  Timed t;
  const auto t0 = std::chrono::steady_clock::now();
  t.stats = coadd_tiles(tiles, out, out.width(), out.height(), 3, o, outs);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (reference != nullptr)
    t.same = slurp(outs.image) == slurp(*reference) && slurp(outs.coverage) == slurp(dir / "cpu_ref_c.raw");
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir =
      argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / ("zm_bench_gpu_" + std::to_string(getpid()));
  const int nx = argc > 5 ? std::atoi(argv[2]) : 4;
  const int ny = argc > 5 ? std::atoi(argv[3]) : 3;
  const int tw = argc > 5 ? std::atoi(argv[4]) : 2400;
  const int th = argc > 5 ? std::atoi(argv[5]) : 1600;
  fs::create_directories(dir);
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const GpuInfo gpu = probe_gpu();
  std::printf("machine: %d hardware threads; GPU: %s\n", threads,
              gpu.present ? (gpu.name + ", " + std::to_string(gpu.vram_total >> 20) + " MiB").c_str()
                          : ("none (" + gpu.reason + ")").c_str());
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<CoaddInput> tiles = make_tiles(dir, nx, ny, tw, th);
  const int out_w = static_cast<int>(nx * tw * 0.88 + tw * 0.35), out_h = static_cast<int>(ny * th * 0.88 + th * 0.35);
  const Wcs out = tan(kCentre, 0.0, out_w, out_h);
  std::printf("tiles: %d x %d of %d x %d x 3 (made in %.1f s); output %d x %d x 3\n", nx, ny, tw, th,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), out_w, out_h);
  std::printf("%-8s %-9s %-16s %9s %9s %7s %6s %s\n", "threads", "kernel", "method", "cpu_s", "gpu_s", "ratio", "bits",
              "gpu_bands");
  for (int workers : {threads, std::min(threads, 4)}) {
    for (Kernel k : {Kernel::Lanczos3, Kernel::Bilinear}) {
      for (CoaddMethod m : {CoaddMethod::ReprojectCoadd, CoaddMethod::Incremental}) {
        CoaddOptions o;
        o.kernel = k;
        o.method = m;
        o.workers = workers;
        o.scratch_dir = dir / "scratch";
        const Timed cpu = run(tiles, out, o, dir, "cpu_ref", nullptr);
        const fs::path ref = dir / "cpu_ref_img.raw";
        o.use_gpu = true;
        const Timed g = run(tiles, out, o, dir, "gpu", gpu.present ? &ref : nullptr);
        const char* method = m == CoaddMethod::Incremental ? "incremental" : "reproject_coadd";
        if (gpu.present && g.stats.gpu_units > 0)
          std::printf("%-8d %-9s %-16s %9.2f %9.2f %6.1fx %6s %lld\n", workers, std::string(to_string(k)).c_str(),
                      method, cpu.seconds, g.seconds, cpu.seconds / g.seconds, g.same ? "same" : "DIFFER",
                      g.stats.gpu_units);
        else
          std::printf("%-8d %-9s %-16s %9.2f %9s %7s %6s %s\n", workers, std::string(to_string(k)).c_str(), method,
                      cpu.seconds, "-", "-", "-", g.stats.gpu_note.c_str());
        if (g.stats.gpu_units > 0)
          std::printf("         (prepare %.2f s in both; GPU path: load %.2f s, add %.2f s, finish %.2f s)\n",
                      g.stats.prepare_seconds, g.stats.gpu_load_seconds, g.stats.gpu_add_seconds,
                      g.stats.gpu_finish_seconds);
        std::fflush(stdout);
      }
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
