#include "pipeline/routes/route_common.hpp"

#include "pipeline/frame_photometry/frame_photometry.hpp"
#include "pipeline/frame_photometry/match_gate_event.hpp"
#include "pipeline/pipeline_events.hpp"

namespace zm {

GlobalCoaddOptions global_coadd_options(const RunContext& ctx, const GlobalCoaddStageOptions& stage,
                                        const ParallelPlan& plan) {
  GlobalCoaddOptions o;
  o.reject = stage.reject;
  o.kernel = stage.kernel;
  o.band_rows = stage.rows_override;
  o.memory_budget_bytes = plan.max_chunk_bytes;
  o.workers = std::max(1, plan.cpu_workers);
  o.cancel = ctx.cancel;
  return o;
}

void normalize_frames(const RunContext& ctx, const std::vector<FrameRecord>& frames, std::vector<CoaddFrame>& inputs,
                      int workers, std::string_view phase) {
  std::vector<std::array<float, 3>> sigmas;
  for (const auto& f : frames) sigmas.push_back(f.sky_sigma);
  const FrameMatchOptions& match = ctx.options.global_coadd.match;
  const RoutePhotometry p = solve_star_photometry(inputs, match, workers);
  apply_route_photometry(inputs, p, sigmas);
  nlohmann::json gains = nlohmann::json::array();
  for (const auto& c : p.corrections) gains.push_back({c.gain, c.offset});
  ctx.events().info(pipeline_keys::kPhotometrySolved, {{"phase", phase},
                                                       {"inputs", "frames"},
                                                       {"anchor", p.anchor},
                                                       {"pairs", p.pairs},
                                                       {"disconnected", p.disconnected},
                                                       {"corrections", std::move(gains)}});
  emit_match_gate(ctx.events(), phase, "frames", match.significance, p.gains_applied, p.gains_not_significant,
                  p.offsets_applied, p.offsets_not_significant, p.offsets_unlinked + p.disconnected);
}

}  // namespace zm
