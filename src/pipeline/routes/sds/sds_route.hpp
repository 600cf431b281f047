// SDS ("ZeSupaDupStack") route: frames batched into complete sweeps of the field (sds_batches.hpp), each batch
// co-added onto the whole global canvas (a mega-tile), mega-tiles matched photometrically (gain and offset per
// channel from robust overlap fits of their previews, harmonize_tiles) and stacked against each other with the
// stack_* rejection weighted by coverage (megatile_stack.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/routes/global_coadd.hpp"
#include "pipeline/routes/sds/sds_batches.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct SdsStats {
  std::vector<SdsBatch> batches;
  std::vector<GlobalCoaddStats> megatiles;        // per batch
  std::vector<TileCorrection> megatile_corrections;
  RejectStats final_reject;
  int band_rows = 0;
  long long masked_pixels = 0;  // covered but under sds_min_coverage_keep x peak
  std::uint64_t peak_band_bytes = 0;  // of the final stack
};

// Phase "3" (mega-tiles, plan kind sds_megatiles) then phase "5" (mega-tile stack) into the cache's sds folder.
// Throws RouteFailed (route sds) with the reason when the data cannot make an SDS mosaic (no batch, every
// mega-tile empty, mega-tiles without a common overlap), RunCancelled on cancel; any other error is the run's.
MosaicArtifacts run_sds(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                        const std::string& ingest_key, const OutputGrid& grid);
MosaicArtifacts run_sds(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                        const std::string& ingest_key, const OutputGrid& grid, SdsStats& stats);

}  // namespace zm
