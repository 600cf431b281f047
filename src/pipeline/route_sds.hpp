// SDS ("ZeSupaDupStack") route: frames batched into complete sweeps of the field, each batch co-added onto the whole
// global canvas (a mega-tile), mega-tiles matched photometrically and stacked against each other with rejection.
//
// Batching (plan_sds_batches): frames in input order (or, with sds_batch_by_night, night by night from their
// DATE-OBS, a night ending at a gap > sds_night_gap_h) are appended to the current batch, which closes once it holds
// >= sds_min_batch frames and covers >= sds_coverage_target of the area ALL frames cover (or at sds_max_batch
// frames). Coverage is measured on a coarse raster (<= 256 px a side) of the canvas. Relative to the union rather
// than to the canvas because a north-up bounding canvas of a rotated or ragged layout is never fully covered. A
// trailing batch smaller than sds_min_batch joins the previous batch (of the same night).
// Mega-tile matching: gain and offset per channel from robust overlap fits (harmonize_tiles) of the mega-tiles'
// previews. Final stack per pixel: the stack_reject_algo / stack_kappa_* rejection over the mega-tiles with
// per-pixel weights = mega-tile coverage; coverage = sum of coverages; pixels under sds_min_coverage_keep x peak
// coverage are NaN.
#pragma once

#include <stdexcept>
#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/frame_record.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/route_global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// SDS could not produce a mosaic; the caller falls back to the classic route with a WARN carrying what().
class SdsFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SdsBatchOptions {
  double coverage_target = 0.92;
  int min_batch = 5;
  int max_batch = 0;  // 0 = no cap
  bool by_night = false;
  double night_gap_s = 4 * 3600.0;
};

struct SdsBatch {
  std::vector<int> members;  // indices into the frame list, in input order
  double coverage = 0.0;     // of the union of all frames' footprints
  int night = 0;             // 0 unless batching by night
};

SdsBatchOptions sds_batch_options(const Config& cfg);

// Deterministic; every frame lands in exactly one batch (frames off the canvas too: the coadd reports them).
std::vector<SdsBatch> plan_sds_batches(const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                                       const SdsBatchOptions& options);

struct SdsStats {
  std::vector<SdsBatch> batches;
  std::vector<GlobalCoaddStats> megatiles;        // per batch
  std::vector<TileCorrection> megatile_corrections;
  RejectStats final_reject;
  int band_rows = 0;
  long long masked_pixels = 0;  // covered but under sds_min_coverage_keep x peak
  std::uint64_t peak_band_bytes = 0;  // of the final stack
};

// Phase "3" (mega-tiles, plan kind sds_megatiles) then phase "5" (mega-tile stack) into ctx.cache_dir / "sds".
// Throws SdsFailed with the reason when it cannot produce a mosaic, RunCancelled on cancel.
MosaicArtifacts run_sds(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid);
MosaicArtifacts run_sds(const RunContext& ctx, const std::vector<FrameRecord>& frames, const OutputGrid& grid,
                        SdsStats& stats);

std::vector<std::string_view> sds_config_keys();

}  // namespace zm
