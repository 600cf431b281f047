#include "events/plan_summary.hpp"

#include "events/event_keys.hpp"

namespace zm {

void emit_plan_summary(EventStream& events, std::string_view phase, const ParallelPlan& plan) {
  nlohmann::json fields = to_json(plan);
  fields["phase"] = std::string(phase);
  fields["kind"] = std::string(to_string(plan.kind));
  events.info(event_keys::kParallelPlanSummary, std::move(fields));
}

}  // namespace zm
