// Phase 4.5: photometric harmonisation of the master tiles (per-tile, per-channel gain and offset).
#pragma once

#include <string_view>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/model/tile_set.hpp"

namespace zm {

// One correction per tile, in tile order (identity when disabled or impossible). Writes
// <output>/zemosaic_photometry.json and emits PHOTOMETRY_SOLVED (or PHOTOMETRY_SKIPPED); reuses an earlier
// solution for the same tiles and settings (RESUME_REUSED).
std::vector<TileCorrection> run_phase45(const RunContext& ctx, const TileMatchOptions& options,
                                        const std::vector<TileInfo>& tiles);

}  // namespace zm
