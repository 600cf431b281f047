// The declarative table of every configuration key. Names follow ZeMosaic's config where a key exists there.
#include "core/config.hpp"

namespace zm {

namespace {
std::vector<ConfigKey> schema_table();
std::vector<ConfigKey> with_runtime_marks(std::vector<ConfigKey> keys);
}  // namespace

const std::vector<ConfigKey>& config_schema() {
  static const std::vector<ConfigKey> keys = with_runtime_marks(schema_table());
  return keys;
}

namespace {

std::vector<ConfigKey> schema_table() {
  using T = ConfigType;
  return {
      // ---- input validation (Phase 1) ----
      {"wcs_min_pixel_scale_arcsec", T::Double, 0.3, "smallest accepted WCS pixel scale (arcsec/px)", {}, 0.0, 3600.0},
      {"wcs_max_pixel_scale_arcsec", T::Double, 15.0, "largest accepted WCS pixel scale (arcsec/px)", {}, 0.0, 3600.0},
      {"input_max_axis_pixels", T::Int, 65535, "largest accepted image axis (pixels); larger headers are rejected before allocation", {}, 16, 1 << 24},
      {"input_max_pixels", T::Int, 1LL << 31, "largest accepted pixel count per plane", {}, 256, 1e15},
      // ---- colour ----
      {"debayer_method", T::String, "bilinear", "CFA interpolation", {"bilinear", "edge_aware"}},
      {"hot_pixel_correction", T::Bool, true, "replace isolated hot pixels by the local median"},
      {"hot_pixel_threshold_sigma", T::Double, 3.0, "hot pixel threshold in local sigmas above the 5x5 median", {}, 0.5, 100.0},
      // ---- Phase 2 clustering ----
      {"cluster_panel_threshold", T::Double, 0.05, "frames whose centres are closer than this (deg) share a master tile", {}, 1e-5, 10.0},
      {"cluster_orientation_split_deg", T::Double, 0.0, "only group frames whose position angles differ by at most this (0 = off)", {}, 0.0, 180.0},
      {"cluster_target_groups", T::Int, 0, "aim for this many groups by bisecting the threshold (0 = off)", {}, 0, 1000000},
      {"max_raw_per_master_tile", T::Int, 0, "split groups above this many frames (0 = unlimited)", {}, 0, 100000000},
      // ---- Phase 3 master tiles ----
      {"stack_norm_method", T::String, "linear_fit", "per-frame normalisation before stacking", {"none", "linear_fit", "sky_mean"}},
      {"stack_weight_method", T::String, "noise_variance", "per-frame weights", {"none", "noise_variance", "noise_fwhm"}},
      {"stack_reject_algo", T::String, "winsorized_sigma_clip", "pixel rejection", {"none", "kappa_sigma", "winsorized_sigma_clip", "linear_fit_clip"}},
      {"stack_kappa_low", T::Double, 3.0, "rejection bound below the centre (sigmas)", {}, 0.1, 100.0},
      {"stack_kappa_high", T::Double, 3.0, "rejection bound above the centre (sigmas)", {}, 0.1, 100.0},
      {"stack_max_iterations", T::Int, 10, "rejection passes at most", {}, 1, 1000},
      {"stack_final_combine", T::String, "mean", "combine of the kept samples", {"mean", "median"}},
      {"stack_star_gains", T::Bool, true, "with linear_fit, each frame's gain comes from the flux ratios of the stars it shares with the group's reference (its offset still from the sky percentile)"},
      {"vignetting_correction", T::Bool, true, "divide every frame by one radial vignetting profile estimated across the run's pointings (data without flats; skipped with a reason when the pointings do not spread)"},
      {"tile_background_flatten", T::Bool, false, "master tiles: divide out vignetting and subtract the sky plane fitted to their sky (for data without flats; large nebulae bias the fit)"},
      {"phase3_interpolation", T::String, "lanczos3", "kernel resampling frames onto the reference grid", {"nearest", "bilinear", "bicubic", "lanczos3"}},
      {"phase3_rows_per_chunk", T::Int, 0, "override the plan's rows per stacking band (0 = plan); results do not depend on it", {}, 0, 1000000},
      // ---- parallel plan (issue 3) ----
      {"num_processing_workers", T::Int, -1, "worker threads (-1 = from the plan)", {}, -1, 4096},
      {"parallel_target_cpu_load", T::Double, 0.9, "fraction of usable cores given to workers", {}, 0.1, 1.0},
      {"parallel_max_cpu_workers", T::Int, 0, "cap on CPU workers (0 = none)", {}, 0, 4096},
      {"parallel_target_ram_fraction", T::Double, 0.82, "fraction of RAM the plan may budget", {}, 0.1, 0.95},
      {"parallel_gpu_vram_fraction", T::Double, 0.72, "fraction of VRAM the plan may budget", {}, 0.1, 0.9},
      {"use_gpu", T::String, "auto", "GPU use", {"auto", "on", "off"}},
      {"assume_cores", T::Int, 0, "plan as if the machine had N logical cores (0 = probe)", {}, 0, 65536},
      {"assume_ram_gb", T::Double, 0.0, "plan as if the machine had G GiB RAM (0 = probe)", {}, 0.0, 1e6},
      {"assume_vram_gb", T::Double, -1.0, "plan as if the GPU had V GiB (-1 = probe, 0 = no GPU)", {}, -1.0, 1e6},
      {"assume_disk_gb", T::Double, 0.0, "plan as if the scratch disk had D GiB free (0 = probe)", {}, 0.0, 1e9},
      {"telemetry_interval_s", T::Double, 2.0, "resource_telemetry.csv sampling interval (0 = off)", {}, 0.0, 3600.0},
      {"parallel_io_workers", T::Int, 0, "concurrent file readers/writers (0 = min(cpu_workers, 4))", {}, 0, 4096},
      {"memmap_dir", T::String, "", "folder for memory-mapped spill files (empty = the scratch folder)"},
      // WCS acquisition (issue 7)
      {"solver", T::String, "auto", "absolute plate solver for frames without a WCS", {"auto", "astrometry_net", "astap", "none"}},
      {"solver_astap_path", T::String, "", "ASTAP executable (empty = astap_cli / astap on PATH)"},
      {"solver_time_limit_s", T::Double, 30.0, "time limit of one absolute solve attempt (s)", {}, 1.0, 3600.0},
      {"solver_retries", T::Int, 1, "further absolute attempts with a wider search", {}, 0, 10},
      {"solver_search_radius_deg", T::Double, 3.0, "search radius around the header RA/DEC hint (deg)", {}, 0.01, 180.0},
      {"solver_downsample", T::Int, 2, "image downsampling for the solver's own star detection", {}, 1, 16},
      {"wcs_sidecar_dir", T::String, "", "extra folder holding <stem>.wcs / <stem>.ini plate solutions (empty = only next to the inputs)"},
      {"wcs_group_radius_deg", T::Double, 1.0, "frames whose hints are closer than this (deg) share one absolute solve", {}, 0.0, 180.0},
      {"wcs_group_max_gap_s", T::Double, 3600.0, "... when taken within this many seconds of a group member", {}, 0.0, 1e9},
      {"wcs_propagation_max_rms_px", T::Double, 0.3, "largest weighted star residual of a propagated WCS (px)", {}, 0.01, 10.0},
      {"wcs_propagation_min_matches", T::Int, 12, "fewest matched stars for a propagated WCS", {}, 3, 100000},
      // ---- Phases 4-7 (issue 5) ----
      {"final_pixel_scale_arcsec", T::Double, 0.0, "pixel scale of the mosaic grid (0 = median of the master tiles)", {}, 0.0, 3600.0},
      {"final_grid_orientation", T::String, "auto", "mosaic grid rotation: minimal canvas area or north up", {"auto", "north_up"}},
      {"intertile_photometric_match", T::Bool, true, "solve per-tile gain and offset over the overlap graph (Phase 4.5)"},
      {"intertile_overlap_min", T::Double, 0.05, "smallest overlap (fraction of the smaller tile) that links two tiles", {}, 0.0, 1.0},
      {"intertile_prune_k", T::Int, 8, "overlap graph keeps each tile's strongest K neighbours (connectivity kept)", {}, 1, 1000},
      {"intertile_robust_clip_sigma", T::Double, 2.5, "sigma clip of the per-pair gain/offset fits", {}, 0.5, 100.0},
      {"intertile_preview_size", T::Int, 1024, "longest side of the tile previews the fits read (px; stars should stay >= ~1.5 px FWHM)", {}, 64, 16384},
      {"intertile_gain_limits", T::DoubleList, std::vector<double>{0.5, 2.0}, "clamp of the solved gains [min, max]"},
      {"intertile_match_significance", T::Double, 3.0, "a gain or offset from the overlap matching is applied only where the overlaps measure it this many sigma from the identity (0 = apply every fitted correction)", {}, 0.0, 1000.0},
      {"intertile_offset_limit_adu", T::Double, 0.0, "clamp of the solved offsets (ADU, 0 = none)", {}, 0.0, 1e12},
      {"enable_tile_weighting", T::Bool, true, "weight each master tile by its number of frames in the coadd"},
      {"final_assembly_method", T::String, "reproject_coadd", "Phase 5 method: output bands in RAM, or disk accumulators", {"reproject_coadd", "incremental"}},
      {"phase5_interpolation", T::String, "lanczos3", "kernel reprojecting master tiles onto the mosaic grid", {"nearest", "bilinear", "bicubic", "lanczos3"}},
      {"phase5_alpha_weight_floor", T::Double, 0.02, "smallest weight of a covered pixel near a tile edge", {}, 0.0, 1.0},
      {"phase5_feather_px", T::Double, 128.0, "distance from a tile edge over which its weight ramps up (0 = no feathering)", {}, 0.0, 100000.0},
      {"phase5_rows_per_chunk", T::Int, 0, "override the plan's output rows per band (0 = plan); results do not depend on it", {}, 0, 1000000},
      {"output_basename", T::String, "", "output file stem (empty = zemosaic_MT<tiles>_R<frames>)"},
      {"scientific_fits_suffix", T::String, "_science", "suffix of the science FITS"},
      {"aesthetic_fits_suffix", T::String, "_aesthetic", "suffix of the aesthetic FITS"},
      {"export_aesthetic_fits", T::Bool, true, "also write the aesthetic FITS (science + hole fill)"},
      {"aesthetic_hole_fill_enabled", T::Bool, true, "fill small holes near seams and edges in the aesthetic FITS"},
      {"aesthetic_hole_fill_radius_px", T::Double, 96.0, "holes farther than this from data stay empty", {}, 1.0, 100000.0},
      {"preview_png_p_low", T::Double, 1.0, "preview black point (percentile)", {}, 0.0, 100.0},
      {"preview_png_p_high", T::Double, 99.9, "preview white point (percentile)", {}, 0.0, 100.0},
      {"preview_png_asinh_a", T::Double, 12.0, "preview asinh stretch strength", {}, 0.0, 1e6},
      {"preview_png_max_dim", T::Int, 2048, "longest side of the preview PNG (px)", {}, 16, 65535},
      // ---- final background extraction (Phase 6, issue 15) ----
      {"final_mosaic_dbe_enabled", T::Bool, true, "subtract a smooth background model (gradients) from the mosaic before it is saved; the median sky level is kept"},
      {"final_mosaic_dbe_strength", T::String, "normal", "preset of the four keys below (custom = use them)", {"weak", "normal", "strong", "custom"}},
      {"final_mosaic_dbe_obj_k", T::Double, 3.0, "custom: object mask threshold above the background model (sigmas)", {}, 0.5, 100.0},
      {"final_mosaic_dbe_obj_dilate_px", T::Int, 3, "custom: object mask grown by this many model-grid pixels", {}, 0, 256},
      {"final_mosaic_dbe_sample_step", T::Int, 24, "custom: background sample window side on the model grid (longest side <= 1024 px)", {}, 4, 1024},
      {"final_mosaic_dbe_smoothing", T::Double, 0.6, "custom: thin-plate spline smoothing (0 = through every sample)", {}, 0.0, 1000.0},
      {"cache_retention", T::String, "run_end", "delete the preprocessed-frame cache at the end of the run, or keep it", {"run_end", "keep"}},
      {"resume", T::String, "auto", "reuse completed artifacts of an earlier run with the same inputs and settings", {"auto", "off"}},
      // ---- routes (issue 6) ----
      {"mosaic_first", T::Bool, false, "Mosaic-First route: every frame reprojected straight onto one global grid and stacked there (no master tiles)"},
      {"global_coadd_method", T::String, "kappa_sigma", "per-pixel combine of the global coadd (Mosaic-First, SDS batches)", {"kappa_sigma", "winsorized", "mean", "median"}},
      {"global_coadd_k", T::Double, 2.0, "rejection bound of the global coadd (sigmas, both sides)", {}, 0.1, 100.0},
      {"global_coadd_interpolation", T::String, "lanczos3", "kernel reprojecting frames onto the global grid", {"nearest", "bilinear", "bicubic", "lanczos3"}},
      {"global_coadd_normalize", T::Bool, true, "per-frame gain and offset from robust fits on frame overlaps before the global coadd"},
      {"global_coadd_rows_per_chunk", T::Int, 0, "override the output rows per band of the global coadd (0 = from the plan); results do not depend on it", {}, 0, 1000000},
      {"global_wcs_orientation", T::String, "north_up", "global grid of Mosaic-First/SDS: north up, or rotated to the smallest canvas", {"north_up", "auto"}},
      {"global_wcs_pixelscale_mode", T::String, "median", "global grid pixel scale from the frames' scales", {"median", "min", "max"}},
      {"global_wcs_padding_px", T::Int, 2, "margin around the union of frame footprints on the global grid (px)", {}, 0, 100000},
      {"sds_mode", T::Bool, false, "SDS (ZeSupaDupStack) route: batches co-added into full-canvas mega-tiles, then stacked with rejection"},
      {"sds_batch_by_night", T::Bool, false, "SDS batches never span two nights (from DATE-OBS)"},
      {"sds_night_gap_h", T::Double, 4.0, "a gap this long between frames (hours) starts a new night", {}, 0.01, 1e6},
      {"sds_coverage_target", T::Double, 0.92, "an SDS batch closes once it covers this fraction of the area all frames cover", {}, 0.01, 1.0},
      {"sds_min_batch", T::Int, 5, "fewest frames in an SDS batch", {}, 1, 100000000},
      {"sds_max_batch", T::Int, 0, "an SDS batch closes at this many frames whatever its coverage (0 = no cap)", {}, 0, 100000000},
      {"sds_min_coverage_keep", T::Double, 0.40, "SDS pixels seen by fewer mega-tiles than this fraction of the batches whose frames cover them are masked (NaN)", {}, 0.0, 1.0},
      // ---- grid mode (issue 6) ----
      {"grid_size_factor", T::Double, 4.0, "grid mode (stack_plan.csv): tile side = this x the median frame side on the grid", {}, 0.05, 1000.0},
      {"batch_overlap_pct", T::Double, 40.0, "grid mode: overlap of neighbouring tiles (% of the tile side)", {}, 0.0, 90.0},
      {"grid_chunk_ram_mb", T::Int, 0, "grid mode: memory one tile's band stack may use (MB; 0 = from the plan); results do not depend on it", {}, 0, 10000000},
      // ---- inter-master merge (issue 6) ----
      {"inter_master_merge", T::Bool, false, "Phase 4.5 merge: master tiles overlapping heavily are stacked into super tiles before Phase 5"},
      {"inter_master_overlap_threshold", T::Double, 0.60, "two tiles merge when their footprints share this fraction of the smaller one", {}, 0.01, 1.0},
      {"inter_master_min_group_size", T::Int, 2, "fewest master tiles that form a super tile", {}, 2, 100000},
      {"inter_master_max_group", T::Int, 64, "largest super tile (master tiles); bigger groups are split into chunks", {}, 2, 100000},
      {"inter_master_stack_method", T::String, "winsor", "per-pixel combine of a group's tiles (kappas from stack_kappa_low/high)", {"winsor", "kappa_sigma", "mean"}},
      {"inter_master_photometry_clip_sigma", T::Double, 3.0, "sigma clip of the intra-group gain/offset fits", {}, 0.5, 100.0},
  };
}

// Settings that change how a run is carried out but never its outputs (see ConfigKey::affects_output).
constexpr std::string_view kRuntimeKeys[] = {
    "num_processing_workers", "parallel_target_cpu_load", "parallel_max_cpu_workers", "parallel_target_ram_fraction",
    "parallel_gpu_vram_fraction", "use_gpu", "assume_cores", "assume_ram_gb", "assume_vram_gb", "assume_disk_gb",
    "telemetry_interval_s", "parallel_io_workers", "memmap_dir", "cache_retention", "resume",
    "phase3_rows_per_chunk", "phase5_rows_per_chunk", "global_coadd_rows_per_chunk", "grid_chunk_ram_mb"};

std::vector<ConfigKey> with_runtime_marks(std::vector<ConfigKey> keys) {
  for (auto& k : keys)
    for (std::string_view r : kRuntimeKeys)
      if (k.name == r) k.affects_output = false;
  return keys;
}

}  // namespace

}  // namespace zm
