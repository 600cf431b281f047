// Grid (survey) mode: driven by a stack_plan.csv in the input folder, a route of its own. Only the listed frames are
// ingested; the global north-up grid (as Mosaic-First) is cut into a regular layout of overlapping tiles; each tile
// is the frames that touch it reprojected by WCS straight onto the tile (a cutout of the global grid) and stacked
// there per pixel with rejection; the tiles are then matched photometrically (Phase 4.5 on their overlaps) and
// blended with feathering onto the global grid (Phase 5).
//
// Tile layout (plan_grid_tiles): side = grid_size_factor x the median frame side on the grid, where a frame's side
// is sqrt(width x height) x its pixel scale / the grid's (a Seestar frame, 1080 x 1920, gives 1440 px at the native
// scale, so the default 4.0 makes ~5760 px tiles: a few tens of frames deep on a survey, a few hundred MB of float32
// per tile, streamed by bands). Step = side x (1 - batch_overlap_pct / 100); along each axis the tiles are spread
// evenly so that the first starts at 0 and the last ends at the grid's edge (overlaps are therefore >= the requested
// one). A grid smaller than one tile is one tile. Tiles are cropped to the frames' union and tiles no frame touches
// are dropped.
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
#include "pipeline/frame_record.hpp"
#include "pipeline/grid_stack_plan.hpp"
#include "pipeline/phase1_ingest.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/phase6_save.hpp"
#include "pipeline/route_global_coadd.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct GridTile {
  int id = 0;
  PixelRect rect;            // on the global grid
  std::vector<int> members;  // indices into the frame list, ascending (= plan order)
};

struct GridLayout {
  int tile_side = 0;         // px on the global grid, before cropping
  int step = 0;
  double frame_side_px = 0;  // median frame side on the grid
  int cols = 0, rows = 0;    // of the regular layout (before empty tiles are dropped)
  std::vector<GridTile> tiles;
};

// Deterministic. size_factor > 0, overlap_pct in [0, 90].
GridLayout plan_grid_tiles(const std::vector<FrameRecord>& frames, const OutputGrid& grid, double size_factor,
                           double overlap_pct);

// The grid of one tile: the global grid's TAN WCS with CRPIX shifted by the rectangle's origin, sized to it.
OutputGrid tile_grid(const OutputGrid& grid, const PixelRect& rect);

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
MosaicArtifacts run_grid_mode(const RunContext& ctx, const std::vector<FrameRecord>& frames, const StackPlan& plan,
                              const OutputGrid& grid);
MosaicArtifacts run_grid_mode(const RunContext& ctx, const std::vector<FrameRecord>& frames, const StackPlan& plan,
                              const OutputGrid& grid, GridModeStats& stats);

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
GridRunResult run_grid_route(const RunContext& ctx);

std::vector<std::string_view> grid_mode_config_keys();

}  // namespace zm
