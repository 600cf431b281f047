// The declarative table of every configuration key. Names follow ZeMosaic's config where a key exists there.
#include "core/config.hpp"

namespace zm {

const std::vector<ConfigKey>& config_schema() {
  using T = ConfigType;
  static const std::vector<ConfigKey> keys = {
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
  };
  return keys;
}

}  // namespace zm
