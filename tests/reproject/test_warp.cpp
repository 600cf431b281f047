// Warping: identity and integer shifts are exact, analytic images (smooth sky, point sources) come out right
// between different TAN / TAN-SIP grids, NaN holes, band and thread invariance, band geometry helpers.
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "reproject/warp.hpp"
#include "reproject_test_util.hpp"

namespace zm {
namespace {

using namespace reproject_test;

constexpr Kernel kAll[] = {Kernel::Nearest, Kernel::Bilinear, Kernel::Bicubic, Kernel::Lanczos3};
const SkyCoord kCentre{150.0, 30.0};

ImageF with_nan_pixels(ImageF img) {
  for (int c = 0; c < img.channels; ++c) {
    img.at(c, 3, 4) = std::numeric_limits<float>::quiet_NaN();
    img.at(c, img.height - 1, img.width / 2) = std::numeric_limits<float>::quiet_NaN();
  }
  return img;
}

TEST(Warp, IdentityIsBitExactForEveryKernel) {
  for (const Wcs& wcs : {tan_wcs(kCentre, 2.5, 17.0, 130, 90), mild_sip(kCentre, 2.5, -5.0, 130, 90)}) {
    const ImageF img = with_nan_pixels(random_image(3, 130, 90, 11));
    for (Kernel k : kAll) {
      const WarpedBand out = warp_whole(wcs, wcs, img, k);
      EXPECT_TRUE(same_bits(out.image.data, img.data)) << to_string(k);
      EXPECT_EQ(out.valid_pixels, 130 * 90 - 2) << to_string(k);
      EXPECT_EQ(out.footprint[3 * 130 + 4], 0);
      EXPECT_EQ(out.footprint[0], 1);
    }
  }
}

void expect_shifted(const ImageF& img, const WarpedBand& out, int sx, int sy, Kernel k) {
  for (int y = 0; y < out.image.height; ++y)
    for (int x = 0; x < out.image.width; ++x) {
      const int ix = x + sx, iy = y + sy;
      const bool inside = ix >= 0 && ix < img.width && iy >= 0 && iy < img.height;
      ASSERT_EQ(out.footprint[static_cast<std::size_t>(y) * out.image.width + x], inside ? 1 : 0)
          << to_string(k) << " " << x << "," << y;
      for (int c = 0; c < img.channels; ++c) {
        if (inside) {
          ASSERT_EQ(out.image.at(c, y, x), img.at(c, iy, ix)) << to_string(k) << " " << x << "," << y;
        } else {
          ASSERT_TRUE(std::isnan(out.image.at(c, y, x)));
        }
      }
    }
}

TEST(Warp, IntegerShiftIsExactForEveryKernel) {
  const ImageF img = random_image(2, 120, 80, 12);
  for (Kernel k : kAll) {
    // Through an affine map...
    const WarpedBand a = warp_band(img, affine_pixel_map(Affine2x3{1, 0, 5, 0, 1, -3}, PixelRect{0, 0, 110, 85}), k);
    expect_shifted(img, a, 5, -3, k);
    // ... and through two WCS that differ by an integer CRPIX shift (a round trip through the sky).
    const Wcs in = tan_wcs(kCentre, 2.5, 25.0, 120, 80);
    const Wcs out = Wcs::make_tan(kCentre, PixelCoord{59.5 - 5.0, 39.5 + 3.0}, cd_matrix(2.5, 25.0), 110, 85);
    expect_shifted(img, warp_whole(out, in, img, k), 5, -3, k);
  }
}

struct ErrorStats {
  double max_abs = 0.0;
  double rms = 0.0;
  long long n = 0;
};

// Output vs the analytic sky over pixels whose source lies at least `margin` px inside the input.
ErrorStats compare_with_sky(const Wcs& out_c, const Wcs& in, const WarpedBand& w, int margin) {
  Wcs out = out_c;
  std::vector<double> ra, dec;
  pixel_sky(out, out.width(), out.height(), ra, dec);
  const PixelMap exact = compute_pixel_map(out, in, PixelRect{0, 0, out.width(), out.height()}, MapGrid{});
  ErrorStats s;
  double sum2 = 0.0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    const double x = exact.x[i], y = exact.y[i];
    if (!(x >= margin && x <= in.width() - 1 - margin && y >= margin && y <= in.height() - 1 - margin)) continue;
    EXPECT_EQ(w.footprint[i], 1);
    const double e = w.image.data[i] - sky_function(ra[i], dec[i]);
    s.max_abs = std::max(s.max_abs, std::fabs(e));
    sum2 += e * e;
    ++s.n;
  }
  s.rms = std::sqrt(sum2 / std::max<long long>(1, s.n));
  return s;
}

// Tolerances on a field of amplitude 35 around 100 with wavelengths of 40 and 60 input pixels.
double max_tolerance(Kernel k) {
  switch (k) {
    case Kernel::Nearest:
      return 3.0;
    case Kernel::Bilinear:
      return 0.1;
    case Kernel::Bicubic:
      return 0.005;
    case Kernel::Lanczos3:
      // Normalised Lanczos-3 lacks linear precision: a ramp comes back shifted by up to 0.02 px (depending on
      // the sub-pixel phase), i.e. an error up to 0.02 x |gradient| = 0.02 x 4.7 here.
      return 0.1;
  }
  return 0.0;
}

TEST(Warp, SmoothSkyMatchesTheAnalyticAnswer) {
  struct Case {
    const char* name;
    Wcs in;
    Wcs out;
  };
  const Case cases[] = {
      {"tan->tan", tan_wcs(kCentre, 2.5, 0.0, 320, 240),
       tan_wcs(SkyCoord{150.012, 30.008}, 2.75, 30.0, 300, 260, 7.3, -4.1)},
      {"sip->tan", mild_sip(kCentre, 2.5, 8.0, 320, 240),
       tan_wcs(SkyCoord{149.995, 30.01}, 2.75, 30.0, 300, 260, -3.3, 5.6)},
  };
  for (const Case& cs : cases) {
    const ImageF img = render_sky(cs.in);
    for (Kernel k : kAll) {
      const WarpedBand w = warp_whole(cs.out, cs.in, img, k);
      const ErrorStats e = compare_with_sky(cs.out, cs.in, w, 4);
      std::printf("[ smooth ] %s %-8s max %.4f rms %.4f over %lld px\n", cs.name, std::string(to_string(k)).c_str(),
                  e.max_abs, e.rms, e.n);
      EXPECT_GT(e.n, 30000);
      EXPECT_LT(e.max_abs, max_tolerance(k)) << cs.name << " " << to_string(k);
    }
  }
}

TEST(Warp, PointSourcesKeepFluxAndCentroid) {
  Wcs in = mild_sip(kCentre, 2.5, 8.0, 320, 240);
  Wcs out = tan_wcs(SkyCoord{150.01, 30.005}, 2.75, 30.0, 300, 260);
  const double sigma = 3.0 / (2.0 * std::sqrt(2.0 * std::log(2.0)));
  const double flux = 1000.0;
  struct Star {
    double x, y;
  };
  std::vector<Star> stars;
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 5; ++i) stars.push_back({30.0 + 62.0 * i + 0.137 * (i + 3 * j), 28.0 + 60.0 * j + 0.291 * i});
  ImageF img(1, 320, 240, 0.0f);
  for (const Star& s : stars) {
    for (int y = static_cast<int>(s.y) - 12; y <= static_cast<int>(s.y) + 12; ++y)
      for (int x = static_cast<int>(s.x) - 12; x <= static_cast<int>(s.x) + 12; ++x) {
        if (x < 0 || y < 0 || x >= 320 || y >= 240) continue;
        const double r2 = (x - s.x) * (x - s.x) + (y - s.y) * (y - s.y);
        const double peak = flux / (2 * std::numbers::pi * sigma * sigma);
        img.at(0, y, x) += static_cast<float>(peak * std::exp(-r2 / (2 * sigma * sigma)));
      }
  }
  WcsPixelTransform out_to_in(out, in);
  for (Kernel k : {Kernel::Lanczos3, Kernel::Bicubic}) {
    const WarpedBand w = warp_whole(out, in, img, k);
    int tested = 0;
    double worst_flux = 0.0, worst_pos = 0.0;
    for (const Star& s : stars) {
      const auto p = out.world_to_pixel(in.pixel_to_world(PixelCoord{s.x, s.y}));
      ASSERT_TRUE(p.has_value());
      const int cx = static_cast<int>(std::lround(p->x)), cy = static_cast<int>(std::lround(p->y));
      const int rad = 9;
      if (cx < rad || cy < rad || cx >= 300 - rad || cy >= 260 - rad) continue;
      double sum = 0.0, sx = 0.0, sy = 0.0;
      for (int y = cy - rad; y <= cy + rad; ++y)
        for (int x = cx - rad; x <= cx + rad; ++x) {
          const double v = w.image.at(0, y, x);
          ASSERT_TRUE(std::isfinite(v));
          sum += v;
          sx += v * x;
          sy += v * y;
        }
      // Surface brightness is conserved, so flux = sum * (input pixels per output pixel) = sum * |det J|.
      const double px[3] = {p->x, p->x + 0.5, p->x}, py[3] = {p->y, p->y, p->y + 0.5};
      double qx[3], qy[3];
      out_to_in.map(px, py, 3, qx, qy);
      const double det = std::fabs((qx[1] - qx[0]) * (qy[2] - qy[0]) - (qx[2] - qx[0]) * (qy[1] - qy[0])) / 0.25;
      const double flux_err = std::fabs(sum * det / flux - 1.0);
      const double pos_err = std::hypot(sx / sum - p->x, sy / sum - p->y);
      worst_flux = std::max(worst_flux, flux_err);
      worst_pos = std::max(worst_pos, pos_err);
      EXPECT_LT(flux_err, 0.01) << to_string(k);
      EXPECT_LT(pos_err, 0.02) << to_string(k);
      ++tested;
    }
    std::printf("[ stars  ] %-8s %d stars: worst flux error %.2e, worst centroid error %.4f px\n",
                std::string(to_string(k)).c_str(), tested, worst_flux, worst_pos);
    EXPECT_GE(tested, 10);
  }
}

TEST(Warp, NaNHolesShrinkTheFootprintByTheKernelReach) {
  ImageF img(1, 100, 80, 10.0f);
  img.at(0, 40, 50) = std::numeric_limits<float>::quiet_NaN();
  // Half-pixel shift in x: Lanczos-3 at x + 0.5 reads columns x-2 .. x+3.
  const WarpedBand w = warp_band(img, affine_pixel_map(Affine2x3{1, 0, 0.5, 0, 1, 0}, PixelRect{0, 0, 100, 80}),
                                 Kernel::Lanczos3);
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 100; ++x) {
      const bool hole = (y == 40 && x >= 47 && x <= 52);
      // x = 99 maps to 99.5, still on the image edge, so only the hole is invalid.
      const std::uint8_t fp = w.footprint[static_cast<std::size_t>(y) * 100 + x];
      ASSERT_EQ(fp, hole ? 0 : 1) << x << "," << y;
      if (fp) ASSERT_FLOAT_EQ(w.image.at(0, y, x), 10.0f);
      else ASSERT_TRUE(std::isnan(w.image.at(0, y, x)));
    }
  EXPECT_EQ(w.valid_pixels, 100 * 80 - 6);
}

ImageF copy_rows(const ImageF& img, RowRange r) {
  ImageF out(img.channels, img.width, r.count());
  for (int c = 0; c < img.channels; ++c)
    for (int y = 0; y < r.count(); ++y)
      std::copy_n(img.plane(c) + static_cast<std::size_t>(r.begin + y) * img.width, img.width, &out.at(c, y, 0));
  return out;
}

TEST(Warp, BandSplitAndThreadCountDoNotChangeABit) {
  const Wcs in = mild_sip(kCentre, 2.5, 10.0, 260, 200);
  const Wcs out = tan_wcs(SkyCoord{150.01, 30.004}, 2.7, 33.0, 240, 190);
  const ImageF img = with_nan_pixels(render_sky(in, 3));
  const PixelRect all{0, 0, 240, 190};
  const MapGrid g = choose_map_grid(out, in, all);
  for (Kernel k : {Kernel::Bilinear, Kernel::Lanczos3}) {
    WarpedBand one, four;
    {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
      one = warp_band(img, compute_pixel_map(out, in, all, g), k);
    }
    {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 4);
      four = warp_band(img, compute_pixel_map(out, in, all, g), k);
    }
    EXPECT_TRUE(same_bits(one.image.data, four.image.data)) << to_string(k);
    EXPECT_EQ(one.footprint, four.footprint);
    EXPECT_GT(one.valid_pixels, 20000);

    for (int band_rows : {1, 7, 64}) {
      for (int y0 = 0; y0 < 190; y0 += band_rows) {
        const int rows = std::min(band_rows, 190 - y0);
        const PixelMap map = compute_pixel_map(out, in, PixelRect{0, y0, 240, rows}, g);
        const RowRange need = input_rows_needed(map, k, in.width(), in.height());
        const ImageF part_in = copy_rows(img, need.empty() ? RowRange{0, 1} : need);
        const WarpedBand part = warp_band(InputBand{&part_in, need.empty() ? 0 : need.begin, in.height()}, map, k);
        for (int c = 0; c < 3; ++c)
          for (int r = 0; r < rows; ++r)
            ASSERT_EQ(std::memcmp(part.image.plane(c) + r * 240, one.image.plane(c) + (y0 + r) * 240,
                                  240 * sizeof(float)),
                      0)
                << to_string(k) << " band " << band_rows << " at row " << y0 + r;
        ASSERT_TRUE(std::equal(part.footprint.begin(), part.footprint.end(),
                               one.footprint.begin() + static_cast<std::ptrdiff_t>(y0) * 240));
      }
    }
  }
}

TEST(Warp, InputRowsNeededCoverTheKernelAndMissingRowsThrow) {
  const ImageF img = random_image(1, 50, 60, 13);
  // Rows 20.5 .. 30.5 of the input.
  const PixelMap map = affine_pixel_map(Affine2x3{1, 0, 0.25, 0, 1, 20.5}, PixelRect{0, 0, 50, 11});
  EXPECT_EQ(input_rows_needed(map, Kernel::Nearest, 50, 60).begin, 20);
  EXPECT_EQ(input_rows_needed(map, Kernel::Bilinear, 50, 60).end, 32);
  const RowRange lz = input_rows_needed(map, Kernel::Lanczos3, 50, 60);
  EXPECT_EQ(lz.begin, 18);
  EXPECT_EQ(lz.end, 34);
  // Clipped at the image edges; nothing when the whole band falls outside.
  EXPECT_EQ(input_rows_needed(affine_pixel_map(Affine2x3{1, 0, 0, 0, 1, -0.3}, PixelRect{0, 0, 50, 3}),
                              Kernel::Lanczos3, 50, 60)
                .begin,
            0);
  EXPECT_TRUE(input_rows_needed(affine_pixel_map(Affine2x3{1, 0, 0, 0, 1, 70}, PixelRect{0, 0, 50, 3}),
                                Kernel::Lanczos3, 50, 60)
                  .empty());
  const ImageF ok = copy_rows(img, lz);
  EXPECT_NO_THROW(warp_band(InputBand{&ok, lz.begin, 60}, map, Kernel::Lanczos3));
  const ImageF short_band = copy_rows(img, RowRange{lz.begin + 1, lz.end});
  EXPECT_THROW(warp_band(InputBand{&short_band, lz.begin + 1, 60}, map, Kernel::Lanczos3), std::invalid_argument);
}

TEST(Warp, OutputBoundingBoxHoldsTheFootprintTightly) {
  const Wcs in = tan_wcs(kCentre, 2.5, 0.0, 300, 200);
  const Wcs canvas = tan_wcs(SkyCoord{150.03, 30.01}, 2.5, 40.0, 700, 600);
  const ImageF ones(1, 300, 200, 1.0f);
  const WarpedBand full = warp_whole(canvas, in, ones, Kernel::Nearest);
  int fx0 = 1 << 30, fx1 = -1, fy0 = 1 << 30, fy1 = -1;
  for (int y = 0; y < 600; ++y)
    for (int x = 0; x < 700; ++x)
      if (full.footprint[static_cast<std::size_t>(y) * 700 + x]) {
        fx0 = std::min(fx0, x);
        fx1 = std::max(fx1, x);
        fy0 = std::min(fy0, y);
        fy1 = std::max(fy1, y);
      }
  ASSERT_GE(fx1, 0);
  const PixelRect bb = output_bbox(in, canvas, 2);
  EXPECT_LE(bb.x0, fx0);
  EXPECT_LE(bb.y0, fy0);
  EXPECT_GE(bb.x0 + bb.cols - 1, fx1);
  EXPECT_GE(bb.y0 + bb.rows - 1, fy1);
  EXPECT_GE(bb.x0, fx0 - 3);
  EXPECT_GE(bb.y0, fy0 - 3);
  EXPECT_LE(bb.x0 + bb.cols - 1, fx1 + 3);
  EXPECT_LE(bb.y0 + bb.rows - 1, fy1 + 3);
  // Warping only the box yields every pixel the full canvas had.
  const MapGrid g = choose_map_grid(canvas, in, bb);
  const WarpedBand boxed = warp_band(ones, compute_pixel_map(canvas, in, bb, g), Kernel::Nearest);
  EXPECT_EQ(boxed.valid_pixels, full.valid_pixels);
  // Off the canvas: empty; half on: clipped.
  EXPECT_TRUE(output_bbox(tan_wcs(SkyCoord{151.0, 30.0}, 2.5, 0.0, 300, 200), canvas).empty());
  const PixelRect half = output_bbox(tan_wcs(SkyCoord{149.78, 30.0}, 2.5, 0.0, 300, 200), canvas);
  EXPECT_FALSE(half.empty());
  EXPECT_GE(half.x0, 0);
  EXPECT_LE(half.x0 + half.cols, 700);
  EXPECT_LE(half.y0 + half.rows, 600);
}

}  // namespace
}  // namespace zm
