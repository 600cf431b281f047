// Named places where a test can make the engine fail on purpose (a logic error, an allocation failure, a domain
// failure), to prove how the run reacts. Disarmed, a fault point costs one relaxed atomic load.
#pragma once

#include <string_view>

namespace zm {

enum class FaultKind { none, logic_error, bad_alloc, runtime_error };

// Arms `point` (one at a time, process-wide) to throw `kind` the next time execution reaches it; disarm() or
// arming FaultKind::none clears it. Tests only.
void arm_fault(std::string_view point, FaultKind kind);
void disarm_faults();

// Throws the armed fault when `point` is armed (and disarms it, so the failure happens once).
void fault_point(std::string_view point);

}  // namespace zm
