// Phase 7: removes the bulky caches (preprocessed frames, Phase 5 planes) unless cache_retention is "keep".
#pragma once

#include "pipeline/run_context.hpp"

namespace zm {

// Manifests, master tiles and outputs are kept (they are small or wanted, and let a rerun find the run complete).
void run_phase7(const RunContext& ctx);

}  // namespace zm
