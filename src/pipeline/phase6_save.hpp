// Phase 6: the science, aesthetic and coverage FITS and the preview PNG, streamed from the Phase 5 artifacts.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "pipeline/frame_record.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Where the mosaic came from, for the output headers and file names.
struct MosaicSummary {
  std::string route = "classic";  // classic | mosaic_first | sds | grid
  int master_tiles = 0;           // tiles (classic) or mega-tiles (sds); 0 for mosaic_first
  int frames_found = 0;           // input FITS files scanned
  int frames_used = 0;            // frames stacked into the mosaic
  double exposure_s = 0.0;
  std::string date_beg;
  std::string date_end;
};

// frames_used = the frames the tiles hold (a frame left out of its tile is not used).
MosaicSummary summarize_tiles(const std::vector<TileInfo>& tiles, int frames_found);
MosaicSummary summarize_frames(const std::vector<FrameRecord>& frames, int frames_found, std::string route);

struct SavedOutputs {
  std::filesystem::path science;
  std::filesystem::path aesthetic;  // empty when export_aesthetic_fits is off
  std::filesystem::path coverage;
  std::filesystem::path preview;
  bool reused = false;
};

// Every file is written atomically (temp + rename); OUTPUT_WRITTEN per file. Outputs of an earlier run with the
// same mosaic and settings are kept (RESUME_REUSED).
SavedOutputs run_phase6(const RunContext& ctx, const MosaicSummary& summary, const OutputGrid& grid,
                        const MosaicArtifacts& mosaic);

// <output_basename or zemosaic_MT<tiles>_R<frames>>.
std::string output_stem(const Config& config, int tiles, int frames);

std::vector<std::string_view> phase6_config_keys();

}  // namespace zm
