// The classic pipeline, phase after phase, for `zemosaic run`.
#pragma once

#include <string>
#include <vector>

#include "pipeline/run_context.hpp"

namespace zm {

struct RunOutcome {
  int frames_used = 0;
  int inputs_set_aside = 0;
  int groups = 0;
  std::vector<std::string> master_tiles;  // paths
};

// Runs Phases 1..3 (and the later phases as they exist). Throws PipelineError / RunCancelled / InputError;
// the caller turns them into PROCESS_ERROR and an exit code.
RunOutcome run_pipeline(RunContext& ctx);

}  // namespace zm
