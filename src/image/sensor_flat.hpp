// A radial vignetting profile shared by every frame of one sensor (same optics): rows of a frame are divided by
// 1 + q r^2, r the distance to the sensor centre over its half-diagonal. Estimated once per run across pointings
// (pipeline/vignetting.hpp) for data taken without flats, applied wherever a cached frame is read.
#pragma once

#include <cstddef>
#include <vector>

#include "image/image.hpp"

namespace zm {

struct SensorFlat {
  double q = 0.0;             // sky at the corner relative to the centre, minus 1 (-0.04: 4 % vignetting); 0 = none
  int width = 0, height = 0;  // the sensor it was measured on: frames of another size are left alone

  bool applies_to(int w, int h) const { return q != 0.0 && w == width && h == height && width > 0; }
  // 1 + q r^2 at pixel (x, y): what vignetting multiplied the sky there by.
  double at(double x, double y) const;
  // Divides rows [row0, row0 + nrows) of every channel of a C x nrows x width block in place.
  void apply_rows(float* planes, int channels, int row0, int nrows) const;
};

// Sky mesh side: kSkyMeshSide x kSkyMeshSide blocks per frame.
constexpr int kSkyMeshSide = 12;

// Per block of the frame's plane `channel` (row-major, kSkyMeshSide^2 values), the median of its finite pixels
// (every second pixel and row) divided by `level`, rounded to 1e-5 (what the Phase 1 manifest keeps, so that a
// resumed run estimates exactly the same profile); NaN where a block has too few finite pixels or level <= 0.
std::vector<float> sky_mesh(const ImageF& image, int channel, float level);

// The factor taking a frame's sky median to the sky median of the frame divided by `flat`, from the frame's sky
// mesh: the median over blocks of mesh / flat at the block centre. 1 when the flat does not apply to a
// width x height frame or fewer than half the blocks are finite.
double flattened_sky_factor(const std::vector<float>& mesh, const SensorFlat& flat, int width, int height);

}  // namespace zm
