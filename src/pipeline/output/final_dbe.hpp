// The final background extraction (ZeMosaic's final DBE, zemosaic_pipeline.md 4.8): a smooth model of the mosaic's
// sky, fitted on a block-averaged copy whose longest side is at most 1024 px (one streamed pass over the Phase 5
// planes) and subtracted band by band from every output Phase 6 writes (a second streamed pass, the write itself),
// so memory stays at one band plus the small grid whatever the canvas.
//
// The pedestal is kept: what is subtracted is the model minus its median over the covered pixels, per channel.
// ZeMosaic subtracts the whole model, leaving a sky near 0; a science FITS keeps its sky level (noise estimates,
// photometry software and the users' own background tools expect one), and only the gradients go. The header says
// so (ZMDBEPED) and gives the level kept per channel.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/background_surface.hpp"
#include "io/fits_header.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/options/run_options.hpp"
#include "pipeline/output/mosaic_overview.hpp"

namespace zm {

// The largest side of the grid the model is fitted on (ZeMosaic's 1024).
inline constexpr int kDbeGridSide = 1024;

// A fitted model ready to subtract; applied = false leaves every value alone.
struct FinalDbe {
  bool applied = false;
  std::string reason;          // why not applied
  BackgroundSurface surface;   // in grid pixels
  int factor = 1;              // mosaic pixels per grid pixel
  int grid_width = 0, grid_height = 0;
  std::vector<double> pedestal;  // per channel: the model's median, which stays in the data

  // Subtracts model - pedestal from the finite values of rows [y0, y0 + rows) of a C x rows x width band.
  void apply(float* band, int y0, int rows, int width, int channels) const;
  // The same on an overview whose pixels average `ov.factor` x `ov.factor` mosaic pixels.
  void apply(MosaicOverview& ov) const;
  // ZMDBE* keys.
  void describe(FitsHeader& h, const DbeOptions& o) const;
  // BACKGROUND_MODEL's fields.
  nlohmann::json event_fields(const DbeOptions& o, double seconds) const;
};

// Streams the mosaic once into the <= kDbeGridSide grid and fits the model (not applied when disabled or when the
// mosaic has too little data to sample).
FinalDbe fit_final_dbe(const MosaicArtifacts& mosaic, const DbeOptions& options, int band_rows);

}  // namespace zm
