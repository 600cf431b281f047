// Groups are built in parallel-free order and processed one after another (each one's warps and combines use the
// phase's TBB arena), so the output is identical for any worker count.
#include "pipeline/phase45_merge.hpp"

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <fstream>
#include <map>

#include "core/hash.hpp"
#include "events/event_keys.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/mosaic_result.hpp"
#include "pipeline/phase4_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/route_common.hpp"
#include "pipeline/super_tile.hpp"
#include "pipeline/tile_overlap.hpp"
#include "plan/parallel_plan.hpp"
#include "stack/method_names.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

RejectParams merge_reject(const Config& cfg) {
  RejectParams r;
  const std::string method = cfg.get_string("inter_master_stack_method");
  r.algo = method == "mean"          ? RejectAlgo::None
           : method == "kappa_sigma" ? RejectAlgo::KappaSigma
                                     : RejectAlgo::WinsorizedSigmaClip;
  r.kappa_low = static_cast<float>(cfg.get_double("stack_kappa_low"));
  r.kappa_high = static_cast<float>(cfg.get_double("stack_kappa_high"));
  r.max_iterations = static_cast<int>(cfg.get_int("stack_max_iterations"));
  r.combine = CombineMethod::Mean;
  return r;
}

SuperTileOptions merge_options(const RunContext& ctx, const ParallelPlan& plan) {
  const Config& cfg = ctx.config;
  SuperTileOptions o;
  o.reject = merge_reject(cfg);
  o.kernel = parse_kernel(cfg.get_string("phase5_interpolation")).value_or(Kernel::Lanczos3);
  o.photometry = route_harmonize_options(cfg);
  o.photometry.clip_sigma = cfg.get_double("inter_master_photometry_clip_sigma");
  o.photometry.flux.clip_sigma = o.photometry.clip_sigma;
  o.photometry.overlap_min = 0.0;  // members overlap by construction; chains must stay connected
  o.preview_side = static_cast<int>(cfg.get_int("intertile_preview_size"));
  o.memory_budget_bytes = plan.ram_budget_bytes;
  o.cancel = ctx.cancel;
  return o;
}

ParallelPlan merge_plan(const RunContext& ctx, const std::vector<TileInfo>& tiles, const OutputGrid& grid) {
  const ParallelPlan plan = make_plan(PlanKind::phase45, ctx.caps, ctx.config, tiles_onto_grid_job(tiles, grid));
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

std::map<std::string, ManifestEntry> load_manifest(const fs::path& p) {
  std::map<std::string, ManifestEntry> out;
  std::ifstream in(p);
  if (!in) return out;
  try {
    const auto j = nlohmann::json::parse(in);
    for (const auto& g : j.at("groups"))
      out[g.at("signature").get<std::string>()] = {g.at("path").get<std::string>(), g.at("record")};
  } catch (const std::exception&) {
    out.clear();
  }
  return out;
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

std::vector<std::string_view> phase45_merge_config_keys() {
  return {"inter_master_merge",        "inter_master_overlap_threshold", "inter_master_min_group_size",
          "inter_master_max_group",    "inter_master_stack_method",      "inter_master_photometry_clip_sigma",
          "stack_kappa_low",           "stack_kappa_high",               "stack_max_iterations",
          "phase5_interpolation",      "intertile_prune_k",              "intertile_robust_clip_sigma",
          "intertile_preview_size",    "intertile_gain_limits",          "intertile_offset_limit_adu"};
}

std::vector<TileInfo> run_phase45_merge(const RunContext& ctx, const std::vector<TileInfo>& tiles,
                                        const OutputGrid& grid) {
  if (!ctx.config.get_bool("inter_master_merge") || tiles.size() < 2) return tiles;
  PhaseScope scope(*ctx.progress, "4.5", "Inter-master merge");
  EventStream& events = ctx.events();
  const double threshold = ctx.config.get_double("inter_master_overlap_threshold");
  std::vector<Wcs> footprints;
  for (const auto& t : tiles) footprints.push_back(t.wcs);
  const auto groups = overlap_groups(footprints, threshold, static_cast<int>(ctx.config.get_int("inter_master_min_group_size")),
                                     static_cast<int>(ctx.config.get_int("inter_master_max_group")));
  nlohmann::json records = nlohmann::json::array();
  if (groups.empty()) {
    events.info(kInterMasterMerge, {{"phase", "4.5"}, {"groups", records}, {"tiles_before", tiles.size()},
                                    {"tiles_after", tiles.size()}, {"threshold", threshold}});
    return tiles;
  }

  const ParallelPlan plan = merge_plan(ctx, tiles, grid);
  const SuperTileOptions options = merge_options(ctx, plan);
  const std::string settings = ctx.config.hash_of(phase45_merge_config_keys()) + grid_cards(grid);
  const fs::path dir = ctx.cache_dir / "phase45_merge";
  const fs::path manifest_path = dir / "manifest.json";
  const bool resume = ctx.config.get_string("resume") != "off";
  const auto reusable = resume ? load_manifest(manifest_path) : std::map<std::string, ManifestEntry>{};
  nlohmann::json manifest = {{"schema", 1}, {"groups", nlohmann::json::array()}};
  ProgressCounter counter(*ctx.progress, "inter_master_merge", groups.size());

  std::vector<int> group_of(tiles.size(), -1);
  std::vector<TileInfo> supers;
  int reused = 0;
  tbb::task_arena arena(std::max(1, plan.cpu_workers));
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (ctx.cancelled()) throw RunCancelled();
    std::vector<TileInfo> members;
    int id = tiles[groups[g].front()].id, frames = 0;
    for (int i : groups[g]) {
      members.push_back(tiles[i]);
      group_of[i] = static_cast<int>(g);
      id = std::min(id, tiles[i].id);
      frames += tiles[i].frames;
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
      arena.execute([&] { r = build_super_tile(id, members, grid, path, options); });
      record = group_record(members, r, id);
      record["reused"] = false;
    }
    manifest["groups"].push_back({{"signature", signature}, {"path", path}, {"record", record}});
    write_text_atomic(manifest_path, manifest.dump(1));
    records.push_back(record);
    supers.push_back(super_tile_info(id, path, signature, frames));
    counter.advance();
  }

  std::vector<TileInfo> out;
  std::vector<char> placed(groups.size(), 0);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    const int g = group_of[i];
    if (g < 0) {
      out.push_back(tiles[i]);
    } else if (!placed[g]) {
      placed[g] = 1;
      out.push_back(supers[g]);
    }
  }
  if (reused > 0)
    events.info(pipeline_keys::kResumeReused,
                {{"phase", "4.5"}, {"stage", "inter_master_merge"}, {"reused", reused}, {"total", groups.size()}});
  events.info(kInterMasterMerge, {{"phase", "4.5"}, {"groups", records}, {"tiles_before", tiles.size()},
                                  {"tiles_after", out.size()}, {"threshold", threshold}});
  return out;
}

}  // namespace zm
