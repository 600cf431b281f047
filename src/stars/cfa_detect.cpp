#include "stars/cfa_detect.hpp"

#include <algorithm>

namespace zm {

void bin2x2_luminance(const float* cfa, int width, int height, float* out) {
  const int bw = width / 2, bh = height / 2;
  for (int j = 0; j < bh; ++j) {
    const float* r0 = cfa + static_cast<std::size_t>(2 * j) * width;
    const float* r1 = r0 + width;
    float* dst = out + static_cast<std::size_t>(j) * bw;
    for (int i = 0; i < bw; ++i) dst[i] = 0.25f * ((r0[2 * i] + r0[2 * i + 1]) + (r1[2 * i] + r1[2 * i + 1]));
  }
}

ImageF bin2x2_luminance(const float* cfa, int width, int height) {
  ImageF out(1, width / 2, height / 2);
  bin2x2_luminance(cfa, width, height, out.plane(0));
  return out;
}

ImageF green_plane(const float* cfa, int width, int height, BayerPattern pattern) {
  ImageF out(1, width, height);
  float* dst = out.plane(0);
  // Green sites form a checkerboard: those with (x + y) of the parity of the first green site.
  const int green_parity = cfa_channel(pattern, 0, 0) == 1 ? 0 : 1;
  for (int y = 0; y < height; ++y) {
    const float* row = cfa + static_cast<std::size_t>(y) * width;
    const float* up = y > 0 ? row - width : nullptr;
    const float* dn = y + 1 < height ? row + width : nullptr;
    float* d = dst + static_cast<std::size_t>(y) * width;
    for (int x = 0; x < width; ++x) {
      if (((x + y) & 1) == green_parity) {
        d[x] = row[x];
        continue;
      }
      float sum = 0.0f;
      int n = 0;
      const bool has[4] = {x > 0, x + 1 < width, up != nullptr, dn != nullptr};
      const float val[4] = {has[0] ? row[x - 1] : 0.0f, has[1] ? row[x + 1] : 0.0f, has[2] ? up[x] : 0.0f,
                            has[3] ? dn[x] : 0.0f};
      for (int k = 0; k < 4; ++k) {
        sum += val[k];
        n += has[k] ? 1 : 0;
      }
      d[x] = n > 0 ? sum / n : row[x];
    }
  }
  return out;
}

Star binned_to_full_res(const Star& s) {
  Star f = s;
  f.x = 2.0 * s.x + 0.5;
  f.y = 2.0 * s.y + 0.5;
  f.fwhm = 2.0 * s.fwhm;
  f.flux = 4.0 * s.flux;
  return f;
}

std::vector<Star> detect_stars_cfa(const float* cfa, int width, int height, BayerPattern pattern,
                                   CfaDetectMode mode, const DetectParams& params, DetectInfo* info) {
  if (mode == CfaDetectMode::GreenPlane) {
    const ImageF g = green_plane(cfa, width, height, pattern);
    return detect_stars(g.plane(0), g.width, g.height, params, info);
  }
  const ImageF lum = bin2x2_luminance(cfa, width, height);
  std::vector<Star> stars = detect_stars(lum.plane(0), lum.width, lum.height, params, info);
  std::transform(stars.begin(), stars.end(), stars.begin(), binned_to_full_res);
  return stars;
}

}  // namespace zm
