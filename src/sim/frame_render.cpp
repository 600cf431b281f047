// Frame rendering: scene preparation, band rendering of the sky, the detector model, and the parallel drivers.
#include "sim/frame_render.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "image/debayer.hpp"
#include "sim/rng.hpp"

namespace zm::sim {
namespace {

constexpr int kBandRows = 64;

double pixel_scale_deg(const Wcs& wcs) {
  const auto cd = wcs.cd();
  return std::sqrt(std::fabs(cd[0] * cd[3] - cd[1] * cd[2]));
}

// Cosine of the largest angle from the frame centre to its corners (-2 when unknown: no culling).
double corner_cos(Wcs& wcs, const Vec3& centre) {
  const double w = wcs.width() - 0.5, h = wcs.height() - 0.5;
  double c_min = 1.0;
  for (const PixelCoord p : {PixelCoord{-0.5, -0.5}, PixelCoord{w, -0.5}, PixelCoord{w, h}, PixelCoord{-0.5, h}}) {
    const SkyCoord s = wcs.pixel_to_world(p);
    if (!std::isfinite(s.ra) || !std::isfinite(s.dec)) return -2.0;
    c_min = std::min(c_min, dot(centre, unit_vector(s)));
  }
  return c_min;
}

template <class F>
void for_each_band(int height, F&& f) {
  const int bands = (height + kBandRows - 1) / kBandRows;
  tbb::parallel_for(tbb::blocked_range<int>(0, bands), [&](const tbb::blocked_range<int>& r) {
    for (int b = r.begin(); b != r.end(); ++b) {
      const int row0 = b * kBandRows;
      f(row0, std::min(kBandRows, height - row0));
    }
  });
}

}  // namespace

std::array<int, 4> grbg_site_channels() {
  std::array<int, 4> ch{};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) ch[y * 2 + x] = cfa_channel(BayerPattern::GRBG, x, y);
  return ch;
}

FrameScene::FrameScene(const SkyModel& sky, const Wcs& wcs_in, double fwhm_px)
    : sky_(&sky), psf_(fwhm_px > 0.0 ? fwhm_px : sky.fwhm_px, sky.moffat_beta), width_(wcs_in.width()),
      height_(wcs_in.height()) {
  Wcs wcs(wcs_in);  // wcslib keeps scratch state: work on our own copy
  // Cull the catalogue to a cone around the frame, then project the survivors in one batch.
  const SkyCoord centre = wcs.pixel_to_world({0.5 * (width_ - 1), 0.5 * (height_ - 1)});
  const Vec3 c = unit_vector(centre);
  const double c_corner = std::isfinite(centre.ra) ? corner_cos(wcs, c) : -2.0;
  double cos_limit = -2.0;
  if (c_corner > -1.5) {
    const double margin = (MoffatPsf::kMaxRadius + 2) * pixel_scale_deg(wcs) * 1.2 * (std::numbers::pi / 180.0);
    const double angle = std::acos(std::clamp(c_corner, -1.0, 1.0)) + margin;
    cos_limit = angle < std::numbers::pi ? std::cos(angle) : -2.0;
  }
  std::vector<const Star*> near;
  std::vector<double> ra, dec;
  for (const Star& s : sky.stars) {
    if (dot(s.dir, c) < cos_limit) continue;
    near.push_back(&s);
    ra.push_back(s.pos.ra);
    dec.push_back(s.pos.dec);
  }
  std::vector<double> px(near.size()), py(near.size());
  if (!near.empty()) wcs.world_to_pixel(ra, dec, px, py);
  for (std::size_t i = 0; i < near.size(); ++i) {
    if (!std::isfinite(px[i]) || !std::isfinite(py[i])) continue;
    const Star& s = *near[i];
    const int r = psf_.stamp_radius(std::max({s.flux[0], s.flux[1], s.flux[2]}));
    if (px[i] < -r - 1 || px[i] > width_ + r || py[i] < -r - 1 || py[i] > height_ + r) continue;
    stars_.push_back({s.id, px[i], py[i], s.flux, r});
  }
  if (sky.nebula.empty()) return;
  // Frame -> truth pixel map at coarse nodes; TAN-to-TAN is so close to affine that bilinear interpolation
  // between nodes 32 px apart is exact to ~1e-5 px.
  map_nx_ = (width_ - 1) / kMapStep + 2;
  map_ny_ = (height_ - 1) / kMapStep + 2;
  map_x_.resize(static_cast<std::size_t>(map_nx_) * map_ny_);
  map_y_.resize(map_x_.size());
  std::vector<double> nx(map_nx_), ny(map_nx_), nra(map_nx_), ndec(map_nx_);
  for (int j = 0; j < map_ny_; ++j) {
    for (int i = 0; i < map_nx_; ++i) {
      nx[i] = static_cast<double>(i) * kMapStep;
      ny[i] = static_cast<double>(j) * kMapStep;
    }
    wcs.pixel_to_world(nx, ny, nra, ndec);
    for (int i = 0; i < map_nx_; ++i) {
      const std::size_t k = static_cast<std::size_t>(j) * map_nx_ + i;
      std::optional<PixelCoord> t;
      if (std::isfinite(nra[i]) && std::isfinite(ndec[i])) t = sky.truth.to_pixel({nra[i], ndec[i]});
      map_x_[k] = t ? t->x : std::nan("");
      map_y_[k] = t ? t->y : std::nan("");
    }
  }
}

void FrameScene::map_row(int y, std::vector<double>& node_x, std::vector<double>& node_y) const {
  const int j = std::min(y / kMapStep, map_ny_ - 2);
  const double t = static_cast<double>(y - j * kMapStep) / kMapStep;
  const double* x0 = map_x_.data() + static_cast<std::size_t>(j) * map_nx_;
  const double* y0 = map_y_.data() + static_cast<std::size_t>(j) * map_nx_;
  for (int i = 0; i < map_nx_; ++i) {
    node_x[i] = x0[i] + t * (x0[i + map_nx_] - x0[i]);
    node_y[i] = y0[i] + t * (y0[i + map_nx_] - y0[i]);
  }
}

// Sink receives (index within band, x, y, per-channel values to add): the RGB and CFA forms differ only there.
template <class Sink>
void FrameScene::add_rows(int row0, int rows, Sink&& sink) const {
  const int w = width_;
  if (map_nx_ > 0) {
    std::vector<double> node_x(map_nx_), node_y(map_nx_);
    for (int r = 0; r < rows; ++r) {
      const int y = row0 + r;
      map_row(y, node_x, node_y);
      for (int x = 0; x < w; ++x) {
        const int i = std::min(x / kMapStep, map_nx_ - 2);
        const double t = static_cast<double>(x - i * kMapStep) / kMapStep;
        const double X = node_x[i] + t * (node_x[i + 1] - node_x[i]);
        const double Y = node_y[i] + t * (node_y[i + 1] - node_y[i]);
        if (!std::isfinite(X) || !std::isfinite(Y)) continue;
        sink.nebula(static_cast<std::size_t>(r) * w + x, x, y, X, Y);
      }
    }
  }
  const int row1 = row0 + rows;
  for (const PlacedStar& s : stars_) {
    const int ya = std::max(row0, static_cast<int>(std::floor(s.y)) - s.radius);
    const int yb = std::min(row1 - 1, static_cast<int>(std::ceil(s.y)) + s.radius);
    if (ya > yb) continue;
    const int xa = std::max(0, static_cast<int>(std::floor(s.x)) - s.radius);
    const int xb = std::min(w - 1, static_cast<int>(std::ceil(s.x)) + s.radius);
    const double r2max = (s.radius + 0.5) * (s.radius + 0.5);
    for (int y = ya; y <= yb; ++y) {
      const double dy = y - s.y;
      for (int x = xa; x <= xb; ++x) {
        const double dx = x - s.x;
        if (dx * dx + dy * dy > r2max) continue;
        sink.star(static_cast<std::size_t>(y - row0) * w + x, x, y, s.flux, psf_.pixel_fraction(dx, dy));
      }
    }
  }
}

void FrameScene::add_rgb_rows(int row0, int rows, float* rgb) const {
  const std::size_t plane = static_cast<std::size_t>(rows) * width_;
  const Nebula& neb = sky_->nebula;
  struct {
    float* out;
    std::size_t plane;
    const Nebula* neb;
    void nebula(std::size_t k, int, int, double X, double Y) {
      float v[3];
      neb->sample_rgb(X, Y, v);
      for (int c = 0; c < 3; ++c) out[c * plane + k] += v[c];
    }
    void star(std::size_t k, int, int, const std::array<double, 3>& f, double p) {
      for (int c = 0; c < 3; ++c) out[c * plane + k] += static_cast<float>(f[c] * p);
    }
  } sink{rgb, plane, &neb};
  add_rows(row0, rows, sink);
}

void FrameScene::add_cfa_rows(const std::array<int, 4>& site_channel, int row0, int rows, float* out) const {
  const Nebula& neb = sky_->nebula;
  struct {
    float* out;
    const std::array<int, 4>* ch;
    const Nebula* neb;
    int site(int x, int y) const { return (*ch)[(y & 1) * 2 + (x & 1)]; }
    void nebula(std::size_t k, int x, int y, double X, double Y) { out[k] += neb->sample(site(x, y), X, Y); }
    void star(std::size_t k, int x, int y, const std::array<double, 3>& f, double p) {
      out[k] += static_cast<float>(f[site(x, y)] * p);
    }
  } sink{out, &site_channel, &neb};
  add_rows(row0, rows, sink);
}

ImageF render_sky_rgb(const SkyModel& sky, const Wcs& wcs, double fwhm_px) {
  const FrameScene scene(sky, wcs, fwhm_px);
  const int w = scene.width(), h = scene.height();
  ImageF img(3, w, h);
  for_each_band(h, [&](int row0, int rows) {
    std::vector<float> band(static_cast<std::size_t>(3) * rows * w, 0.0f);
    scene.add_rgb_rows(row0, rows, band.data());
    for (int c = 0; c < 3; ++c)
      std::copy_n(band.data() + static_cast<std::size_t>(c) * rows * w, static_cast<std::size_t>(rows) * w,
                  img.plane(c) + static_cast<std::size_t>(row0) * w);
  });
  return img;
}

namespace {

void add_trail_rows(const Trail& t, int width, int row0, int rows, float* out) {
  const double len = std::hypot(t.x1 - t.x0, t.y1 - t.y0);
  if (len <= 0.0) return;
  const double dx = (t.x1 - t.x0) / len, dy = (t.y1 - t.y0) / len;
  const double reach = 5.0 * t.sigma_px;
  const double inv2s2 = 0.5 / (t.sigma_px * t.sigma_px);
  for (int r = 0; r < rows; ++r) {
    const int y = row0 + r;
    const double ry = y - t.y0;
    int xa = 0, xb = width - 1;
    if (std::fabs(dy) > 1e-9) {
      // |-(x - x0) dy + ry dx| <= reach  <=>  x in x0 + (ry dx -+ reach) / dy
      double a = t.x0 + (ry * dx - reach) / dy, b = t.x0 + (ry * dx + reach) / dy;
      if (a > b) std::swap(a, b);
      xa = std::max(0, static_cast<int>(std::floor(a)));
      xb = std::min(width - 1, static_cast<int>(std::ceil(b)));
    } else if (std::fabs(ry * dx) > reach) {
      continue;
    }
    for (int x = xa; x <= xb; ++x) {
      const double rx = x - t.x0;
      const double perp = -rx * dy + ry * dx;
      if (std::fabs(perp) > reach) continue;
      if (t.dashed) {
        const double along = rx * dx + ry * dy;
        if (std::fmod(std::fabs(along), t.dash_period_px) >= 0.5 * t.dash_period_px) continue;
      }
      out[static_cast<std::size_t>(r) * width + x] += static_cast<float>(t.peak_adu * std::exp(-perp * perp * inv2s2));
    }
  }
}

// The expected signal S for a band (see the header for the model).
void expected_rows(const FrameInputs& in, const FrameScene& scene, int row0, int rows, float* out) {
  const FramePlan& f = in.frame;
  const int w = f.geometry.width, h = f.geometry.height;
  const auto site = grbg_site_channels();
  std::fill_n(out, static_cast<std::size_t>(rows) * w, 0.0f);
  scene.add_cfa_rows(site, row0, rows, out);
  for (const Trail& t : f.trails) add_trail_rows(t, w, row0, rows, out);
  const double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
  const double inv_corner2 = 1.0 / (cx * cx + cy * cy);
  const double vig = in.config.observing.vignetting;
  const bool same_colour = f.gradient_colour == f.sky_colour;
  for (int r = 0; r < rows; ++r) {
    const int y = row0 + r;
    const double ddy = y - cy;
    float* row = out + static_cast<std::size_t>(r) * w;
    for (int x = 0; x < w; ++x) {
      const double ddx = x - cx;
      const int ch = site[(y & 1) * 2 + (x & 1)];
      const double grad = f.gradient_x * ddx + f.gradient_y * ddy;
      // The sky's colour for the gradient too keeps the bytes of sets made before the gradient had its own colour.
      const double bg = same_colour ? f.sky_colour[ch] * (f.sky_level_adu + grad)
                                    : f.sky_colour[ch] * f.sky_level_adu + f.gradient_colour[ch] * grad;
      const double v = 1.0 - vig * (ddx * ddx + ddy * ddy) * inv_corner2;
      row[x] = static_cast<float>(v * f.transparency * (row[x] + bg));
    }
  }
  const auto& hot = in.hot_pixels;
  auto it = std::lower_bound(hot.begin(), hot.end(), row0, [](const HotPixel& p, int y) { return p.y < y; });
  for (; it != hot.end() && it->y < row0 + rows; ++it)
    if (it->x < w) out[static_cast<std::size_t>(it->y - row0) * w + it->x] += static_cast<float>(it->adu);
}

std::uint16_t to_u16(double adu) {
  if (!(adu > 0.0)) return 0;
  if (adu >= 65535.0) return 65535;
  return static_cast<std::uint16_t>(std::lround(adu));
}

}  // namespace

std::vector<float> render_expected_cfa(const FrameInputs& in) {
  const FrameScene scene(in.sky, in.frame.geometry.to_wcs(), in.frame.fwhm_px);
  const int w = scene.width(), h = scene.height();
  std::vector<float> out(static_cast<std::size_t>(w) * h);
  for_each_band(h, [&](int row0, int rows) {
    expected_rows(in, scene, row0, rows, out.data() + static_cast<std::size_t>(row0) * w);
  });
  return out;
}

std::vector<std::uint16_t> render_raw_frame(const FrameInputs& in) {
  const FrameScene scene(in.sky, in.frame.geometry.to_wcs(), in.frame.fwhm_px);
  const int w = scene.width(), h = scene.height();
  const auto& obs = in.config.observing;
  const double gain = obs.gain_e_per_adu;
  std::vector<std::uint16_t> out(static_cast<std::size_t>(w) * h);
  for_each_band(h, [&](int row0, int rows) {
    std::vector<float> s(static_cast<std::size_t>(rows) * w);
    expected_rows(in, scene, row0, rows, s.data());
    for (int r = 0; r < rows; ++r) {
      const int y = row0 + r;
      const float* src = s.data() + static_cast<std::size_t>(r) * w;
      std::uint16_t* dst = out.data() + static_cast<std::size_t>(y) * w;
      if (!obs.noise) {
        for (int x = 0; x < w; ++x) dst[x] = to_u16(src[x]);
        continue;
      }
      Rng rng(in.config.seed, RngDomain::Noise, static_cast<std::uint64_t>(in.frame.index), static_cast<std::uint64_t>(y));
      for (int x = 0; x < w; ++x) {
        const double electrons = static_cast<double>(rng.poisson(std::max(0.0, src[x] * gain)));
        dst[x] = to_u16((electrons + obs.read_noise_e * rng.normal()) / gain);
      }
    }
  });
  return out;
}

}  // namespace zm::sim
