// Event keys the pipeline phases emit beyond the core set in events/event_keys.hpp (stable: a GUI parses them).
#pragma once

#include <string_view>

namespace zm::pipeline_keys {

// WARN {"phase", "file", "kind", "reason"} — an input left out of the run (unreadable, no/invalid WCS, no data).
inline constexpr std::string_view kInputSetAside = "INPUT_SET_ASIDE";
// INFO {"phase", "reused", "total"} — artifacts of an earlier run reused (resume).
inline constexpr std::string_view kResumeReused = "RESUME_REUSED";
// INFO {"phase": "1", "usable", "set_aside", "found", "seconds"}.
inline constexpr std::string_view kIngestSummary = "INGEST_SUMMARY";
// INFO {"phase": "2", "groups", "threshold_deg", "sizes": [...], "notes": [...], "stack_plan": path}.
inline constexpr std::string_view kClusterSummary = "CLUSTER_SUMMARY";
// INFO {"phase": "3", "tile", "path", "frames", "registered", "reg_rms_px", "rejected_fraction", "seconds"}.
inline constexpr std::string_view kMasterTileDone = "MASTER_TILE_DONE";
// WARN {"phase": "3", "tile", "file", "reason"} — a frame could not be registered and was left out of its tile.
inline constexpr std::string_view kFrameNotRegistered = "FRAME_NOT_REGISTERED";

}  // namespace zm::pipeline_keys
