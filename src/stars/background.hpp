// Smooth sky background and noise maps, estimated on a coarse mesh and interpolated bilinearly row by row.
#pragma once

#include <vector>

namespace zm {

class BackgroundMesh {
 public:
  // Level and noise of each `cell` x `cell` box (the last row/column of boxes may be partial): a first mesh of
  // box medians gives the trend; the sigma-clipped median and MAD-based sigma of the detrended pixels then give
  // the level correction and the noise, so that a gradient across a box does not pass for noise. Each mesh is
  // 3x3 median-filtered so that a box dominated by a bright object takes its neighbours' values. NaN pixels are
  // ignored; a box without enough valid pixels takes the median of the others. Deterministic, single-threaded.
  BackgroundMesh(const float* img, int width, int height, int cell, double clip_sigma);

  // Interpolated background and noise for pixel row y (each `width` values; either pointer may be null). Box
  // centres are the nodes; beyond the outermost centres the outermost pair is extrapolated linearly.
  void row(int y, float* level, float* noise) const;
  // Interpolated values at one pixel, bit-identical to row().
  void sample(int x, int y, float& level, float& noise) const;
  // The lowest interpolated noise anywhere in the image.
  float min_noise() const;

  int cells_x() const { return nx_; }
  int cells_y() const { return ny_; }
  float level_at(int ix, int iy) const { return level_[iy * nx_ + ix]; }
  float noise_at(int ix, int iy) const { return noise_[iy * nx_ + ix]; }
  // Medians over the mesh (summary numbers for logs and frame-quality weights).
  float median_level() const { return median_level_; }
  float median_noise() const { return median_noise_; }

 private:
  struct Node {
    int i0 = 0, i1 = 0;
    float t = 0.0f;  // weight of i1 (outside [0, 1] when extrapolating)
  };
  struct Segment {
    int x0 = 0, x1 = 0;  // columns [x0, x1) interpolate between node columns i0 and i1
    int i0 = 0, i1 = 0;
  };
  static std::vector<Node> make_nodes(int n_pixels, int cell, int n_cells);
  static float blend(float a, float b, float t) { return a + (b - a) * t; }
  void build_interpolation();
  float interpolate(const std::vector<float>& m, int x, int y) const;
  void gather(const float* img, int ix, int iy, int target, bool detrend, std::vector<float>& out) const;
  float finish_mesh(std::vector<float>& m) const;

  int width_ = 0, height_ = 0, cell_ = 0, nx_ = 0, ny_ = 0;
  std::vector<float> level_, noise_;
  std::vector<Node> row_nodes_;
  std::vector<float> col_t_;
  std::vector<Segment> col_segments_;
  std::vector<int> col_segment_;  // segment of each column
  float median_level_ = 0.0f, median_noise_ = 0.0f;
};

}  // namespace zm
