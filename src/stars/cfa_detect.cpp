#include "stars/cfa_detect.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
  green_plane(cfa, width, height, pattern, out.plane(0));
  return out;
}

void green_plane(const float* cfa, int width, int height, BayerPattern pattern, float* dst) {
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
}

namespace {

// Any CFA site at or above `level` within the 2x2 bins around the star's peak (a 6x6 full-resolution box).
bool cfa_saturated(const float* cfa, int width, int height, const Star& s, float level) {
  if (!std::isfinite(level)) return false;
  const int x0 = 2 * (static_cast<int>(std::floor(s.x)) / 2) - 2, y0 = 2 * (static_cast<int>(std::floor(s.y)) / 2) - 2;
  for (int y = std::max(0, y0); y < std::min(height, y0 + 6); ++y)
    for (int x = std::max(0, x0); x < std::min(width, x0 + 6); ++x)
      if (cfa[static_cast<std::size_t>(y) * width + x] >= level) return true;
  return false;
}

}  // namespace

Star binned_to_full_res(const Star& s) {
  Star f = s;
  f.x = 2.0 * s.x + 0.5;
  f.y = 2.0 * s.y + 0.5;
  f.fwhm = 2.0 * s.fwhm;
  f.flux = 4.0 * s.flux;
  return f;
}

std::vector<Star> StarDetector::detect_cfa(const float* cfa, int width, int height, BayerPattern pattern,
                                           CfaDetectMode mode, DetectInfo* info) {
  const bool binned = mode == CfaDetectMode::Binned2x2;
  const int w = binned ? width / 2 : width, h = binned ? height / 2 : height;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  if (detection_image_.size() < n) detection_image_.resize(n);
  if (binned)
    bin2x2_luminance(cfa, width, height, detection_image_.data());
  else
    green_plane(cfa, width, height, pattern, detection_image_.data());
  if (!binned) return run(detection_image_.data(), w, h, params_, info);
  // A 2x2 mean reaches the saturation level only when all four sites do, so saturation is judged on the CFA.
  DetectParams p = params_;
  p.saturation = std::numeric_limits<float>::infinity();
  p.reject_saturated = false;
  std::vector<Star> stars = run(detection_image_.data(), w, h, p, info);
  std::transform(stars.begin(), stars.end(), stars.begin(), binned_to_full_res);
  for (Star& s : stars) s.saturated = cfa_saturated(cfa, width, height, s, params_.saturation);
  if (params_.reject_saturated) std::erase_if(stars, [](const Star& s) { return s.saturated; });
  return stars;
}

std::vector<Star> detect_stars_cfa(const float* cfa, int width, int height, BayerPattern pattern,
                                   CfaDetectMode mode, const DetectParams& params, DetectInfo* info) {
  StarDetector detector(params);
  return detector.detect_cfa(cfa, width, height, pattern, mode, info);
}

}  // namespace zm
