// Previews are read in parallel (each tile streamed by bands, so memory is a few previews at a time); the fits
// and the solve are cheap and run on the previews only.
#include "pipeline/merge/phase45_photometry.hpp"

#include <tbb/parallel_for.h>

#include <optional>

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/frame_photometry/match_gate_event.hpp"
#include "pipeline/model/manifest.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"
#include "sched/worker_arena.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

std::vector<TileCorrection> identity(const std::vector<TileInfo>& tiles) {
  std::vector<TileCorrection> out(tiles.size());
  for (std::size_t i = 0; i < tiles.size(); ++i) out[i].id = tiles[i].id;
  return out;
}

std::vector<TilePreview> read_previews(const RunContext& ctx, int max_side, const std::vector<TileInfo>& tiles) {
  JobSizes job;
  job.groups = tiles.size();
  job.tile_width = tiles.front().width;
  job.tile_height = tiles.front().height;
  job.output_channels = tiles.front().channels;
  const ParallelPlan plan = make_plan(PlanKind::phase45, ctx.caps, ctx.options.plan, job);
  emit_plan_summary(ctx.events(), "4.5", plan);
  std::vector<std::optional<TilePreview>> slots(tiles.size());
  ProgressCounter counter(*ctx.progress, "tile_previews", tiles.size());
  WorkerArena arena(std::min(plan.cpu_workers, std::max(1, plan.tiles_in_flight)));
  arena.run([&] {
    tbb::parallel_for(std::size_t{0}, tiles.size(), [&](std::size_t i) {
      if (ctx.cancelled()) return;
      slots[i].emplace(read_tile_preview(tiles[i].path, static_cast<int>(i), max_side));
      slots[i]->weight = std::max(1, tiles[i].frames);
      counter.advance();
    });
  });
  if (ctx.cancelled()) throw RunCancelled();
  std::vector<TilePreview> previews;
  previews.reserve(tiles.size());
  for (auto& s : slots) previews.push_back(std::move(*s));
  return previews;
}

nlohmann::json summary_of(const HarmonizeResult& r, const std::vector<TileInfo>& tiles) {
  nlohmann::json per_tile = nlohmann::json::array();
  for (std::size_t i = 0; i < r.tiles.size(); ++i)
    per_tile.push_back({{"id", tiles[i].id},
                        {"gain", r.tiles[i].gain},
                        {"offset", r.tiles[i].offset},
                        {"connected", r.tiles[i].connected}});
  double before = 0, after = 0;
  for (const auto& p : r.pairs) {
    before = std::max(before, p.residual_before);
    after = std::max(after, p.residual_after);
  }
  return {{"phase", "4.5"},
          {"anchor", r.anchor >= 0 ? tiles[r.anchor].id : -1},
          {"tiles", per_tile},
          {"pairs", r.pairs.size()},
          {"max_residual_before", before},
          {"max_residual_after", after}};
}

using Corrections = std::vector<TileCorrection>;

Corrections from_cache(const fs::path& path, const std::string& key, std::size_t n, EventStream& events) {
  return read_manifest<Corrections>(path, events, [&](const nlohmann::json& j) {
           Corrections out;
           if (j.at("key") != key || j.at("corrections").size() != n) return out;
           for (const auto& c : j.at("corrections")) {
             TileCorrection t;
             t.id = c.at("id");
             t.gain = c.at("gain");
             t.offset = c.at("offset");
             t.anchor = c.at("anchor");
             t.connected = c.at("connected");
             out.push_back(t);
           }
           return out;
         }).value_or(Corrections{});
}

void to_cache(const fs::path& path, const std::string& key, const Corrections& c) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : c)
    arr.push_back({{"id", t.id}, {"gain", t.gain}, {"offset", t.offset}, {"anchor", t.anchor}, {"connected", t.connected}});
  write_manifest(path, {{"key", key}, {"corrections", arr}});
}

}  // namespace

std::vector<TileCorrection> run_phase45(const RunContext& ctx, const TileMatchOptions& options,
                                        const std::vector<TileInfo>& tiles) {
  PhaseScope scope(*ctx.progress, "4.5", "Photometric harmonisation");
  EventStream& events = ctx.events();
  if (!options.enabled) {
    events.warn(pipeline_keys::kPhotometrySkipped, {{"phase", "4.5"}, {"reason", "intertile_photometric_match is off"}});
    return identity(tiles);
  }
  if (tiles.size() < 2) {
    events.warn(pipeline_keys::kPhotometrySkipped, {{"phase", "4.5"}, {"reason", "only one master tile"}});
    return identity(tiles);
  }
  const std::string key = hash_hex(tiles_signature(tiles) + options.settings);
  const fs::path cache = ctx.cache.phase45_manifest();
  if (ctx.resume()) {
    auto reused = from_cache(cache, key, tiles.size(), events);
    if (!reused.empty()) {
      events.info(pipeline_keys::kResumeReused, {{"phase", "4.5"}, {"reused", 1}, {"total", 1}});
      return reused;
    }
  }
  const std::vector<TilePreview> previews = read_previews(ctx, options.preview_side, tiles);
  HarmonizeResult r = harmonize_tiles(previews, options.harmonize);
  for (std::size_t i = 0; i < r.tiles.size(); ++i) r.tiles[i].id = tiles[i].id;
  const fs::path report = ctx.output_dir / "zemosaic_photometry.json";
  write_text_atomic(report, to_json(r).dump(1));
  nlohmann::json fields = summary_of(r, tiles);
  fields["file"] = report.string();
  events.info(pipeline_keys::kPhotometrySolved, fields);
  int unconnected = 0;
  for (const auto& t : r.tiles) unconnected += t.connected ? 0 : 1;
  emit_match_gate(events, "4.5", "tiles", options.harmonize.significance, r.gains_applied, r.gains_not_significant,
                  r.offsets_applied, r.offsets_not_significant, unconnected);
  if (unconnected > 0)
    events.warn(pipeline_keys::kPhotometrySkipped,
                {{"phase", "4.5"}, {"reason", std::to_string(unconnected) + " tile(s) share no overlap with the anchor's group; left uncorrected"}});
  to_cache(cache, key, r.tiles);
  return r.tiles;
}

}  // namespace zm
