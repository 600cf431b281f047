// The run-level resume marker: a finished run leaves run_complete.json keyed by its inputs (path, size, mtime, the
// stack_plan.csv) and every setting that shapes its outputs, so an identical rerun returns at once even after Phase
// 7 removed the bulky caches.
#pragma once

#include <optional>
#include <string>

#include "pipeline/run.hpp"

namespace zm {

std::string run_signature(const RunContext& ctx);

// The outcome an identical finished run recorded, when its outputs still exist; a damaged marker is reported
// (RESUME_DISCARDED) and ignored.
std::optional<RunOutcome> load_complete_run(const RunContext& ctx, const std::string& signature);
void save_complete_run(const RunContext& ctx, const std::string& signature, const RunOutcome& outcome);

// resume = off: forget every manifest and assembled result (the frame cache stays; its manifest goes).
void clear_resume_state(const RunContext& ctx);

}  // namespace zm
