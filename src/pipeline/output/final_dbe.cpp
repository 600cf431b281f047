#include "pipeline/output/final_dbe.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace zm {

namespace {

// A grid with fewer valid pixels than this has too little sky to model: the mosaic is left alone.
constexpr std::size_t kMinValidGridPixels = 256;

// Per mosaic column: the node columns around it and the weight of the right one (the model is bilinear on its
// node grid, so a band row costs two node-row blends and one lerp per pixel).
struct ColumnTaps {
  std::vector<int> i0, i1;
  std::vector<float> t;
};

ColumnTaps column_taps(const FinalDbe& d, int width, double mosaic_px_per_x, double offset) {
  ColumnTaps c;
  const ImageF& n = d.surface.nodes;
  c.i0.resize(static_cast<std::size_t>(width));
  c.i1.resize(c.i0.size());
  c.t.resize(c.i0.size());
  for (int x = 0; x < width; ++x) {
    const double gx = ((x * mosaic_px_per_x + offset) + 0.5) / d.factor - 0.5;
    const double fx = std::clamp(gx / d.surface.spacing, 0.0, static_cast<double>(n.width - 1));
    const int i0 = std::min(static_cast<int>(fx), n.width - 1);
    c.i0[static_cast<std::size_t>(x)] = i0;
    c.i1[static_cast<std::size_t>(x)] = std::min(i0 + 1, n.width - 1);
    c.t[static_cast<std::size_t>(x)] = static_cast<float>(fx - i0);
  }
  return c;
}

// Subtracts model - pedestal along one row (grid row coordinate gy) of `channels` planes spaced `plane` apart.
void apply_row(const FinalDbe& d, const ColumnTaps& taps, double gy, float* row, std::size_t plane, int width,
               int channels, std::vector<float>& blend) {
  const ImageF& n = d.surface.nodes;
  const double fy = std::clamp(gy / d.surface.spacing, 0.0, static_cast<double>(n.height - 1));
  const int j0 = std::min(static_cast<int>(fy), n.height - 1), j1 = std::min(j0 + 1, n.height - 1);
  const float ty = static_cast<float>(fy - j0);
  blend.resize(static_cast<std::size_t>(n.width));
  for (int c = 0; c < channels; ++c) {
    const float* a = &n.data[c * n.plane_size() + static_cast<std::size_t>(j0) * n.width];
    const float* b = &n.data[c * n.plane_size() + static_cast<std::size_t>(j1) * n.width];
    const float ped = static_cast<float>(d.pedestal[static_cast<std::size_t>(c)]);
    for (int i = 0; i < n.width; ++i) blend[static_cast<std::size_t>(i)] = a[i] + ty * (b[i] - a[i]) - ped;
    float* v = row + c * plane;
    for (int x = 0; x < width; ++x) {
      if (!std::isfinite(v[x])) continue;
      const std::size_t k = static_cast<std::size_t>(x);
      const float m0 = blend[static_cast<std::size_t>(taps.i0[k])], m1 = blend[static_cast<std::size_t>(taps.i1[k])];
      v[x] -= m0 + taps.t[k] * (m1 - m0);
    }
  }
}

}  // namespace

void FinalDbe::apply(float* band, int y0, int rows, int width, int channels) const {
  if (!applied) return;
  const ColumnTaps taps = column_taps(*this, width, 1.0, 0.0);
  std::vector<float> blend;
  const std::size_t plane = static_cast<std::size_t>(rows) * width;
  for (int r = 0; r < rows; ++r)
    apply_row(*this, taps, (y0 + r + 0.5) / factor - 0.5, band + static_cast<std::size_t>(r) * width, plane, width,
              channels, blend);
}

void FinalDbe::apply(MosaicOverview& ov) const {
  if (!applied) return;
  // An overview pixel averages a block: the model at the block's centre.
  const double centre = 0.5 * (ov.factor - 1);
  const ColumnTaps taps = column_taps(*this, ov.image.width, ov.factor, centre);
  std::vector<float> blend;
  for (int y = 0; y < ov.image.height; ++y)
    apply_row(*this, taps, ((y * ov.factor + centre) + 0.5) / factor - 0.5,
              ov.image.data.data() + static_cast<std::size_t>(y) * ov.image.width, ov.image.plane_size(),
              ov.image.width, ov.image.channels, blend);
}

void FinalDbe::describe(FitsHeader& h, const DbeOptions& o) const {
  h.set("ZMDBE", applied, "final background extraction applied");
  if (!applied) return;
  h.set("ZMDBESTR", o.strength, "DBE strength preset (weak, normal, strong, custom)");
  h.set("ZMDBEK", o.obj_k, "DBE object mask threshold (sigmas)");
  h.set("ZMDBEDIL", static_cast<long long>(o.obj_dilate_px), "DBE object mask dilation (model px)");
  h.set("ZMDBESTP", static_cast<long long>(surface.step), "DBE sample window (model px)");
  h.set("ZMDBESMO", o.smoothing, "DBE thin-plate spline smoothing");
  h.set("ZMDBEFAC", static_cast<long long>(factor), "mosaic px per DBE model px");
  h.set("ZMDBENS", static_cast<long long>(surface.samples), "DBE background samples");
  h.set("ZMDBEPED", std::string("kept"), "model minus its median subtracted: sky level kept");
  for (std::size_t c = 0; c < pedestal.size(); ++c) {
    h.set(fmt::format("ZMDBEAM{}", c + 1), surface.amplitude[c], fmt::format("DBE model max - min, channel {} (ADU)", c + 1));
    h.set(fmt::format("ZMDBEPV{}", c + 1), pedestal[c], fmt::format("DBE sky level kept, channel {} (ADU)", c + 1));
  }
}

nlohmann::json FinalDbe::event_fields(const DbeOptions& o, double seconds) const {
  nlohmann::json j = {{"phase", "6"},          {"applied", applied},
                      {"strength", o.strength}, {"obj_k", o.obj_k},
                      {"obj_dilate_px", o.obj_dilate_px}, {"sample_step", applied ? surface.step : o.sample_step},
                      {"smoothing", o.smoothing}, {"grid_width", grid_width},
                      {"grid_height", grid_height}, {"grid_factor", factor},
                      {"samples", surface.samples}, {"masked_fraction", surface.masked_fraction},
                      {"amplitude", applied ? surface.amplitude : std::vector<double>{}},
                      {"pedestal", pedestal},   {"seconds", seconds}};
  if (!applied) j["reason"] = reason;
  return j;
}

FinalDbe fit_final_dbe(const MosaicArtifacts& mosaic, const DbeOptions& o, int band_rows) {
  FinalDbe d;
  if (!o.enabled) {
    d.reason = "final_mosaic_dbe_enabled is off";
    return d;
  }
  const MosaicOverview grid = build_overview(mosaic, kDbeGridSide, band_rows);
  d.factor = grid.factor;
  d.grid_width = grid.image.width, d.grid_height = grid.image.height;
  std::size_t valid = 0;
  for (std::size_t i = 0; i < grid.image.plane_size(); ++i) {
    bool all = true;
    for (int c = 0; c < grid.image.channels; ++c) all = all && std::isfinite(grid.image.plane(c)[i]);
    valid += all;
  }
  if (valid < kMinValidGridPixels) {
    d.reason = fmt::format("{} covered pixels on the {} x {} model grid, fewer than {}", valid, grid.image.width,
                           grid.image.height, kMinValidGridPixels);
    return d;
  }
  SurfaceOptions so;
  so.obj_k = o.obj_k;
  so.obj_dilate_px = o.obj_dilate_px;
  so.sample_step = o.sample_step;
  so.smoothing = o.smoothing;
  d.surface = fit_background_surface(grid.image, so);
  d.pedestal = d.surface.median;
  d.applied = true;
  return d;
}

}  // namespace zm
