// Phase 6: the science, aesthetic and coverage FITS and the preview PNG, streamed from the Phase 5 artifacts.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/model/mosaic_summary.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct SavedOutputs {
  std::filesystem::path science;
  std::filesystem::path aesthetic;  // empty when export_aesthetic_fits is off
  std::filesystem::path coverage;
  std::filesystem::path preview;
  bool reused = false;
};

// Every file is written atomically (temp + rename); OUTPUT_WRITTEN per file. Outputs of an earlier run with the
// same mosaic and settings are kept (RESUME_REUSED).
SavedOutputs run_phase6(const RunContext& ctx, const SaveOptions& options, const MosaicSummary& summary,
                        const OutputGrid& grid, const MosaicArtifacts& mosaic);

// <output_basename or zemosaic_MT<tiles>_R<frames>>.
std::string output_stem(const SaveOptions& options, int tiles, int frames);

}  // namespace zm
