// The PHOTOMETRY_GATE event: what the significance gate of one photometric matching applied and left alone.
#pragma once

#include <string_view>

#include "events/event_stream.hpp"

namespace zm {

// Counts are per input and channel; unlinked: inputs that share no measured overlap (left at the identity).
void emit_match_gate(EventStream& events, std::string_view phase, std::string_view inputs, double significance,
                     int gains_applied, int gains_left, int offsets_applied, int offsets_left, int unlinked);

}  // namespace zm
