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

// A run context as `zemosaic run` makes one: output in `out` (cache and master tiles under it, created), `workers`
// CPU workers, no telemetry, `extra` config keys.
inline RunContext make_test_context(const std::filesystem::path& input, const std::filesystem::path& out,
                                    RunProgress& progress, int workers,
                                    const std::map<std::string, nlohmann::json>& extra = {}) {
  Config config;
  config.set("parallel_max_cpu_workers", workers);
  config.set("telemetry_interval_s", 0.0);
  for (const auto& [k, v] : extra) config.set(k, v);
  std::filesystem::create_directories(out);
  RunContext ctx = make_run_context(input, out, std::move(config), probe_capabilities(out), progress);
  std::filesystem::create_directories(ctx.cache.root);
  return ctx;
}

inline PipelineRun run_pipeline_in(const std::filesystem::path& input, const std::filesystem::path& out, int workers,
                                   const std::map<std::string, nlohmann::json>& extra = {}) {
  EventStream events;
  auto rec = std::make_shared<Recorder>();
  events.add_sink(rec);
  RunProgress progress(events);
  RunContext ctx = make_test_context(input, out, progress, workers, extra);
  return {run_pipeline(ctx), rec};
}

}  // namespace zm::test
