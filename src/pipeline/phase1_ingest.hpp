// Phase 1: scan the input folder, preprocess every frame in parallel into the cache, set aside what is unusable.
#pragma once

#include <string>
#include <vector>

#include "pipeline/frame_record.hpp"
#include "pipeline/run_context.hpp"

namespace zm {

// An input that did not make it into the run, with the reason (also emitted as a WARN event).
struct SetAsideInput {
  std::string path;
  std::string kind;    // InputErrorKind as text (no_wcs, bad_wcs, truncated, not_fits, ...)
  std::string reason;
};

struct IngestResult {
  std::vector<FrameRecord> frames;     // usable frames, in input order
  std::vector<SetAsideInput> set_aside;
  int inputs_found = 0;
  int reused_from_cache = 0;
};

// Throws PipelineError when no usable frame remains, RunCancelled when interrupted (the manifest keeps what is done).
IngestResult run_phase1(const RunContext& ctx);

// The same over exactly `files`, in that order (FrameRecord::index = position among the readable ones), instead of a
// folder scan:
// grid mode ingests only the frames its stack_plan.csv lists. A path that cannot be stat-ed is set aside
// (INPUT_SET_ASIDE, kind not_found) rather than aborting the run.
IngestResult run_phase1(const RunContext& ctx, const std::vector<std::filesystem::path>& files);

// The config keys whose values change Phase 1 outputs (they key its resume manifest).
std::vector<std::string_view> phase1_config_keys();

}  // namespace zm
