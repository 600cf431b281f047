// Human rendering of capabilities and plans for `zemosaic plan` and logs.
#pragma once

#include <span>
#include <string>

#include "plan/capabilities.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {

// A few lines: cores, RAM, disk, GPU and the notes saying where each value came from.
std::string render_capabilities(const Capabilities& caps);
// One column per plan, one row per field, then each plan's reasons.
std::string render_plan_table(std::span<const ParallelPlan> plans);

}  // namespace zm
