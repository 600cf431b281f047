// Previews are read in parallel (each tile streamed by bands, so memory is a few previews at a time); the fits
// and the solve are cheap and run on the previews only.
#include "pipeline/phase45_photometry.hpp"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <fstream>
#include <optional>

#include "core/hash.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

HarmonizeOptions options_from(const Config& cfg) {
  HarmonizeOptions o;
  o.overlap_min = cfg.get_double("intertile_overlap_min");
  o.prune_k = static_cast<int>(cfg.get_int("intertile_prune_k"));
  o.clip_sigma = cfg.get_double("intertile_robust_clip_sigma");
  const auto limits = cfg.get_double_list("intertile_gain_limits");
  if (limits.size() == 2 && limits[0] > 0 && limits[0] < limits[1]) {
    o.gain_min = limits[0];
    o.gain_max = limits[1];
  }
  const double off = cfg.get_double("intertile_offset_limit_adu");
  if (off > 0) o.offset_limit = off;
  return o;
}

std::vector<TileCorrection> identity(const std::vector<TileInfo>& tiles) {
  std::vector<TileCorrection> out(tiles.size());
  for (std::size_t i = 0; i < tiles.size(); ++i) out[i].id = tiles[i].id;
  return out;
}

std::vector<TilePreview> read_previews(const RunContext& ctx, const std::vector<TileInfo>& tiles) {
  JobSizes job;
  job.groups = tiles.size();
  job.tile_width = tiles.front().width;
  job.tile_height = tiles.front().height;
  job.output_channels = tiles.front().channels;
  const ParallelPlan plan = make_plan(PlanKind::phase45, ctx.caps, ctx.config, job);
  emit_plan_summary(ctx.events(), "4.5", plan);
  const int max_side = static_cast<int>(ctx.config.get_int("intertile_preview_size"));
  std::vector<std::optional<TilePreview>> slots(tiles.size());
  ProgressCounter counter(*ctx.progress, "tile_previews", tiles.size());
  tbb::task_arena arena(std::max(1, std::min(plan.cpu_workers, std::max(1, plan.tiles_in_flight))));
  arena.execute([&] {
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

std::vector<TileCorrection> from_cache(const fs::path& path, const std::string& key, std::size_t n) {
  std::ifstream in(path);
  if (!in) return {};
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("key") != key || j.at("corrections").size() != n) return {};
    std::vector<TileCorrection> out;
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
  } catch (const std::exception&) {
    return {};
  }
}

void to_cache(const fs::path& path, const std::string& key, const std::vector<TileCorrection>& c) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : c)
    arr.push_back({{"id", t.id}, {"gain", t.gain}, {"offset", t.offset}, {"anchor", t.anchor}, {"connected", t.connected}});
  write_text_atomic(path, nlohmann::json{{"key", key}, {"corrections", arr}}.dump(1));
}

}  // namespace

std::vector<std::string_view> phase45_config_keys() {
  return {"intertile_photometric_match", "intertile_overlap_min", "intertile_prune_k", "intertile_robust_clip_sigma",
          "intertile_preview_size",      "intertile_gain_limits", "intertile_offset_limit_adu"};
}

std::vector<TileCorrection> run_phase45(const RunContext& ctx, const std::vector<TileInfo>& tiles) {
  PhaseScope scope(*ctx.progress, "4.5", "Photometric harmonisation");
  EventStream& events = ctx.events();
  if (!ctx.config.get_bool("intertile_photometric_match")) {
    events.warn(pipeline_keys::kPhotometrySkipped, {{"phase", "4.5"}, {"reason", "intertile_photometric_match is off"}});
    return identity(tiles);
  }
  if (tiles.size() < 2) {
    events.warn(pipeline_keys::kPhotometrySkipped, {{"phase", "4.5"}, {"reason", "only one master tile"}});
    return identity(tiles);
  }
  const std::string key = hash_hex(tiles_signature(tiles) + ctx.config.hash_of(phase45_config_keys()));
  const fs::path cache = ctx.cache_dir / "phase45_manifest.json";
  if (ctx.config.get_string("resume") != "off") {
    auto reused = from_cache(cache, key, tiles.size());
    if (!reused.empty()) {
      events.info(pipeline_keys::kResumeReused, {{"phase", "4.5"}, {"reused", 1}, {"total", 1}});
      return reused;
    }
  }
  const std::vector<TilePreview> previews = read_previews(ctx, tiles);
  HarmonizeResult r = harmonize_tiles(previews, options_from(ctx.config));
  for (std::size_t i = 0; i < r.tiles.size(); ++i) r.tiles[i].id = tiles[i].id;
  const fs::path report = ctx.output_dir / "zemosaic_photometry.json";
  write_text_atomic(report, to_json(r).dump(1));
  nlohmann::json fields = summary_of(r, tiles);
  fields["file"] = report.string();
  events.info(pipeline_keys::kPhotometrySolved, fields);
  int unconnected = 0;
  for (const auto& t : r.tiles) unconnected += t.connected ? 0 : 1;
  if (unconnected > 0)
    events.warn(pipeline_keys::kPhotometrySkipped,
                {{"phase", "4.5"}, {"reason", std::to_string(unconnected) + " tile(s) share no overlap with the anchor's group; left uncorrected"}});
  to_cache(cache, key, r.tiles);
  return r.tiles;
}

}  // namespace zm
