// Phase 1: scan the input folder, preprocess every frame in parallel into the cache, set aside what is unusable.
#pragma once

#include <filesystem>
#include <vector>

#include "pipeline/model/ingest_result.hpp"
#include "pipeline/run_context.hpp"

namespace zm {

// Throws PipelineError when no usable frame remains, RunCancelled when interrupted (the manifest keeps what is done).
IngestResult run_phase1(const RunContext& ctx, const IngestOptions& options);

// The same over exactly `files`, in that order (FrameRecord::index = position among the readable ones), instead of a
// folder scan: grid mode ingests only the frames its stack_plan.csv lists. A path that cannot be stat-ed is set
// aside (INPUT_SET_ASIDE, kind not_found) rather than aborting the run.
IngestResult run_phase1(const RunContext& ctx, const IngestOptions& options,
                        const std::vector<std::filesystem::path>& files);

}  // namespace zm
