// The assembled mosaic as raw float32 planes in a cache folder (what Phase 5 and every route hand to Phase 6), and
// when an earlier one is reused.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/model/frame_record.hpp"
#include "pipeline/model/tile_set.hpp"
#include "events/event_stream.hpp"
#include "plan/parallel_plan.hpp"
#include "reproject/coadd.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Row-range readable planes: image C x H x W (NaN where nothing contributes), weight and coverage (frames per
// pixel) H x W.
struct MosaicArtifacts {
  std::filesystem::path image;
  std::filesystem::path weight;
  std::filesystem::path coverage;
  int width = 0;
  int height = 0;
  int channels = 0;
  std::string key;  // resume key of this result (what Phase 6 keys its outputs on)
  bool reused = false;
};

// mosaic.f32 / weight.f32 / coverage.f32 in `dir` (created) for the grid.
MosaicArtifacts mosaic_in(const std::filesystem::path& dir, const OutputGrid& grid, int channels, std::string key);

// With resume on, a manifest recording a.key and complete planes: emits RESUME_REUSED (phase 5), sets a.reused.
bool reuse_mosaic(bool resume, EventStream& events, const std::filesystem::path& manifest, MosaicArtifacts& a);

// The manifest a finished mosaic leaves next to its planes (key and sizes), written atomically.
void commit_mosaic_manifest(const std::filesystem::path& manifest, const MosaicArtifacts& a);

// The plan's job description for frames co-added straight onto the grid (Mosaic-First, SDS).
JobSizes frames_onto_grid_job(const std::vector<FrameRecord>& frames, const OutputGrid& grid, int channels);
// ... and for tiles reprojected onto it (Phase 5 with `method`, the inter-master merge), priced by the coadd.
JobSizes tiles_onto_grid_job(const std::vector<TileInfo>& tiles, const OutputGrid& grid,
                             CoaddMethod method = CoaddMethod::ReprojectCoadd);

}  // namespace zm
