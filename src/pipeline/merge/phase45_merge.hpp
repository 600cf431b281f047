// Phase 4.5 inter-master merge (inter_master_merge): master tiles whose footprints overlap heavily are stacked into
// super tiles, photometrically normalised inside each group, before the inter-tile harmonisation and Phase 5.
//
// - Overlap of two tiles = area of the intersection of their sky quadrilaterals (gnomonic about their common centre,
//   Sutherland-Hodgman) / the smaller area. Edges >= inter_master_overlap_threshold; connected components with
//   >= inter_master_min_group_size tiles, cut into chunks of <= inter_master_max_group (tile_overlap.hpp).
// - Per group: a cutout of the final grid covering it; members reprojected there (phase5_interpolation), gain and
//   offset per member and channel onto the member with most frames (harmonize_tiles with the intertile_* options,
//   clip inter_master_photometry_clip_sigma), stacked per pixel with inter_master_stack_method (kappas and
//   iterations from stack_kappa_low/high and stack_max_iterations), weights = member frame counts
//   (super_tile.hpp).
// - Memory: the cutout is streamed by row bands sized to the phase45 plan's budget: resident n x 5 bytes per
//   member tile pixel (ALPHA + COVERAGE) + 4 bytes per cutout pixel, plus per band row about
//   n x C x 4 x cutout width (the warped members). At least 16 rows per band whatever the budget.
// - Output order: each super tile takes the place of its first member; other tiles keep their order.
// - Resume: <cache>/phase45_merge/manifest.json maps each group's signature (members' signatures, the grid and the
//   merge settings) to its super tile; a match whose file exists is reused (RESUME_REUSED).
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/run_context.hpp"
#include "pipeline/model/tile_set.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// The tile list Phase 4.5 photometry and Phase 5 work on. Identity (no events, no files) when inter_master_merge
// is false; identity plus an INTER_MASTER_MERGE event with no groups when nothing overlaps enough.
std::vector<TileInfo> run_phase45_merge(const RunContext& ctx, const MergeOptions& options,
                                        const std::vector<TileInfo>& tiles, const OutputGrid& grid);

}  // namespace zm
