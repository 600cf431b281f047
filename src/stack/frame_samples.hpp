// Pixel samples of one frame (all channels) taken at caller-chosen positions, the input of normalisation and
// weighting: the streaming pipeline gathers them (same positions in every frame, on the common valid area)
// before it stacks, so these statistics never need whole frames in memory.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace zm {

struct FrameSamples {
  int channels = 0;
  std::size_t count = 0;      // samples per channel
  std::vector<float> values;  // channels x count, planar; NaN = no data at that position

  FrameSamples() = default;
  FrameSamples(int c, std::size_t n) : channels(c), count(n), values(static_cast<std::size_t>(c) * n) {}
  std::span<float> channel(int c) { return {values.data() + static_cast<std::size_t>(c) * count, count}; }
  std::span<const float> channel(int c) const {
    return {values.data() + static_cast<std::size_t>(c) * count, count};
  }
};

// A value per (frame, channel), frame-major.
template <class T>
struct PerFrameChannel {
  int frames = 0;
  int channels = 0;
  std::vector<T> values;

  PerFrameChannel() = default;
  PerFrameChannel(int f, int c, T fill = T{})
      : frames(f), channels(c), values(static_cast<std::size_t>(f) * c, fill) {}
  T& at(int f, int c) { return values[static_cast<std::size_t>(f) * channels + c]; }
  const T& at(int f, int c) const { return values[static_cast<std::size_t>(f) * channels + c]; }
  // The n values of one channel, contiguous, as combine_band takes them.
  std::vector<T> channel(int c) const {
    std::vector<T> out(static_cast<std::size_t>(frames));
    for (int f = 0; f < frames; ++f) out[f] = at(f, c);
    return out;
  }
};

}  // namespace zm
