#include "pipeline/frame_photometry/match_gate_event.hpp"

#include "pipeline/pipeline_events.hpp"

namespace zm {

void emit_match_gate(EventStream& events, std::string_view phase, std::string_view inputs, double significance,
                     int gains_applied, int gains_left, int offsets_applied, int offsets_left, int unlinked) {
  events.info(pipeline_keys::kPhotometryGate,
              {{"phase", phase},
               {"inputs", inputs},
               {"significance", significance},
               {"gains_applied", gains_applied},
               {"gains_not_significant", gains_left},
               {"offsets_applied", offsets_applied},
               {"offsets_not_significant", offsets_left},
               {"unlinked", unlinked},
               {"reason", "a gain or offset within significance x its sigma (from the overlaps) of the identity is "
                          "not applied; unlinked inputs share no measured overlap"}});
}

}  // namespace zm
