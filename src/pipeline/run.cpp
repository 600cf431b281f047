#include "pipeline/run.hpp"

#include "pipeline/phase1_ingest.hpp"
#include "pipeline/phase2_cluster.hpp"
#include "pipeline/phase3_master_tiles.hpp"

namespace zm {

RunOutcome run_pipeline(RunContext& ctx) {
  std::filesystem::create_directories(ctx.cache_dir);
  RunOutcome out;
  const IngestResult ingest = run_phase1(ctx);
  out.frames_used = static_cast<int>(ingest.frames.size());
  out.inputs_set_aside = static_cast<int>(ingest.set_aside.size());
  if (ctx.cancelled()) throw RunCancelled();
  const std::vector<FrameGroup> groups = run_phase2(ctx, ingest.frames);
  out.groups = static_cast<int>(groups.size());
  if (ctx.cancelled()) throw RunCancelled();
  for (const auto& t : run_phase3(ctx, ingest.frames, groups)) out.master_tiles.push_back(t.path);
  return out;
}

}  // namespace zm
