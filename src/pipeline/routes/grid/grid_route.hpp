// Grid (survey) mode: driven by a stack_plan.csv in the input folder, a route of its own. Only the listed frames are
// ingested; the global north-up grid (as Mosaic-First) is cut into a regular layout of overlapping tiles; each tile
// is the frames that touch it reprojected by WCS straight onto the tile (a cutout of the global grid) and stacked
// there per pixel with rejection; the tiles are then matched photometrically (Phase 4.5 on their overlaps) and
// blended with feathering onto the global grid (Phase 5).
//
// Tile layout: grid_layout.hpp.
//
// Per tile: frames in plan order, each with its photometric correction (per-frame star-flux gains and sky offsets
// solved over ALL listed frames at once, as Mosaic-First, when global_coadd_normalize is on) and weight
// exposure / noise variance (exposure = the CSV's column, else EXPTIME, else 1 s; variance = (gain x sky sigma)^2),
// combined with global_coadd_method / global_coadd_k. Since tiles are cutouts of one grid, a pixel in an overlap
// gets the same samples in every tile holding it: overlaps agree by construction and Phase 5 copies tiles with the
// nearest kernel (an exact integer shift), so blending never resamples.
//
// Resume: each tile's FITS (cache/grid/tile_NNNN.fits, WCS + ALPHA + COVERAGE extensions, written atomically) is
// reused when its manifest key (frame set, exposures, tile rectangle, grid, Phase 1 and grid settings) matches;
// Phase 4.5 and Phase 5 have their own keys.
#pragma once

#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/model/ingest_result.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/model/mosaic_summary.hpp"
#include "pipeline/model/tile_set.hpp"
#include "pipeline/routes/global_coadd.hpp"
#include "pipeline/routes/grid/grid_layout.hpp"
#include "pipeline/routes/grid/stack_plan_csv.hpp"
#include "pipeline/run_context.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct GridModeStats {
  GridLayout layout;
  std::vector<GlobalCoaddStats> tiles;  // per tile (default when reused)
  int tiles_reused = 0;
  std::vector<TileInfo> tile_infos;
  std::vector<TileCorrection> tile_corrections;  // Phase 4.5
  std::vector<int> frames_used;                  // indices of the frames that landed in at least one tile
};

// Phase "3" (grid tiles), "4.5" (tile matching) and "5" (blend) for `frames` (the plan's, as Phase 1 ingested them,
// matched to plan rows by path for their exposure). Emits PHASE_UPDATE, parallel_plan_summary (kind grid_mode),
// GRID_LAYOUT, GRID_TILE_DONE per tile, progress, INPUT_SET_ASIDE (off_canvas), and what Phases 4.5 and 5 emit.
// Throws PipelineError when no tile can be built, RunCancelled on cancel.
MosaicArtifacts run_grid_mode(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                              const std::string& ingest_key, const StackPlan& plan, const OutputGrid& grid);
MosaicArtifacts run_grid_mode(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                              const std::string& ingest_key, const StackPlan& plan, const OutputGrid& grid,
                              GridModeStats& stats);

// The whole route up to Phase 5 for an input folder holding a stack_plan.csv: load + report the plan, Phase 1 on the
// listed files only, the global grid (phase "2", OUTPUT_GRID), run_grid_mode. The caller then runs Phases 6 and 7 with
// `summary` (route "grid").
struct GridRunResult {
  StackPlan plan;
  IngestResult ingest;
  OutputGrid grid;
  MosaicArtifacts mosaic;
  MosaicSummary summary;
  GridModeStats stats;
};
GridRunResult run_grid_route(const RunContext& ctx, const RunOptions& options);

}  // namespace zm
