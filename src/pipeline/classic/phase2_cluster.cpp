#include "pipeline/classic/phase2_cluster.hpp"

#include <cmath>

#include "pipeline/classic/clustering.hpp"
#include "pipeline/classic/group_split.hpp"
#include "pipeline/classic/stack_plan.hpp"
#include "pipeline/pipeline_events.hpp"

namespace zm {

std::vector<FrameGroup> run_phase2(const RunContext& ctx, const ClusterOptions& options,
                                   const std::vector<FrameRecord>& frames) {
  PhaseScope scope(*ctx.progress, "2", "Clustering");
  std::vector<FrameSummary> summaries;
  double fov = 0.0;
  for (const auto& f : frames) {
    summaries.push_back({f.centre, f.position_angle_deg, f.time_s});
    fov = std::max(fov, std::hypot(f.width, f.height) * f.scale_arcsec / 3600.0);
  }
  ClusterParams p = options.params;
  p.field_of_view_deg = fov;
  const ClusterResult r = cluster_frames(summaries, p);
  std::vector<std::string> notes = r.notes;
  const std::vector<std::vector<int>> pointings = split_into_pointings(r.groups, frames, notes);

  std::vector<FrameGroup> groups;
  nlohmann::json sizes = nlohmann::json::array();
  for (const auto& g : pointings) {
    FrameGroup fg{static_cast<int>(groups.size()), g};
    sizes.push_back(g.size());
    groups.push_back(std::move(fg));
  }
  write_stack_plan(ctx.output_dir, groups, frames);
  ctx.events().info(pipeline_keys::kClusterSummary,
                    {{"phase", "2"},
                     {"groups", groups.size()},
                     {"threshold_deg", r.threshold_used_deg},
                     {"sizes", sizes},
                     {"notes", notes},
                     {"stack_plan", (ctx.output_dir / "zemosaic_stack_plan.csv").string()}});
  return groups;
}

}  // namespace zm
