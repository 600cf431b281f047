// Phase 3 driver: plans the stacking, runs groups through the bounded scheduler (results committed in group order)
// and keeps a manifest so a rerun reuses every tile whose group and settings are unchanged.
#include "pipeline/phase3_master_tiles.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>

#include "events/event_keys.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/master_tile.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"
#include "sched/scheduler.hpp"
#include "stack/method_names.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

MasterTileOptions options_from(const Config& cfg, int rows) {
  MasterTileOptions o;
  o.norm = parse_norm_method(cfg.get_string("stack_norm_method")).value_or(NormMethod::LinearFit);
  o.weight = parse_weight_method(cfg.get_string("stack_weight_method")).value_or(WeightMethod::NoiseVariance);
  o.reject.algo = parse_reject_algo(cfg.get_string("stack_reject_algo")).value_or(RejectAlgo::WinsorizedSigmaClip);
  o.reject.kappa_low = static_cast<float>(cfg.get_double("stack_kappa_low"));
  o.reject.kappa_high = static_cast<float>(cfg.get_double("stack_kappa_high"));
  o.reject.max_iterations = static_cast<int>(cfg.get_int("stack_max_iterations"));
  o.reject.combine = parse_combine_method(cfg.get_string("stack_final_combine")).value_or(CombineMethod::Mean);
  o.kernel = parse_kernel(cfg.get_string("phase3_interpolation")).value_or(Kernel::Lanczos3);
  o.rows_per_chunk = rows;
  o.flatten_background = cfg.get_bool("tile_background_flatten");
  o.star_gains = cfg.get_bool("stack_star_gains");
  return o;
}

std::map<std::string, MasterTileInfo> load_manifest(const fs::path& p, const std::string& config_hash) {
  std::map<std::string, MasterTileInfo> out;
  std::ifstream in(p);
  if (!in) return out;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("config_hash") != config_hash) return out;
    for (const auto& t : j.at("tiles"))
    {
      const auto sig = t.at("signature").get<std::string>();
      out[sig] = {t.at("id").get<int>(), t.at("path").get<std::string>(), t.at("frames").get<int>(), sig, true};
    }
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
}

}  // namespace

std::vector<std::string_view> phase3_config_keys() {
  return {"stack_norm_method", "stack_weight_method", "stack_reject_algo",  "stack_kappa_low",
          "stack_kappa_high",  "stack_max_iterations", "stack_final_combine", "phase3_interpolation",
          "tile_background_flatten", "stack_star_gains", "vignetting_correction"};
}

std::vector<MasterTileInfo> run_phase3(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                       const std::vector<FrameGroup>& groups) {
  PhaseScope scope(*ctx.progress, "3", "Master tiles");
  EventStream& events = ctx.events();
  JobSizes job;
  job.frame_width = frames.front().width;
  job.frame_height = frames.front().height;
  job.frame_channels = frames.front().channels;
  job.frames_total = frames.size();
  job.groups = groups.size();
  for (const auto& g : groups) job.max_frames_per_group = std::max<std::uint64_t>(job.max_frames_per_group, g.members.size());
  const ParallelPlan plan = make_plan(PlanKind::master_tiles, ctx.caps, ctx.config, job);
  emit_plan_summary(events, "3", plan);
  const int rows = ctx.config.get_int("phase3_rows_per_chunk") > 0
                       ? static_cast<int>(ctx.config.get_int("phase3_rows_per_chunk"))
                       : std::max(16, plan.rows_per_chunk);
  const MasterTileOptions options = options_from(ctx.config, rows);
  const auto keys = phase3_config_keys();
  const std::string config_hash = ctx.config.hash_of(keys);
  const fs::path manifest_path = ctx.cache_dir / "phase3_manifest.json";
  const auto reusable = load_manifest(manifest_path, config_hash);
  const fs::path frames_dir = ctx.cache_dir / "frames";

  std::vector<MasterTileInfo> tiles;
  nlohmann::json manifest = {{"schema", 1}, {"config_hash", config_hash}, {"tiles", nlohmann::json::array()}};
  ProgressCounter counter(*ctx.progress, "master_tiles", groups.size(), std::string(event_keys::kMasterTileCountUpdate));

  SchedOptions so;
  so.workers = plan.cpu_workers;  // idle workers help inside the tiles in flight (TBB loops in warp and combine)
  so.max_in_flight = std::max(1, plan.tiles_in_flight);
  so.memory_budget_bytes = plan.ram_budget_bytes;
  so.cancel = ctx.cancel;
  so.on_error = OnItemError::stop;
  so.item_name = [&](std::size_t i) { return fmt::format("master tile {}", groups[i].id); };
  auto footprint = [&](const FrameGroup& g) {
    return master_tile_footprint(static_cast<int>(g.members.size()), job.frame_width, job.frame_height,
                                 job.frame_channels, rows);
  };
  auto work = [&](const FrameGroup& g, WorkContext& wc) -> MasterTileInfo {
    wc.throw_if_cancelled();
    const std::string sig = group_signature(g, frames);
    if (auto it = reusable.find(sig); it != reusable.end() && fs::exists(it->second.path)) return it->second;
    const MasterTileResult r = build_master_tile(g.id, g.members, frames, frames_dir, ctx.tiles_dir, options, events);
    double rms_sum = 0;
    int registered = 0;
    for (const auto& reg : r.registrations)
      if (reg.method != "wcs" && reg.method != "identity") {
        rms_sum += reg.rms_px;
        ++registered;
      }
    events.info(pipeline_keys::kMasterTileDone, {{"phase", "3"},
                                                  {"tile", g.id},
                                                  {"path", r.path},
                                                  {"frames", r.frames},
                                                  {"registered", registered + 1},
                                                  {"reg_rms_px", registered ? rms_sum / registered : 0.0},
                                                  {"rejected_fraction", r.stats.rejected_fraction()},
                                                  {"seconds", r.seconds}});
    return {g.id, r.path, r.frames, sig, false};
  };
  auto commit = [&](const FrameGroup&, MasterTileInfo&& t) {
    manifest["tiles"].push_back({{"id", t.id}, {"path", t.path}, {"frames", t.frames}, {"signature", t.signature}});
    write_text_atomic(manifest_path, manifest.dump(1));
    tiles.push_back(std::move(t));
    counter.advance();
  };
  const RunSummary summary = run_items<FrameGroup>(groups, footprint, work, commit, so);
  if (summary.cancelled) throw RunCancelled();
  int reused = 0;
  for (const auto& t : tiles) reused += t.reused ? 1 : 0;
  if (reused > 0) events.info(pipeline_keys::kResumeReused, {{"phase", "3"}, {"reused", reused}, {"total", tiles.size()}});
  return tiles;
}

}  // namespace zm
