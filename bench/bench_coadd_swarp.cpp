// Phase 5 coadd against SWarp on the same tiles and the same output grid: wall time of coadd_tiles vs `swarp`
// (Debian package `swarp`, binary `swarp` or `SWarp`) per kernel, with a pixel comparison of the two mosaics.
//
// Setup: 6 single-channel float32 tiles of 1000 x 1800 px on TAN grids rotated by -7..+8 degrees, laid out 3 x 2
// with ~15 % overlap, 2.5"/px; the output is a north-up TAN grid covering them. Our tiles carry an ALPHA
// extension (all data); SWarp gets the same pixels as plain FITS plus weight maps equal to our feathered weights
// (-WEIGHT_TYPE MAP_WEIGHT -COMBINE_TYPE WEIGHTED), so both compute the same weighted mean. SWarp runs with
// -SUBTRACT_BACK N -FSCALASTRO_TYPE NONE (no flux rescaling) and -NTHREADS equal to our worker count; its
// intermediate resampled files are part of its normal work and of its time.
//
// Plain main (not Google Benchmark timing loops: one run of each takes seconds). Usage:
//   bench_coadd_swarp [workdir] [workers]      (default: a folder under /tmp, all hardware threads)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "image/image.hpp"
#include "io/fits_header.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_writer.hpp"
#include "reproject/coadd.hpp"
#include "reproject/feather.hpp"
#include "wcs/wcs.hpp"

namespace {

using namespace zm;
namespace fs = std::filesystem;

constexpr int kTileW = 1000;
constexpr int kTileH = 1800;
constexpr double kScale = 2.5;  // arcsec / px
constexpr double kFeather = 128.0;
constexpr double kFloor = 0.02;
const SkyCoord kCentre{150.0, 30.0};
constexpr double kDeg = std::numbers::pi / 180.0;

std::array<double, 4> cd(double rot_deg) {
  const double s = kScale / 3600.0, c = std::cos(rot_deg * kDeg), n = std::sin(rot_deg * kDeg);
  return {-s * c, s * n, s * n, s * c};
}

// Smooth background plus a lattice of Gaussian stars (sigma 2 px), as a function of the sky position.
double sky(double ra, double dec) {
  const double x = (ra - kCentre.ra) * std::cos(kCentre.dec * kDeg) * 3600.0 / kScale;
  const double y = (dec - kCentre.dec) * 3600.0 / kScale;
  double v = 800.0 + 30.0 * std::sin(x / 90.0) + 20.0 * std::cos(y / 130.0 + 0.4);
  const double gx = std::round(x / 37.0) * 37.0, gy = std::round(y / 41.0) * 41.0;
  const double r2 = (x - gx) * (x - gx) + (y - gy) * (y - gy);
  return v + 2000.0 * std::exp(-r2 / 8.0);
}

struct Tile {
  Wcs wcs;
  fs::path ours, swarp;
};

std::optional<std::string> find_swarp() {
  for (const char* name : {"swarp", "SWarp"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return std::string(name);
  }
  return std::nullopt;
}

std::vector<Tile> make_tiles(const fs::path& dir) {
  std::vector<Tile> tiles;
  const double rots[6] = {-7.0, 3.0, 8.0, -2.0, 5.0, -4.5};
  std::vector<std::uint8_t> alpha(static_cast<std::size_t>(kTileW) * kTileH, 255);
  const std::vector<float> weight = feather_weights(alpha, kTileW, kTileH, kFeather, kFloor);
  for (int k = 0; k < 6; ++k) {
    const int i = k % 3, j = k / 3;
    const double dx = (i - 1) * 850.0 * kScale / 3600.0 / std::cos(kCentre.dec * kDeg);
    const double dy = (j - 0.5) * 1530.0 * kScale / 3600.0;
    Wcs w = Wcs::make_tan({kCentre.ra - dx, kCentre.dec + dy}, {(kTileW - 1) / 2.0, (kTileH - 1) / 2.0}, cd(rots[k]),
                          kTileW, kTileH);
    ImageF img(1, kTileW, kTileH);
    std::vector<double> px(kTileW), py(kTileW), ra(kTileW), de(kTileW);
    for (int x = 0; x < kTileW; ++x) px[x] = x;
    for (int y = 0; y < kTileH; ++y) {
      std::fill(py.begin(), py.end(), double(y));
      w.pixel_to_world(px, py, ra, de);
      for (int x = 0; x < kTileW; ++x) img.at(0, y, x) = static_cast<float>(sky(ra[x], de[x]));
    }
    FitsHeader h;
    w.write_to_header(h);
    Tile t{w, dir / ("zm_tile" + std::to_string(k) + ".fits"), dir / ("sw_tile" + std::to_string(k) + ".fits")};
    write_fits_float(t.ours, img, h, std::vector<FitsExtension>{{"ALPHA", kTileW, kTileH, alpha, {}, {}}});
    write_fits_float(t.swarp, img, h);
    ImageF wimg(1, kTileW, kTileH);
    wimg.data = weight;
    write_fits_float(dir / ("sw_tile" + std::to_string(k) + ".weight.fits"), wimg, h);
    tiles.push_back(std::move(t));
  }
  return tiles;
}

// North-up TAN grid covering every tile corner, 4 px margin.
Wcs output_grid(std::vector<Tile>& tiles) {
  Wcs probe = Wcs::make_tan(kCentre, {0.0, 0.0}, cd(0.0), 1, 1);
  double xmin = 1e300, xmax = -1e300, ymin = 1e300, ymax = -1e300;
  for (Tile& t : tiles)
    for (auto [x, y] : {std::pair{-0.5, -0.5}, {kTileW - 0.5, -0.5}, {-0.5, kTileH - 0.5}, {kTileW - 0.5, kTileH - 0.5}}) {
      const auto p = probe.world_to_pixel(t.wcs.pixel_to_world({x, y}));
      xmin = std::min(xmin, p->x), xmax = std::max(xmax, p->x), ymin = std::min(ymin, p->y), ymax = std::max(ymax, p->y);
    }
  const int W = static_cast<int>(std::ceil(xmax - xmin)) + 8, H = static_cast<int>(std::ceil(ymax - ymin)) + 8;
  return Wcs::make_tan(kCentre, {-xmin + 4.0, -ymin + 4.0}, cd(0.0), W, H);
}

void write_swarp_head(const fs::path& path, const Wcs& out) {
  const auto c = out.cd();
  const SkyCoord v = out.crval();
  const PixelCoord p = out.crpix();
  std::ofstream f(path);
  auto card = [&](const std::string& k, const std::string& val) {
    std::string line = k;
    line.resize(8, ' ');
    line += "= ";
    line += val;
    line.resize(80, ' ');
    f << line << "\n";
  };
  auto num = [](double x) {
    char b[40];
    std::snprintf(b, sizeof b, "%.15E", x);
    return std::string(b);
  };
  card("NAXIS1", std::to_string(out.width()));
  card("NAXIS2", std::to_string(out.height()));
  card("EQUINOX", "2000.0");
  card("RADESYS", "'ICRS    '");
  card("CTYPE1", "'RA---TAN'");
  card("CTYPE2", "'DEC--TAN'");
  card("CRVAL1", num(v.ra));
  card("CRVAL2", num(v.dec));
  card("CRPIX1", num(p.x + 1.0));  // FITS is 1-based
  card("CRPIX2", num(p.y + 1.0));
  card("CD1_1", num(c[0]));
  card("CD1_2", num(c[1]));
  card("CD2_1", num(c[2]));
  card("CD2_2", num(c[3]));
  f << std::string("END").append(77, ' ') << "\n";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> read_raw(const fs::path& p, std::size_t n) {
  std::vector<float> v(n);
  std::ifstream in(p, std::ios::binary);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  return v;
}

// Median and 99th percentile of |ours - swarp| / ours over pixels valid in both, at least 3 px inside our footprint.
std::pair<double, double> compare(const std::vector<float>& ours, const std::vector<float>& ours_w,
                                  const std::vector<float>& sw, int W, int H) {
  std::vector<double> d;
  for (int y = 3; y < H - 3; ++y)
    for (int x = 3; x < W - 3; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * W + x;
      if (!(ours_w[i] > 0.1f) || !std::isfinite(sw[i]) || sw[i] == 0.0f) continue;
      d.push_back(std::abs(double(ours[i]) - sw[i]) / std::abs(double(ours[i])));
    }
  if (d.empty()) return {NAN, NAN};
  std::sort(d.begin(), d.end());
  return {d[d.size() / 2], d[d.size() * 99 / 100]};
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / ("zm_bench_coadd_" + std::to_string(::getpid()));
  const int workers = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::optional<std::string> swarp = find_swarp();
  if (!swarp) {
    std::printf("bench_coadd_swarp: SKIPPED - neither `swarp` nor `SWarp` is on the PATH (Debian package `swarp`).\n");
    return 0;
  }
  fs::create_directories(dir);
  std::printf("bench_coadd_swarp: workdir %s, %d worker(s), SWarp binary '%s'\n", dir.c_str(), workers, swarp->c_str());
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Tile> tiles = make_tiles(dir);
  const Wcs out = output_grid(tiles);
  const int W = out.width(), H = out.height();
  std::printf("6 tiles %d x %d (%.1f Mpx in), output %d x %d (%.1f Mpx); tiles written in %.1f s\n", kTileW, kTileH,
              6.0 * kTileW * kTileH / 1e6, W, H, double(W) * H / 1e6, seconds_since(t0));

  std::vector<CoaddInput> inputs;
  for (const Tile& t : tiles) inputs.push_back(CoaddInput{t.ours, t.wcs, kTileW, kTileH, 1});
  write_swarp_head(dir / "sw_coadd.head", out);

  std::printf("\n%-9s %12s %12s %8s %16s %16s\n", "kernel", "ours [s]", "swarp [s]", "ratio", "median |rel d|",
              "p99 |rel d|");
  for (auto [kernel, sw_name] : {std::pair{Kernel::Lanczos3, "LANCZOS3"}, std::pair{Kernel::Bilinear, "BILINEAR"}}) {
    CoaddOptions opt;
    opt.kernel = kernel;
    opt.workers = workers;
    opt.feather_px = kFeather;
    opt.alpha_weight_floor = kFloor;
    opt.scratch_dir = dir / "scratch";
    const CoaddOutputs o{dir / "zm_image.raw", dir / "zm_weight.raw", dir / "zm_cov.raw"};
    t0 = std::chrono::steady_clock::now();
    double prep_end = 0.0, bands_end = 0.0;
    opt.progress = [&](long long done, long long total) {
      if (done == static_cast<long long>(inputs.size())) prep_end = seconds_since(t0);
      if (done == total) bands_end = seconds_since(t0);
    };
    const CoaddStats st = coadd_tiles(inputs, out, W, H, 1, opt, o);
    const double ours = seconds_since(t0);
    std::printf("  (ours: tile preparation %.2f s, %d bands %.2f s, commit %.2f s)\n", prep_end, st.bands,
                bands_end - prep_end, ours - bands_end);

    std::string cmd = "cd '";  // appended piecewise: GCC 12 -O3 gives a false -Wrestrict on "lit" + string
    cmd += dir.string();
    cmd += "' && ";
    cmd += *swarp;
    for (const Tile& t : tiles) {
      cmd += ' ';
      cmd += t.swarp.filename().string();
    }
    cmd += " -IMAGEOUT_NAME sw_coadd.fits -WEIGHTOUT_NAME sw_coadd.weight.fits -RESAMPLING_TYPE ";
    cmd += sw_name;
    cmd += " -COMBINE_TYPE WEIGHTED -WEIGHT_TYPE MAP_WEIGHT -WEIGHT_SUFFIX .weight.fits -SUBTRACT_BACK N"
           " -FSCALASTRO_TYPE NONE -RESAMPLE_DIR . -WRITE_XML N -VERBOSE_TYPE QUIET -COPY_KEYWORDS OBJECT -NTHREADS ";
    cmd += std::to_string(workers);
    t0 = std::chrono::steady_clock::now();
    const int rc = std::system(cmd.c_str());
    const double theirs = seconds_since(t0);
    if (rc != 0) {
      std::printf("%-9s %12.2f   swarp failed (exit %d): %s\n", sw_name, ours, rc, cmd.c_str());
      continue;
    }
    FitsImageReader rd((dir / "sw_coadd.fits").string());
    if (rd.info().width != W || rd.info().height != H) {
      std::printf("%-9s swarp wrote %d x %d instead of %d x %d: the .head file was not used\n", sw_name, rd.info().width,
                  rd.info().height, W, H);
      continue;
    }
    const ImageF sw = rd.read_all(false);
    const auto [med, p99] = compare(read_raw(o.image, std::size_t(W) * H), read_raw(o.weight, std::size_t(W) * H),
                                    sw.data, W, H);
    std::printf("%-9s %12.2f %12.2f %8.2f %16.2e %16.2e\n", sw_name, ours, theirs, theirs / ours, med, p99);
  }
  std::printf("\nratio = swarp time / our time (> 1: we are faster). Both with %d thread(s).\n", workers);
  if (argc <= 1) fs::remove_all(dir);
  return 0;
}
