#include "pipeline/model/cache_layout.hpp"

namespace zm {

CacheLayout CacheLayout::under(const std::filesystem::path& output_dir) {
  return {output_dir / ".zemosaic_cache", output_dir / "zemosaic_master_tiles"};
}

std::vector<std::filesystem::path> CacheLayout::bulky() const {
  return {frames(), phase5(), mosaic_first(), sds(), grid(), merge()};
}

std::vector<std::filesystem::path> CacheLayout::resume_state() const {
  return {phase1_manifest(), phase3_manifest(), phase45_manifest(), phase6_manifest(), run_complete(),
          phase5(),          mosaic_first(),    sds(),             grid(),            merge()};
}

}  // namespace zm
