// Phase 6: the science, aesthetic and coverage FITS and the preview PNG, streamed from the Phase 5 artifacts.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "pipeline/phase5_assembly.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct RunTotals {
  int frames_found = 0;  // input FITS files scanned
  int frames_used = 0;   // frames that went into master tiles
};

struct SavedOutputs {
  std::filesystem::path science;
  std::filesystem::path aesthetic;  // empty when export_aesthetic_fits is off
  std::filesystem::path coverage;
  std::filesystem::path preview;
  bool reused = false;
};

// Every file is written atomically (temp + rename); OUTPUT_WRITTEN per file. Outputs of an earlier run with the
// same mosaic and settings are kept (RESUME_REUSED).
SavedOutputs run_phase6(const RunContext& ctx, const std::vector<TileInfo>& tiles, const OutputGrid& grid,
                        const MosaicArtifacts& mosaic, const RunTotals& totals);

// <output_basename or zemosaic_MT<tiles>_R<frames>>.
std::string output_stem(const Config& config, int tiles, int frames);

std::vector<std::string_view> phase6_config_keys();

}  // namespace zm
