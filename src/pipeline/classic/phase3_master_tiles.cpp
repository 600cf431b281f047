// Phase 3 driver: plans the stacking, runs groups through the bounded scheduler (results committed in group order)
// and keeps a manifest so a rerun reuses every tile whose signature is unchanged.
#include "pipeline/classic/phase3_master_tiles.hpp"

#include <fmt/format.h>

#include <map>

#include "core/hash.hpp"
#include "events/event_keys.hpp"
#include "events/plan_summary.hpp"
#include "pipeline/classic/master_tile.hpp"
#include "pipeline/classic/stack_plan.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"
#include "sched/scheduler.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kManifestSchema = 3;  // 3: tiles on the union of their members

using Reusable = std::map<std::string, MasterTileInfo>;

Reusable load_reusable(const fs::path& p, EventStream& events) {
  return read_manifest<Reusable>(p, events, [](const nlohmann::json& j) {
           Reusable out;
           if (j.at("schema").get<int>() != kManifestSchema) return out;
           for (const auto& t : j.at("tiles")) {
             const auto sig = t.at("signature").get<std::string>();
             out[sig] = {t.at("id").get<int>(), t.at("path").get<std::string>(), t.at("frames").get<int>(), sig, true};
           }
           return out;
         }).value_or(Reusable{});
}

// The plan sees the largest tile (the union of a group's footprints can exceed one frame).
JobSizes stacking_job(const std::vector<FrameRecord>& frames, const std::vector<FrameGroup>& groups,
                      const std::vector<TileGeometry>& tiles) {
  JobSizes job;
  job.frame_width = frames.front().width;
  job.frame_height = frames.front().height;
  job.frame_channels = frames.front().channels;
  job.frames_total = frames.size();
  job.groups = groups.size();
  for (const auto& g : groups)
    job.max_frames_per_group = std::max<std::uint64_t>(job.max_frames_per_group, g.members.size());
  for (const auto& t : tiles) {
    job.tile_width = std::max(job.tile_width, t.width);
    job.tile_height = std::max(job.tile_height, t.height);
  }
  return job;
}

void report_tile(EventStream& events, int id, const MasterTileResult& r) {
  double rms_sum = 0;
  int registered = 0;
  for (const auto& reg : r.registrations)
    if (reg.method != "wcs" && reg.method != "identity") {
      rms_sum += reg.rms_px;
      ++registered;
    }
  events.info(pipeline_keys::kMasterTileDone, {{"phase", "3"},
                                                {"tile", id},
                                                {"path", r.path},
                                                {"frames", r.frames},
                                                {"registered", registered + 1},
                                                {"reg_rms_px", registered ? rms_sum / registered : 0.0},
                                                {"rejected_fraction", r.stats.rejected_fraction()},
                                                {"seconds", r.seconds}});
}

}  // namespace

std::vector<MasterTileInfo> run_phase3(const RunContext& ctx, const MasterTileStageOptions& stage,
                                       const IngestResult& ingest, const std::vector<FrameGroup>& groups) {
  PhaseScope scope(*ctx.progress, "3", "Master tiles");
  EventStream& events = ctx.events();
  const std::vector<FrameRecord>& frames = ingest.frames;
  std::vector<TileGeometry> geometry;
  for (const auto& g : groups) geometry.push_back(group_tile_geometry(g.members, frames));
  const JobSizes job = stacking_job(frames, groups, geometry);
  const ParallelPlan plan = make_plan(PlanKind::master_tiles, ctx.caps, ctx.options.plan, job);
  emit_plan_summary(events, "3", plan);
  MasterTileOptions options = stage.tile;
  options.rows_per_chunk = stage.rows_override > 0 ? stage.rows_override : std::max(16, plan.rows_per_chunk);
  const fs::path manifest_path = ctx.cache.phase3_manifest();
  const Reusable reusable = ctx.resume() ? load_reusable(manifest_path, events) : Reusable{};
  const fs::path frames_dir = ctx.cache.frames();

  std::vector<MasterTileInfo> tiles;
  nlohmann::json manifest = {{"schema", kManifestSchema}, {"tiles", nlohmann::json::array()}};
  ProgressCounter counter(*ctx.progress, "master_tiles", groups.size(), std::string(event_keys::kMasterTileCountUpdate));

  SchedOptions so;
  so.workers = plan.cpu_workers;  // idle workers help inside the tiles in flight (TBB loops in warp and combine)
  so.max_in_flight = std::max(1, plan.tiles_in_flight);
  so.memory_budget_bytes = plan.ram_budget_bytes;
  so.cancel = ctx.cancel;
  so.on_error = OnItemError::stop;
  so.item_name = [&](std::size_t i) { return fmt::format("master tile {}", groups[i].id); };
  auto footprint = [&](const FrameGroup& g) {
    const TileGeometry& t = geometry[static_cast<std::size_t>(&g - groups.data())];
    return master_tile_footprint(static_cast<int>(g.members.size()), t.width, t.height, job.frame_width,
                                 job.frame_height, job.frame_channels, options.rows_per_chunk);
  };
  auto work = [&](const FrameGroup& g, WorkContext& wc) -> MasterTileInfo {
    wc.throw_if_cancelled();
    const std::string sig = hash_hex(group_signature(g, frames) + ingest.key + stage.settings);
    if (auto it = reusable.find(sig); it != reusable.end() && fs::exists(it->second.path)) return it->second;
    const MasterTileResult r = build_master_tile(g.id, g.members, frames, frames_dir, ctx.cache.tiles, options, events);
    report_tile(events, g.id, r);
    return {g.id, r.path, r.frames, sig, false};
  };
  auto commit = [&](const FrameGroup&, MasterTileInfo&& t) {
    manifest["tiles"].push_back({{"id", t.id}, {"path", t.path}, {"frames", t.frames}, {"signature", t.signature}});
    write_manifest(manifest_path, manifest);
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
