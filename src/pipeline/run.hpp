// A whole run for `zemosaic run`: the route chosen, its phases in order, then Phases 6 and 7.
#pragma once

#include <string>
#include <vector>

#include "pipeline/run_context.hpp"

namespace zm {

struct RunOutcome {
  int frames_found = 0;
  int frames_used = 0;
  int inputs_set_aside = 0;
  int groups = 0;
  std::vector<std::string> master_tiles;  // paths
  std::string science;                    // final outputs (empty when the run stopped before Phase 6)
  std::string aesthetic;
  std::string coverage;
  std::string preview;
  bool reused_complete_run = false;       // an earlier identical run had finished: nothing was recomputed
  double sky_kept_fraction = 1.0;         // of the union of the usable frames' footprints (output/sky_kept.hpp)
};

// Runs Phases 1..7. Throws PipelineError / RunCancelled / InputError; the caller turns them into PROCESS_ERROR
// and an exit code. With resume = auto, every completed artifact of an earlier run on the same inputs and
// settings is reused; with resume = off the caches are cleared first.
RunOutcome run_pipeline(RunContext& ctx);

}  // namespace zm
