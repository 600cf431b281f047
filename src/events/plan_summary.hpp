// The parallel_plan_summary event a heavy phase emits before it starts working.
#pragma once

#include <string_view>

#include "events/event_stream.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {

// {"phase", "kind", every ParallelPlan field (reasons included)} at INFO, so it reaches the GUI and the file.
void emit_plan_summary(EventStream& events, std::string_view phase, const ParallelPlan& plan);

}  // namespace zm
