// Resume works at two levels: each phase keys its own artifacts (manifests in the cache), and a finished run leaves
// run_complete.json keyed by the inputs (path, size, mtime) and every setting that shapes the outputs, so that an
// identical rerun returns at once even after Phase 7 removed the bulky caches.
#include "pipeline/run.hpp"

#include <algorithm>
#include <fstream>

#include "core/config.hpp"
#include "core/hash.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/input_scan.hpp"
#include "pipeline/phase1_ingest.hpp"
#include "pipeline/phase2_cluster.hpp"
#include "pipeline/phase3_master_tiles.hpp"
#include "pipeline/phase45_photometry.hpp"
#include "pipeline/phase4_grid.hpp"
#include "pipeline/phase5_assembly.hpp"
#include "pipeline/phase6_save.hpp"
#include "pipeline/phase7_cleanup.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/grid_stack_plan.hpp"
#include "pipeline/phase45_merge.hpp"
#include "pipeline/route_grid.hpp"
#include "pipeline/route_mosaic_first.hpp"
#include "pipeline/route_sds.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

// Settings that change how a run is carried out but never its outputs.
bool affects_outputs(std::string_view key) {
  static const std::vector<std::string_view> runtime = {
      "num_processing_workers", "parallel_target_cpu_load", "parallel_max_cpu_workers",
      "parallel_target_ram_fraction", "parallel_gpu_vram_fraction", "use_gpu", "assume_cores", "assume_ram_gb",
      "assume_vram_gb", "assume_disk_gb", "telemetry_interval_s", "parallel_io_workers", "memmap_dir",
      "cache_retention", "resume", "phase3_rows_per_chunk", "phase5_rows_per_chunk"};
  return std::find(runtime.begin(), runtime.end(), key) == runtime.end();
}

std::string run_signature(const RunContext& ctx) {
  Hasher h;
  for (const auto& f : scan_input_folder(ctx.input_dir, ctx.output_dir)) {
    const std::string line = f.path.string() + '|' + std::to_string(f.size) + '|' + std::to_string(f.mtime_ns) + '\n';
    h.update(line);
  }
  if (const auto plan = find_stack_plan(ctx.input_dir)) {  // grid mode: the plan's content is an input too
    std::ifstream in(*plan, std::ios::binary);
    h.update(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  std::vector<std::string_view> keys;
  for (const auto& k : config_schema())
    if (affects_outputs(k.name)) keys.push_back(k.name);
  h.update(ctx.config.hash_of(keys));
  return h.hex();
}

fs::path complete_marker(const RunContext& ctx) { return ctx.cache_dir / "run_complete.json"; }

bool load_complete_run(const RunContext& ctx, const std::string& signature, RunOutcome& out) {
  std::ifstream in(complete_marker(ctx));
  if (!in) return false;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("signature") != signature) return false;
    for (const char* k : {"science", "coverage", "preview"})
      if (!fs::exists(j.at(k).get<std::string>())) return false;
    if (!j.at("aesthetic").get<std::string>().empty() && !fs::exists(j.at("aesthetic").get<std::string>()))
      return false;
    out.frames_found = j.at("frames_found");
    out.frames_used = j.at("frames_used");
    out.inputs_set_aside = j.at("inputs_set_aside");
    out.groups = j.at("groups");
    out.master_tiles = j.at("master_tiles").get<std::vector<std::string>>();
    out.science = j.at("science");
    out.aesthetic = j.at("aesthetic");
    out.coverage = j.at("coverage");
    out.preview = j.at("preview");
    out.reused_complete_run = true;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void save_complete_run(const RunContext& ctx, const std::string& signature, const RunOutcome& o) {
  const nlohmann::json j = {{"signature", signature},     {"frames_found", o.frames_found},
                            {"frames_used", o.frames_used}, {"inputs_set_aside", o.inputs_set_aside},
                            {"groups", o.groups},           {"master_tiles", o.master_tiles},
                            {"science", o.science},         {"aesthetic", o.aesthetic},
                            {"coverage", o.coverage},       {"preview", o.preview}};
  write_text_atomic(complete_marker(ctx), j.dump(1));
}

void clear_resume_state(const RunContext& ctx) {
  std::error_code ec;
  for (const char* name : {"phase1_manifest.json", "phase3_manifest.json", "phase45_manifest.json",
                           "phase6_manifest.json", "run_complete.json"})
    fs::remove(ctx.cache_dir / name, ec);
  for (const char* dir : {"phase5", "mosaic_first", "sds", "grid", "phase45_merge"}) fs::remove_all(ctx.cache_dir / dir, ec);
}

void check(const RunContext& ctx) {
  if (ctx.cancelled()) throw RunCancelled();
}

// Phases 2-5 of the classic route: groups -> master tiles -> optimal grid -> harmonisation -> feathered coadd.
struct Assembled {
  OutputGrid grid;
  MosaicArtifacts mosaic;
  MosaicSummary summary;
};

Assembled run_classic(RunContext& ctx, const IngestResult& ingest, RunOutcome& out) {
  const std::vector<FrameGroup> groups = run_phase2(ctx, ingest.frames);
  out.groups = static_cast<int>(groups.size());
  check(ctx);
  const std::vector<MasterTileInfo> master = run_phase3(ctx, ingest.frames, groups);
  for (const auto& t : master) out.master_tiles.push_back(t.path);
  check(ctx);
  const std::vector<TileInfo> master_infos = read_tile_infos(master);
  OutputGrid grid = run_phase4(ctx, master_infos);
  check(ctx);
  const std::vector<TileInfo> tiles = run_phase45_merge(ctx, master_infos, grid);  // identity unless enabled
  check(ctx);
  const std::vector<TileCorrection> corrections = run_phase45(ctx, tiles);
  check(ctx);
  MosaicArtifacts mosaic = run_phase5(ctx, tiles, corrections, grid);
  MosaicSummary summary = summarize_tiles(tiles, out.frames_found);
  out.frames_used = summary.frames_used;
  return {std::move(grid), std::move(mosaic), std::move(summary)};
}

// Frames in group order, then input order inside a group: the order SDS batches follow.
std::vector<FrameRecord> in_group_order(const std::vector<FrameRecord>& frames, const std::vector<FrameGroup>& groups) {
  std::vector<FrameRecord> ordered;
  ordered.reserve(frames.size());
  for (const auto& g : groups)
    for (int m : g.members) ordered.push_back(frames[static_cast<std::size_t>(m)]);
  return ordered.size() == frames.size() ? ordered : frames;
}

// Still Phase 2 for the user: the SDS mega-tiles (its Phase 3) are made on this grid.
OutputGrid global_grid_of(RunContext& ctx, const std::vector<FrameRecord>& frames, std::string_view route) {
  OutputGrid grid = global_grid(ctx, frames);
  report_output_grid(ctx, grid, frames.size(), route);
  return grid;
}

// Mosaic-First or SDS: Phase 2 only orders the frames; Phases 3-5 are the route's own. Falls back SDS ->
// Mosaic-First -> classic with a ROUTE_FALLBACK warning naming the reason.
Assembled run_frame_route(RunContext& ctx, const IngestResult& ingest, RunOutcome& out, bool sds) {
  const std::vector<FrameGroup> groups = run_phase2(ctx, ingest.frames);
  out.groups = static_cast<int>(groups.size());
  check(ctx);
  const std::vector<FrameRecord> frames = in_group_order(ingest.frames, groups);
  const OutputGrid grid = global_grid_of(ctx, frames, sds ? "sds" : "mosaic_first");
  check(ctx);
  if (sds) {
    try {
      MosaicArtifacts mosaic = run_sds(ctx, frames, grid);
      return {grid, std::move(mosaic), summarize_frames(frames, out.frames_found, "sds")};
    } catch (const SdsFailed& e) {
      ctx.events().warn(pipeline_keys::kRouteFallback, {{"from", "sds"}, {"to", "mosaic_first"}, {"reason", e.what()}});
    }
  }
  try {
    MosaicArtifacts mosaic = run_mosaic_first(ctx, frames, grid);
    return {grid, std::move(mosaic), summarize_frames(frames, out.frames_found, "mosaic_first")};
  } catch (const PipelineError& e) {
    ctx.events().warn(pipeline_keys::kRouteFallback, {{"from", "mosaic_first"}, {"to", "classic"}, {"reason", e.what()}});
  }
  return run_classic(ctx, ingest, out);
}

// Grid mode ingests only the frames its stack_plan.csv lists, so it runs its own Phase 1.
Assembled run_grid(RunContext& ctx, RunOutcome& out) {
  GridRunResult g = run_grid_route(ctx);
  out.frames_found = g.summary.frames_found;
  out.frames_used = g.summary.frames_used;
  out.inputs_set_aside = static_cast<int>(g.ingest.set_aside.size());
  out.groups = static_cast<int>(g.stats.layout.tiles.size());
  return {std::move(g.grid), std::move(g.mosaic), std::move(g.summary)};
}

Assembled run_frames(RunContext& ctx, RunOutcome& out, const std::string& route) {
  const IngestResult ingest = run_phase1(ctx);
  out.frames_found = ingest.inputs_found;
  out.frames_used = static_cast<int>(ingest.frames.size());
  out.inputs_set_aside = static_cast<int>(ingest.set_aside.size());
  check(ctx);
  return route == "classic" ? run_classic(ctx, ingest, out) : run_frame_route(ctx, ingest, out, route == "sds");
}

std::pair<std::string, std::string> choose_route(const RunContext& ctx) {
  if (const auto plan = find_stack_plan(ctx.input_dir)) return {"grid", plan->filename().string() + " in the input folder"};
  if (ctx.config.get_bool("sds_mode")) return {"sds", "sds_mode is on"};
  if (ctx.config.get_bool("mosaic_first")) return {"mosaic_first", "mosaic_first is on"};
  return {"classic", "default route"};
}

}  // namespace

RunOutcome run_pipeline(RunContext& ctx) {
  fs::create_directories(ctx.cache_dir);
  RunOutcome out;
  if (ctx.config.get_string("resume") == "off") clear_resume_state(ctx);
  const std::string signature = run_signature(ctx);
  if (ctx.config.get_string("resume") != "off" && load_complete_run(ctx, signature, out)) {
    ctx.events().info(pipeline_keys::kResumeReused, {{"phase", "all"}, {"reused", 1}, {"total", 1}, {"science", out.science}});
    run_phase7(ctx);
    return out;
  }
  fs::remove(complete_marker(ctx));  // rewritten only when this run finishes

  const auto [route, reason] = choose_route(ctx);
  ctx.events().info(pipeline_keys::kRouteSelected, {{"route", route}, {"reason", reason}});
  const Assembled a = route == "grid" ? run_grid(ctx, out) : run_frames(ctx, out, route);
  check(ctx);
  const SavedOutputs saved = run_phase6(ctx, a.summary, a.grid, a.mosaic);
  out.science = saved.science.string();
  out.aesthetic = saved.aesthetic.string();
  out.coverage = saved.coverage.string();
  out.preview = saved.preview.string();
  save_complete_run(ctx, signature, out);
  run_phase7(ctx);
  return out;
}

}  // namespace zm
