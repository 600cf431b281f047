// Runs the whole pipeline in-process on a folder, the way `zemosaic run` does, and keeps every event it emitted.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "event_recorder.hpp"
#include "pipeline/run.hpp"

namespace zm::test {

struct PipelineRun {
  RunOutcome outcome;
  std::shared_ptr<Recorder> events;
};

// Output in `out` (cache and master tiles under it), `workers` CPU workers, no telemetry, `extra` config keys.
inline PipelineRun run_pipeline_in(const std::filesystem::path& input, const std::filesystem::path& out, int workers,
                                   const std::map<std::string, nlohmann::json>& extra = {}) {
  EventStream events;
  auto rec = std::make_shared<Recorder>();
  events.add_sink(rec);
  RunProgress progress(events);
  RunContext ctx;
  ctx.input_dir = input;
  ctx.output_dir = out;
  ctx.cache_dir = out / ".zemosaic_cache";
  ctx.tiles_dir = out / "zemosaic_master_tiles";
  ctx.config.set("parallel_max_cpu_workers", workers);
  ctx.config.set("telemetry_interval_s", 0.0);
  for (const auto& [k, v] : extra) ctx.config.set(k, v);
  ctx.caps = probe_capabilities(out);
  ctx.progress = &progress;
  std::filesystem::create_directories(out);
  return {run_pipeline(ctx), rec};
}

}  // namespace zm::test
