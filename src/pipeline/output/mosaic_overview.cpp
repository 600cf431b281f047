#include "pipeline/output/mosaic_overview.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "pipeline/model/frame_cache.hpp"

namespace zm {

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

bool all_finite(const ImageF& im, int x, int y) {
  for (int c = 0; c < im.channels; ++c)
    if (!std::isfinite(im.at(c, y, x))) return false;
  return true;
}
}  // namespace

MosaicOverview build_overview(const MosaicArtifacts& m, int max_side, int band_rows) {
  MosaicOverview ov;
  const int longest = std::max(m.width, m.height);
  ov.factor = std::max(1, (longest + max_side - 1) / std::max(1, max_side));
  const int f = ov.factor;
  const int ow = (m.width + f - 1) / f;
  const int oh = (m.height + f - 1) / f;
  std::vector<double> sum(static_cast<std::size_t>(m.channels) * ow * oh, 0.0);
  std::vector<std::uint32_t> count(sum.size(), 0);
  CachedFrameReader reader(m.image, m.width, m.height, m.channels);
  // Bands aligned on block rows so each overview row is finished within one band.
  const int rows = std::max(f, band_rows / f * f);
  std::vector<float> band;
  for (int y0 = 0; y0 < m.height; y0 += rows) {
    const int n = std::min(rows, m.height - y0);
    band.resize(static_cast<std::size_t>(m.channels) * n * m.width);
    reader.read_rows(y0, n, band);
    for (int c = 0; c < m.channels; ++c)
      for (int r = 0; r < n; ++r) {
        const float* src = band.data() + (static_cast<std::size_t>(c) * n + r) * m.width;
        const std::size_t orow = (static_cast<std::size_t>(c) * oh + (y0 + r) / f) * ow;
        for (int x = 0; x < m.width; ++x)
          if (std::isfinite(src[x])) {
            sum[orow + x / f] += src[x];
            ++count[orow + x / f];
          }
      }
  }
  ov.image = ImageF(m.channels, ow, oh);
  for (std::size_t i = 0; i < sum.size(); ++i)
    ov.image.data[i] = count[i] > 0 ? static_cast<float>(sum[i] / count[i]) : kNaN;
  return ov;
}

ImageF smooth_fill(const ImageF& im, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<double> k(2 * radius + 1);
  for (int i = -radius; i <= radius; ++i) k[i + radius] = std::exp(-0.5 * i * i / (sigma * sigma));
  ImageF out(im.channels, im.width, im.height);
  const int w = im.width, h = im.height;
  std::vector<double> num(static_cast<std::size_t>(w) * h), den(num.size()), tn(num.size()), td(num.size());
  for (int c = 0; c < im.channels; ++c) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double sn = 0, sd = 0;
        for (int d = -radius; d <= radius; ++d) {
          const int xx = x + d;
          if (xx < 0 || xx >= w) continue;
          const float v = im.at(c, y, xx);
          if (!std::isfinite(v)) continue;
          sn += k[d + radius] * v;
          sd += k[d + radius];
        }
        tn[static_cast<std::size_t>(y) * w + x] = sn;
        td[static_cast<std::size_t>(y) * w + x] = sd;
      }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double sn = 0, sd = 0;
        for (int d = -radius; d <= radius; ++d) {
          const int yy = y + d;
          if (yy < 0 || yy >= h) continue;
          sn += k[d + radius] * tn[static_cast<std::size_t>(yy) * w + x];
          sd += k[d + radius] * td[static_cast<std::size_t>(yy) * w + x];
        }
        out.at(c, y, x) = sd > 1e-6 ? static_cast<float>(sn / sd) : kNaN;
      }
  }
  return out;
}

std::vector<float> distance_to_valid(const ImageF& im) {
  const int w = im.width, h = im.height;
  constexpr float kFar = 1e30f;
  std::vector<float> d(static_cast<std::size_t>(w) * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) d[static_cast<std::size_t>(y) * w + x] = all_finite(im, x, y) ? 0.f : kFar;
  auto relax = [&](int x, int y, int dx, int dy, float cost) {
    const int xx = x + dx, yy = y + dy;
    if (xx < 0 || yy < 0 || xx >= w || yy >= h) return;
    float& here = d[static_cast<std::size_t>(y) * w + x];
    here = std::min(here, d[static_cast<std::size_t>(yy) * w + xx] + cost);
  };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      relax(x, y, -1, 0, 1.f);
      relax(x, y, 0, -1, 1.f);
      relax(x, y, -1, -1, 4.f / 3.f);
      relax(x, y, 1, -1, 4.f / 3.f);
    }
  for (int y = h - 1; y >= 0; --y)
    for (int x = w - 1; x >= 0; --x) {
      relax(x, y, 1, 0, 1.f);
      relax(x, y, 0, 1, 1.f);
      relax(x, y, 1, 1, 4.f / 3.f);
      relax(x, y, -1, 1, 4.f / 3.f);
    }
  return d;
}

namespace {
double percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0.0;
  const double pos = std::clamp(p / 100.0, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}
}  // namespace

std::vector<std::uint8_t> stretch_rgba(const ImageF& ov, double p_low, double p_high, double asinh_a) {
  const std::size_t n = static_cast<std::size_t>(ov.width) * ov.height;
  std::vector<std::uint8_t> out(n * 4, 0);
  std::vector<bool> valid(n, true);
  for (int c = 0; c < ov.channels; ++c)
    for (std::size_t i = 0; i < n; ++i) valid[i] = valid[i] && std::isfinite(ov.data[static_cast<std::size_t>(c) * n + i]);
  // Black point per channel just below the sky (neutral background whatever its colour), one white point for all
  // channels so star and nebula colours keep their ratios.
  std::array<double, 3> lo{};
  for (int k = 0; k < 3; ++k) {
    const float* p = ov.data.data() + static_cast<std::size_t>(std::min(k, ov.channels - 1)) * n;
    std::vector<float> v;
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      if (valid[i]) v.push_back(p[i]);
    const double med = percentile(v, 50.0);
    std::vector<float> dev(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) dev[i] = static_cast<float>(std::abs(v[i] - med));
    const double sigma = 1.4826 * percentile(dev, 50.0);
    lo[k] = std::max(percentile(std::move(v), p_low), med - 1.25 * sigma);
  }
  std::vector<float> peak;
  peak.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!valid[i]) continue;
    double m = 0;
    for (int k = 0; k < 3; ++k) m = std::max(m, ov.data[static_cast<std::size_t>(std::min(k, ov.channels - 1)) * n + i] - lo[k]);
    peak.push_back(static_cast<float>(m));
  }
  const double white = std::max(1e-12, percentile(std::move(peak), p_high));
  const double norm = asinh_a > 0 ? std::asinh(asinh_a) : 1.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!valid[i]) continue;
    for (int k = 0; k < 3; ++k) {
      const float x = ov.data[static_cast<std::size_t>(std::min(k, ov.channels - 1)) * n + i];
      const double v = std::clamp((x - lo[k]) / white, 0.0, 1.0);
      const double st = asinh_a > 0 ? std::asinh(asinh_a * v) / norm : v;
      out[i * 4 + k] = static_cast<std::uint8_t>(std::lround(255.0 * st));
    }
    out[i * 4 + 3] = 255;
  }
  return out;
}

}  // namespace zm
