// Every event key the pipeline emits beyond the core set in events/event_keys.hpp, with its fields: the one list a GUI
// reads (stable once published).
#pragma once

#include <cstddef>
#include <string_view>

namespace zm::pipeline_keys {

// WARN {"phase", "file", "kind", "reason"} — an input left out of the run (unreadable, no/invalid WCS, no data).
inline constexpr std::string_view kInputSetAside = "INPUT_SET_ASIDE";
// INFO {"phase", "reused", "total"} — artifacts of an earlier run reused (resume).
inline constexpr std::string_view kResumeReused = "RESUME_REUSED";
// WARN {"file", "reason"} — a resume manifest or completion marker that cannot be read was set aside; its work
// is redone.
inline constexpr std::string_view kResumeDiscarded = "RESUME_DISCARDED";
// INFO {"phase": "1", "usable", "set_aside", "found", "seconds"}.
inline constexpr std::string_view kIngestSummary = "INGEST_SUMMARY";
// INFO {"phase": "1", "applied", "q", "frames", "width", "height", "reason"} — the run's vignetting profile.
inline constexpr std::string_view kVignettingModel = "VIGNETTING_MODEL";
// INFO {"phase": "1", "file", "provenance": sidecar|cache|propagated|solved, "residual_px", "matches", "ref",
// "seconds"} — one per frame whose WCS did not come from its own header.
inline constexpr std::string_view kWcsAcquired = "WCS_ACQUIRED";
// ERROR {"phase": "1", "solver", "reason"} — once per run when frames need solving and no solver is usable.
inline constexpr std::string_view kSolverUnavailable = "SOLVER_UNAVAILABLE";
// INFO {"phase": "1", "groups", "absolute_solves", "absolute_failures", "propagated", "solve_seconds",
// "unsolved", "seconds"}.
inline constexpr std::string_view kWcsAcquisitionSummary = "WCS_ACQUISITION_SUMMARY";
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
// INFO {"phase": "3" | "4.5" | "5", "inputs": "frames" | "megatiles" | "tiles", "significance", "gains_applied",
// "gains_not_significant", "offsets_applied", "offsets_not_significant", "unlinked", "reason"} — what the
// significance gate of one photometric matching applied and left alone (counted per input and channel).
inline constexpr std::string_view kPhotometryGate = "PHOTOMETRY_GATE";
// WARN {"phase": "4.5", "reason"} — harmonisation skipped (one tile, no overlaps) or tiles left uncorrected.
inline constexpr std::string_view kPhotometrySkipped = "PHOTOMETRY_SKIPPED";
// INFO {"phase": "4.5", "groups": [{"members": [ids], "super_tile": id, "path", "anchor": id, "gains": [[g]...],
// "offsets": [[o]...], "frames", "reused"}], "tiles_before", "tiles_after", "threshold"} — what the merge stacked.
inline constexpr std::string_view kInterMasterMerge = "INTER_MASTER_MERGE";
// INFO {"phase": "5", "method", "kernel", "width", "height", "covered_pixels", "bands", "tiles", "seconds"}.
inline constexpr std::string_view kMosaicAssembled = "MOSAIC_ASSEMBLED";
// INFO {"sky_kept_fraction", "union_cells", "kept_cells", "cell_px", "frames_short"} — on every run, before Phase 6:
// the fraction of the union of the usable frames' footprints where the mosaic has data.
inline constexpr std::string_view kSkyKept = "SKY_KEPT";
// WARN {"sky_kept_fraction", "route", "frames_short", "frames": [{"file", "kept"}] (worst first, at most 20),
// "reason"} — the mosaic keeps less than 99 % of the frames' sky.
inline constexpr std::string_view kSkyLost = "SKY_LOST";
inline constexpr std::size_t kSkyLostFramesListed = 20;
// INFO {"phase": "6", "applied", "strength", "obj_k", "obj_dilate_px", "sample_step", "smoothing", "grid_width",
// "grid_height", "grid_factor", "samples", "masked_fraction", "amplitude" [per channel, ADU], "pedestal" [per
// channel: the model's median, kept in the data], "seconds", "reason" (why not applied)} — the final background
// extraction's model, once per run that saves (not on a reused Phase 6).
inline constexpr std::string_view kBackgroundModel = "BACKGROUND_MODEL";
// INFO {"phase": "6", "role": "science|aesthetic|coverage|preview", "path"} — one per file written.
inline constexpr std::string_view kOutputWritten = "OUTPUT_WRITTEN";
// INFO {"phase": "7", "removed": [paths], "bytes_freed", "retention"}.
inline constexpr std::string_view kCleanupDone = "CLEANUP_DONE";

// SDS: INFO {"phase": "3", "batches", "sizes": [...], "coverage": [...]} — the batches of frames.
inline constexpr std::string_view kSdsBatches = "SDS_BATCHES";
// SDS: INFO {"phase": "3", "megatile", "frames", "covered_pixels", "rejected_fraction", "seconds"}.
inline constexpr std::string_view kSdsMegatileDone = "SDS_MEGATILE_DONE";
// Grid mode: INFO {"file", "rows", "skipped", "delimiter", "path_column"} — the stack_plan.csv as read.
inline constexpr std::string_view kStackPlanLoaded = "STACK_PLAN_LOADED";
// Grid mode: INFO {"phase": "3", "tile_side", "step", "frame_side_px", "cols", "rows", "tiles": [[x0, y0, w, h,
// frames]...]}.
inline constexpr std::string_view kGridLayout = "GRID_LAYOUT";
// Grid mode: INFO {"phase": "3", "tile", "path", "x0", "y0", "width", "height", "frames", "covered_pixels",
// "rejected_fraction", "peak_band_bytes", "seconds"}.
inline constexpr std::string_view kGridTileDone = "GRID_TILE_DONE";

}  // namespace zm::pipeline_keys
