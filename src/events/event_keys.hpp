// The stable event keys and phase ids of the JSON-lines event stream (a GUI parses them: never rename).
#pragma once

#include <array>
#include <string_view>

namespace zm::event_keys {

// {"phase": "1".."7" or "4.5", "name": "..."} — a phase starts.
inline constexpr std::string_view kPhaseUpdate = "PHASE_UPDATE";
// {"stage", "current", "total", "phase"} — progress inside a phase.
inline constexpr std::string_view kStageProgress = "STAGE_PROGRESS";
// {"done", "total"} — Phase 1 raw frames.
inline constexpr std::string_view kRawFileCountUpdate = "RAW_FILE_COUNT_UPDATE";
// {"done", "total"} — Phase 3 master tiles.
inline constexpr std::string_view kMasterTileCountUpdate = "MASTER_TILE_COUNT_UPDATE";
// {"eta_seconds", "eta_hms": "HH:MM:SS", "fraction_done"} — time left for the whole run.
inline constexpr std::string_view kEtaUpdate = "ETA_UPDATE";
// {"phase", "cpu_percent", "rss_bytes", "peak_rss_bytes", "ram_available_bytes", "gpu_used_bytes" (when known)}.
inline constexpr std::string_view kStatsUpdate = "STATS_UPDATE";
// {"phase", "kind", every ParallelPlan field} — at the start of every heavy phase.
inline constexpr std::string_view kParallelPlanSummary = "parallel_plan_summary";
// {"index", "name", "message", "phase"} — one work item failed and was skipped; the run goes on.
inline constexpr std::string_view kItemFailed = "ITEM_FAILED";
// {"success", "elapsed_s"} — always the last event of a run.
inline constexpr std::string_view kProcessDone = "PROCESS_DONE";
// {"message"} — the run failed (followed by PROCESS_DONE with success false).
inline constexpr std::string_view kProcessError = "PROCESS_ERROR";
// {"path": the events file, "reason": the OS error text} — ERROR: a line could not be written to the events file
// (disk full, ...); the file is closed and holds only the events before it, the sinks still get every event, and
// EventStream::write_error() says so (the run then stops).
inline constexpr std::string_view kEventsWriteFailed = "EVENTS_WRITE_FAILED";

inline constexpr std::array<std::string_view, 11> kAll = {
    kPhaseUpdate, kStageProgress,       kRawFileCountUpdate, kMasterTileCountUpdate, kEtaUpdate,        kStatsUpdate,
    kParallelPlanSummary, kItemFailed,  kProcessDone,        kProcessError,          kEventsWriteFailed};

// Phase ids in run order ("4.5" is the inter-master merge between 4 and 5).
inline constexpr std::array<std::string_view, 8> kPhaseIds = {"1", "2", "3", "4", "4.5", "5", "6", "7"};

}  // namespace zm::event_keys
