// Everything a phase may consult: folders, configuration, machine capabilities, the progress/event channel.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "core/config.hpp"
#include "events/progress.hpp"
#include "plan/capabilities.hpp"
#include "sched/cancel_token.hpp"

namespace zm {

struct RunContext {
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  std::filesystem::path cache_dir;  // output/.zemosaic_cache: preprocessed frames, per-phase manifests
  std::filesystem::path tiles_dir;  // output/zemosaic_master_tiles
  Config config;
  Capabilities caps;
  RunProgress* progress = nullptr;
  const CancelToken* cancel = nullptr;

  EventStream& events() const { return progress->events(); }
  bool cancelled() const { return cancel != nullptr && cancel->requested(); }
};

// A phase cannot go on (e.g. nothing usable left); the run ends with PROCESS_ERROR carrying this message.
class PipelineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The run was interrupted (SIGINT/SIGTERM); completed artifacts are kept for resume.
class RunCancelled : public std::runtime_error {
 public:
  RunCancelled() : std::runtime_error("run cancelled; completed work is kept and a rerun resumes from it") {}
};

}  // namespace zm
