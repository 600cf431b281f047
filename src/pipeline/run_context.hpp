// Everything a phase may consult besides its own inputs: folders, the typed options, the machine, the event
// channel and the cancel request.
#pragma once

#include <filesystem>

#include "core/config.hpp"
#include "events/progress.hpp"
#include "pipeline/model/cache_layout.hpp"
#include "pipeline/options/run_options.hpp"
#include "pipeline/run_errors.hpp"
#include "plan/capabilities.hpp"
#include "sched/cancel_token.hpp"

namespace zm {

struct RunContext {
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  CacheLayout cache;
  Config config;        // as given: recorded in the science header; phases read `options`
  RunOptions options;   // built from config by make_run_context
  Capabilities caps;    // probed, with the configured assumptions applied
  RunProgress* progress = nullptr;
  const CancelToken* cancel = nullptr;

  EventStream& events() const { return progress->events(); }
  bool cancelled() const { return cancel != nullptr && cancel->requested(); }
  bool resume() const { return options.run.resume; }
  // Throws RunCancelled on a cancel request, PipelineError when the event stream could not be written (a full
  // disk must stop the run, not lose its record).
  void check() const;
};

// Builds the options from `config` (InputError on a bad value) and applies its machine assumptions to `caps`.
RunContext make_run_context(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                            Config config, Capabilities caps, RunProgress& progress,
                            const CancelToken* cancel = nullptr);

}  // namespace zm
