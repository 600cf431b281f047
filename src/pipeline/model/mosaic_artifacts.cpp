#include "pipeline/model/mosaic_artifacts.hpp"

#include <algorithm>

#include "pipeline/model/manifest.hpp"
#include "pipeline/model/raw_planes.hpp"
#include "pipeline/pipeline_events.hpp"
#include "reproject/coadd.hpp"

namespace zm {
namespace fs = std::filesystem;

MosaicArtifacts mosaic_in(const fs::path& dir, const OutputGrid& grid, int channels, std::string key) {
  fs::create_directories(dir);
  MosaicArtifacts a;
  a.image = dir / "mosaic.f32";
  a.weight = dir / "weight.f32";
  a.coverage = dir / "coverage.f32";
  a.width = grid.width;
  a.height = grid.height;
  a.channels = channels;
  a.key = std::move(key);
  return a;
}

bool reuse_mosaic(bool resume, EventStream& events, const fs::path& manifest, MosaicArtifacts& a) {
  if (!resume || !manifest_has_key(manifest, a.key, events) || !artifacts_complete(a)) return false;
  events.info(pipeline_keys::kResumeReused, {{"phase", "5"}, {"reused", 1}, {"total", 1}});
  a.reused = true;
  return true;
}

void commit_mosaic_manifest(const fs::path& manifest, const MosaicArtifacts& a) {
  write_manifest(manifest, {{"key", a.key}, {"width", a.width}, {"height", a.height}, {"channels", a.channels}});
}

JobSizes frames_onto_grid_job(const std::vector<FrameRecord>& frames, const OutputGrid& grid, int channels) {
  JobSizes job;
  job.frame_width = frames.front().width;
  job.frame_height = frames.front().height;
  job.frame_channels = channels;
  job.frames_total = frames.size();
  job.output_width = grid.width;
  job.output_height = grid.height;
  job.output_channels = channels;
  return job;
}

JobSizes tiles_onto_grid_job(const std::vector<TileInfo>& tiles, const OutputGrid& grid, CoaddMethod method) {
  JobSizes job;
  job.groups = tiles.size();
  job.tile_width = tiles.front().width;
  job.tile_height = tiles.front().height;
  job.output_width = grid.width;
  job.output_height = grid.height;
  job.output_channels = tiles.front().channels;
  // Phase 5's items priced by the coadd itself, for its largest tile (as the coadd sizes them) and its method; a
  // tile's preparation counts as unsplittable bytes too.
  int tile_w = 0;
  int tile_h = 0;
  for (const TileInfo& t : tiles) {
    tile_w = std::max(tile_w, t.width);
    tile_h = std::max(tile_h, t.height);
  }
  const CoaddItemPrice price =
      coadd_item_price(method, grid.width, job.output_channels, tile_w, tile_h);
  job.item_price = ItemPrice{PlanKind::phase5, std::max(price.fixed_bytes, price.floor_bytes), price.row_bytes,
                             price.formula};
  return job;
}

}  // namespace zm
