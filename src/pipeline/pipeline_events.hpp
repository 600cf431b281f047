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
inline constexpr std::string_view kVignettingModel = "VIGNETTING_MODEL";
// INFO {"phase": "2", "groups", "threshold_deg", "sizes": [...], "notes": [...], "stack_plan": path}.
inline constexpr std::string_view kClusterSummary = "CLUSTER_SUMMARY";
// INFO {"phase": "3", "tile", "path", "frames", "registered", "reg_rms_px", "rejected_fraction", "seconds"}.
inline constexpr std::string_view kMasterTileDone = "MASTER_TILE_DONE";
// WARN {"phase": "3", "tile", "file", "reason"} — a frame could not be registered and was left out of its tile.
inline constexpr std::string_view kFrameNotRegistered = "FRAME_NOT_REGISTERED";

// INFO {"route": "classic|mosaic_first|sds|grid", "reason"} — which route this run takes, and why.
inline constexpr std::string_view kRouteSelected = "ROUTE_SELECTED";
// WARN {"from", "to", "reason"} — a route failed and the run goes on with the next one (SDS -> Mosaic-First ->
// classic).
inline constexpr std::string_view kRouteFallback = "ROUTE_FALLBACK";

// INFO {"phase": "4" (classic) | "2" (global grid of Mosaic-First/SDS), "route", "width", "height", "pixel_scale_arcsec", "rotation_deg", "centre_ra", "centre_dec", "tiles"}.
inline constexpr std::string_view kOutputGrid = "OUTPUT_GRID";
// INFO {"phase": "4.5", "anchor", "tiles": [{id, gain[3], offset[3], connected}], "pairs", "residual_before",
// "residual_after", "file"} — per-tile photometric corrections (details per pair in the JSON file).
inline constexpr std::string_view kPhotometrySolved = "PHOTOMETRY_SOLVED";
// WARN {"phase": "4.5", "reason"} — harmonisation skipped (one tile, no overlaps) or tiles left uncorrected.
inline constexpr std::string_view kPhotometrySkipped = "PHOTOMETRY_SKIPPED";
// INFO {"phase": "5", "method", "kernel", "width", "height", "covered_pixels", "bands", "tiles", "seconds"}.
inline constexpr std::string_view kMosaicAssembled = "MOSAIC_ASSEMBLED";
// INFO {"phase": "6", "role": "science|aesthetic|coverage|preview", "path"} — one per file written.
inline constexpr std::string_view kOutputWritten = "OUTPUT_WRITTEN";
// INFO {"phase": "7", "removed": [paths], "bytes_freed", "retention"}.
inline constexpr std::string_view kCleanupDone = "CLEANUP_DONE";

}  // namespace zm::pipeline_keys
