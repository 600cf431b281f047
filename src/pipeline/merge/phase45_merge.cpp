// Groups are built in parallel-free order and processed one after another (each one's warps and combines use the
// phase's TBB arena), so the output is identical for any worker count.
#include "pipeline/merge/phase45_merge.hpp"

#include <fmt/format.h>

#include <map>

#include "core/hash.hpp"
#include "events/event_keys.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/merge/super_tile.hpp"
#include "pipeline/merge/tile_overlap.hpp"
#include "plan/parallel_plan.hpp"
#include "stack/method_names.hpp"
#include "sched/worker_arena.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

ParallelPlan merge_plan(const RunContext& ctx, const std::vector<TileInfo>& tiles, const OutputGrid& grid) {
  const ParallelPlan plan = make_plan(PlanKind::phase45, ctx.caps, ctx.options.plan, tiles_onto_grid_job(tiles, grid));
  nlohmann::json fields = to_json(plan);
  fields["phase"] = "4.5";
  fields["kind"] = "phase45_merge";
  ctx.events().info(event_keys::kParallelPlanSummary, std::move(fields));
  return plan;
}

std::string group_signature(const std::vector<TileInfo>& members, const std::string& settings) {
  Hasher h;
  h.update(settings);
  for (const auto& m : members) {
    h.update(m.signature);
    h.update(std::string_view("\n"));
  }
  return h.hex();
}

struct ManifestEntry {
  std::string path;
  nlohmann::json record;  // as written in the INTER_MASTER_MERGE event
};

using Reusable = std::map<std::string, ManifestEntry>;

Reusable load_reusable(const fs::path& p, EventStream& events) {
  return read_manifest<Reusable>(p, events, [](const nlohmann::json& j) {
           Reusable out;
           for (const auto& g : j.at("groups"))
             out[g.at("signature").get<std::string>()] = {g.at("path").get<std::string>(), g.at("record")};
           return out;
         }).value_or(Reusable{});
}

nlohmann::json group_record(const std::vector<TileInfo>& members, const SuperTileResult& r, int id) {
  nlohmann::json ids = nlohmann::json::array(), gains = nlohmann::json::array(), offsets = nlohmann::json::array();
  nlohmann::json connected = nlohmann::json::array();  // false: no overlap path to the anchor, left at (1, 0)
  int frames = 0;
  for (std::size_t k = 0; k < members.size(); ++k) {
    ids.push_back(members[k].id);
    gains.push_back(r.corrections[k].gain);
    offsets.push_back(r.corrections[k].offset);
    connected.push_back(r.corrections[k].connected);
    frames += members[k].frames;
  }
  return {{"members", ids},   {"super_tile", id},   {"path", r.path},
          {"anchor", members[r.anchor].id}, {"gains", gains}, {"offsets", offsets}, {"connected", connected},
          {"frames", frames}, {"band_rows", r.band_rows}, {"width", r.cutout.cols}, {"height", r.cutout.rows},
          {"rejected_fraction", r.stats.rejected_fraction()}, {"seconds", r.seconds}};
}

TileInfo super_tile_info(int id, const std::string& path, const std::string& signature, int frames) {
  return read_tile_infos({MasterTileInfo{id, path, frames, signature, true}}).front();
}

}  // namespace

namespace {

// Each super tile takes the place of its group's first member; other tiles keep their order.
std::vector<TileInfo> replace_groups(const std::vector<TileInfo>& tiles, const std::vector<int>& group_of,
                                     const std::vector<TileInfo>& supers) {
  std::vector<TileInfo> out;
  std::vector<char> placed(supers.size(), 0);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const int g = group_of[i];
    if (g < 0) {
      out.push_back(tiles[i]);
    } else if (!placed[g]) {
      placed[g] = 1;
      out.push_back(supers[g]);
    }
  }
  return out;
}

void report_merge(EventStream& events, const nlohmann::json& records, std::size_t before, std::size_t after,
                  double threshold) {
  events.info(pipeline_keys::kInterMasterMerge, {{"phase", "4.5"}, {"groups", records}, {"tiles_before", before},
                                                 {"tiles_after", after}, {"threshold", threshold}});
}

// Builds (or reuses) one super tile per group, recording each in the manifest as it completes.
struct GroupMerger {
  const RunContext& ctx;
  const OutputGrid& grid;
  SuperTileOptions options;
  std::string settings;
  fs::path dir;
  Reusable reusable;
  WorkerArena& arena;
  nlohmann::json manifest = {{"schema", 1}, {"groups", nlohmann::json::array()}};
  nlohmann::json records = nlohmann::json::array();
  int reused = 0;

  TileInfo merge(const std::vector<TileInfo>& members) {
    int id = members.front().id, frames = 0;
    for (const auto& m : members) {
      id = std::min(id, m.id);
      frames += m.frames;
    }
    const std::string signature = group_signature(members, settings);
    nlohmann::json record;
    std::string path;
    if (auto it = reusable.find(signature); it != reusable.end() && fs::exists(it->second.path)) {
      path = it->second.path;
      record = it->second.record;
      record["reused"] = true;
      ++reused;
    } else {
      path = (dir / fmt::format("super_tile_{:04d}.fits", id)).string();
      SuperTileResult r;
      arena.run([&] { r = build_super_tile(id, members, grid, path, options); });
      record = group_record(members, r, id);
      record["reused"] = false;
    }
    manifest["groups"].push_back({{"signature", signature}, {"path", path}, {"record", record}});
    write_manifest(dir / "manifest.json", manifest);
    records.push_back(record);
    return super_tile_info(id, path, signature, frames);
  }
};

}  // namespace

std::vector<TileInfo> run_phase45_merge(const RunContext& ctx, const MergeOptions& merge,
                                        const std::vector<TileInfo>& tiles, const OutputGrid& grid) {
  if (!merge.enabled || tiles.size() < 2) return tiles;
  PhaseScope scope(*ctx.progress, "4.5", "Inter-master merge");
  EventStream& events = ctx.events();
  std::vector<Wcs> footprints;
  for (const auto& t : tiles) footprints.push_back(t.wcs);
  const auto groups = overlap_groups(footprints, merge.overlap_threshold, merge.min_group_size, merge.max_group);
  if (groups.empty()) {
    report_merge(events, nlohmann::json::array(), tiles.size(), tiles.size(), merge.overlap_threshold);
    return tiles;
  }
  const ParallelPlan plan = merge_plan(ctx, tiles, grid);
  WorkerArena arena(plan.cpu_workers);
  const fs::path dir = ctx.cache.merge();
  GroupMerger merger{ctx, grid, merge.tile, merge.settings + grid_cards(grid), dir,
                     ctx.resume() ? load_reusable(dir / "manifest.json", events) : Reusable{}, arena};
  merger.options.memory_budget_bytes = plan.ram_budget_bytes;
  merger.options.cancel = ctx.cancel;
  ProgressCounter counter(*ctx.progress, "inter_master_merge", groups.size());
  std::vector<int> group_of(tiles.size(), -1);
  std::vector<TileInfo> supers;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    ctx.check();
    std::vector<TileInfo> members;
    for (int i : groups[g]) {
      members.push_back(tiles[i]);
      group_of[i] = static_cast<int>(g);
    }
    supers.push_back(merger.merge(members));
    counter.advance();
  }
  std::vector<TileInfo> out = replace_groups(tiles, group_of, supers);
  if (merger.reused > 0)
    events.info(pipeline_keys::kResumeReused, {{"phase", "4.5"}, {"stage", "inter_master_merge"},
                                               {"reused", merger.reused}, {"total", groups.size()}});
  report_merge(events, merger.records, tiles.size(), out.size(), merge.overlap_threshold);
  return out;
}

}  // namespace zm
