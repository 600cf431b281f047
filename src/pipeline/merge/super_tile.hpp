// One Phase 4.5 super tile: a group of overlapping master tiles reprojected onto a cutout of the final grid,
// normalised onto one member's photometric scale, and stacked with rejection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/tile_set.hpp"
#include "reproject/kernels.hpp"
#include "reproject/transform.hpp"
#include "sched/cancel_token.hpp"
#include "stack/combine_band.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

struct SuperTileOptions {
  RejectParams reject;                // per-pixel combine of the members
  Kernel kernel = Kernel::Lanczos3;   // members -> local grid
  HarmonizeOptions photometry;        // intra-group gain/offset (anchor set by build_super_tile)
  int preview_side = 1024;            // previews the photometry reads
  std::uint64_t memory_budget_bytes = 0;  // 0 = no limit: one band of the whole cutout
  int rows_per_band = 0;              // > 0 forces the band height (the output does not depend on it)
  const CancelToken* cancel = nullptr;  // checked between bands: RunCancelled, the file is not committed
};

// The part of the final grid a group covers: rect in grid pixels, wcs of the cutout (CRPIX shifted), sized
// rect.cols x rect.rows. Empty rect when no member lands on the grid.
struct LocalGrid {
  PixelRect rect;
  Wcs wcs;
};
LocalGrid group_cutout(const std::vector<TileInfo>& members, const OutputGrid& grid);

// The member whose scale the super tile takes: most frames, then the earliest.
int choose_anchor(const std::vector<TileInfo>& members);

// Bytes held while stacking: resident (members' ALPHA planes + the cutout's coverage plane) and per band row
// (members' warped rows, one pixel map row, the member's input rows at worst one tile row each, the output row).
struct SuperTileMemory {
  std::uint64_t resident = 0;
  std::uint64_t per_row = 0;
};
SuperTileMemory super_tile_memory(const std::vector<TileInfo>& members, int cutout_width, int cutout_height);

// Band height that keeps resident + rows * per_row within budget (at least 16 rows, at most the cutout).
int super_tile_band_rows(const SuperTileMemory& m, std::uint64_t budget, int cutout_height);

struct SuperTileResult {
  std::string path;
  int anchor = -1;                           // member index
  std::vector<TileCorrection> corrections;  // per member: corrected = gain * member + offset (anchor scale)
  PixelRect cutout;
  int band_rows = 0;
  RejectStats stats;
  double seconds = 0.0;
};

// Writes `path` atomically: float32 C x H x W on the cutout WCS, ALPHA (255 = data) and COVERAGE (frames of the
// members whose sample is valid there) extensions; header frames/exposure summed, date range spanned, members
// listed. Weights = member frame counts. Runs in the caller's TBB arena; bit-identical for any thread count and
// band height. Throws InputError when a member cannot be read.
SuperTileResult build_super_tile(int id, const std::vector<TileInfo>& members, const OutputGrid& grid,
                                 const std::filesystem::path& path, const SuperTileOptions& options);

}  // namespace zm
