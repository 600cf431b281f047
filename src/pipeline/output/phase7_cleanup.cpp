#include "pipeline/output/phase7_cleanup.hpp"

#include "pipeline/pipeline_events.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {
std::uintmax_t tree_bytes(const fs::path& p) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}
}  // namespace

void run_phase7(const RunContext& ctx) {
  PhaseScope scope(*ctx.progress, "7", "Cleanup");
  const std::string retention = ctx.options.run.keep_cache ? "keep" : "run_end";
  nlohmann::json removed = nlohmann::json::array();
  std::uintmax_t freed = 0;
  if (!ctx.options.run.keep_cache) {
    for (const fs::path& p : ctx.cache.bulky()) {
      std::error_code ec;
      if (!fs::exists(p, ec)) continue;
      freed += tree_bytes(p);
      fs::remove_all(p, ec);
      if (!ec) removed.push_back(p.string());
    }
  }
  ctx.events().info(pipeline_keys::kCleanupDone,
                    {{"phase", "7"}, {"removed", removed}, {"bytes_freed", freed}, {"retention", retention}});
}

}  // namespace zm
