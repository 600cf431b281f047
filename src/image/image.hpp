// Planar float32 image (C x H x W, channel-major like a FITS cube); row 0 is the first row stored in the file.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace zm {

struct ImageF {
  int channels = 0;
  int width = 0;
  int height = 0;
  std::vector<float> data;  // size channels * height * width

  ImageF() = default;
  ImageF(int c, int w, int h, float fill = 0.0f)
      : channels(c), width(w), height(h), data(static_cast<std::size_t>(c) * w * h, fill) {}

  std::size_t plane_size() const { return static_cast<std::size_t>(width) * height; }
  float* plane(int c) { return data.data() + c * plane_size(); }
  const float* plane(int c) const { return data.data() + c * plane_size(); }
  float& at(int c, int y, int x) { return data[c * plane_size() + static_cast<std::size_t>(y) * width + x]; }
  float at(int c, int y, int x) const { return data[c * plane_size() + static_cast<std::size_t>(y) * width + x]; }
  bool empty() const { return data.empty(); }
};

}  // namespace zm
