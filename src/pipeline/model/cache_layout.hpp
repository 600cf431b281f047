// Where a run keeps what it derives: <output>/.zemosaic_cache (frames, manifests, assembled planes) and
// <output>/zemosaic_master_tiles. The one place that names these files, so phases, resume and cleanup agree.
#pragma once

#include <filesystem>
#include <vector>

namespace zm {

struct CacheLayout {
  std::filesystem::path root;   // <output>/.zemosaic_cache
  std::filesystem::path tiles;  // <output>/zemosaic_master_tiles

  static CacheLayout under(const std::filesystem::path& output_dir);

  std::filesystem::path frames() const { return root / "frames"; }        // preprocessed frames (raw planes)
  std::filesystem::path wcs_solutions() const { return root / "wcs"; }    // plate solutions by content hash
  std::filesystem::path solve_scratch() const { return root / "solve_tmp"; }
  std::filesystem::path output_grid() const { return root / "output_grid.json"; }
  std::filesystem::path run_complete() const { return root / "run_complete.json"; }
  std::filesystem::path phase1_manifest() const { return root / "phase1_manifest.json"; }
  std::filesystem::path phase3_manifest() const { return root / "phase3_manifest.json"; }
  std::filesystem::path phase45_manifest() const { return root / "phase45_manifest.json"; }
  std::filesystem::path phase6_manifest() const { return root / "phase6_manifest.json"; }
  std::filesystem::path phase5() const { return root / "phase5"; }              // classic assembly
  std::filesystem::path merge() const { return root / "phase45_merge"; }        // super tiles
  std::filesystem::path mosaic_first() const { return root / "mosaic_first"; }
  std::filesystem::path sds() const { return root / "sds"; }
  std::filesystem::path grid() const { return root / "grid"; }

  // Bulky folders Phase 7 removes (frames and assembled planes): a rerun recomputes them.
  std::vector<std::filesystem::path> bulky() const;
  // What resume = off clears: every manifest and assembled result (frames stay; their manifest goes).
  std::vector<std::filesystem::path> resume_state() const;
};

}  // namespace zm
