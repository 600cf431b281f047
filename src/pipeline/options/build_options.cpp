// The only place the pipeline reads its configuration by key. Each leaf builder below reads one concern's keys
// (and only it reads them: the key-coverage test checks the log), validates them, and fills a typed struct; a
// stage's builder calls the leaves it needs with the stage's own reader, so the keys behind a stage's `settings`
// are exactly the keys its options came from.
#include "pipeline/options/run_options.hpp"

#include <fmt/format.h>

#include "image/debayer.hpp"
#include "stack/method_names.hpp"

namespace zm {

namespace {

Kernel kernel_of(OptionReader& r, std::string_view key) {
  const std::string name = r.text(key);
  const auto k = parse_kernel(name);
  if (!k) r.reject(key, fmt::format("unknown interpolation kernel '{}'", name));
  return *k;
}

// ---- leaves: one concern each ----

void input_limits(OptionReader& r, PreprocessOptions& o) {
  auto b = r.builder("input_limits");
  o.wcs_bounds.min_scale_arcsec = r.number("wcs_min_pixel_scale_arcsec");
  o.wcs_bounds.max_scale_arcsec = r.number("wcs_max_pixel_scale_arcsec");
  if (o.wcs_bounds.min_scale_arcsec >= o.wcs_bounds.max_scale_arcsec)
    r.reject("wcs_min_pixel_scale_arcsec", fmt::format("must be below wcs_max_pixel_scale_arcsec ({})",
                                                       o.wcs_bounds.max_scale_arcsec));
  o.limits.max_axis = r.integer("input_max_axis_pixels");
  o.limits.max_pixels = r.integer("input_max_pixels");
}

void colour(OptionReader& r, PreprocessOptions& o) {
  auto b = r.builder("colour");
  o.debayer = parse_debayer_method(r.text("debayer_method")).value_or(DebayerMethod::Bilinear);
  o.hot_pixels = r.flag("hot_pixel_correction");
  o.hot.threshold_sigma = static_cast<float>(r.number("hot_pixel_threshold_sigma"));
}

void wcs_acquisition(OptionReader& r, PreprocessOptions& p, WcsAcquireSettings& s) {
  auto b = r.builder("wcs_acquisition");
  p.acquire_missing_wcs = true;
  p.wcs_sidecar_dir = r.text("wcs_sidecar_dir");
  s.solver.kind = r.text("solver");
  s.solver.astap_path = r.text("solver_astap_path");
  s.solver.time_limit_s = r.number("solver_time_limit_s");
  s.solver.retries = r.small_int("solver_retries");
  s.solver.search_radius_deg = r.number("solver_search_radius_deg");
  s.solver.downsample = r.small_int("solver_downsample");
  s.group_radius_deg = r.number("wcs_group_radius_deg");
  s.group_max_gap_s = r.number("wcs_group_max_gap_s");
  s.propagation.max_rms_px = r.number("wcs_propagation_max_rms_px");
  s.propagation.min_matches = r.small_int("wcs_propagation_min_matches");
}

bool vignetting(OptionReader& r) {
  auto b = r.builder("vignetting");
  return r.flag("vignetting_correction");
}

ClusterParams clustering(OptionReader& r) {
  auto b = r.builder("clustering");
  ClusterParams p;
  p.threshold_deg = r.number("cluster_panel_threshold");
  p.orientation_split_deg = r.number("cluster_orientation_split_deg");
  p.target_groups = r.small_int("cluster_target_groups");
  p.max_per_group = r.small_int("max_raw_per_master_tile");
  return p;
}

// The stack_* rejection: master tiles, and the stacks that reuse its kappas (SDS mega-tiles, the merge).
RejectParams stack_rejection(OptionReader& r) {
  auto b = r.builder("stack_rejection");
  RejectParams p;
  p.algo = parse_reject_algo(r.text("stack_reject_algo")).value_or(RejectAlgo::WinsorizedSigmaClip);
  p.kappa_low = static_cast<float>(r.number("stack_kappa_low"));
  p.kappa_high = static_cast<float>(r.number("stack_kappa_high"));
  p.max_iterations = r.small_int("stack_max_iterations");
  p.combine = parse_combine_method(r.text("stack_final_combine")).value_or(CombineMethod::Mean);
  return p;
}

void master_tile_stack(OptionReader& r, MasterTileStageOptions& o) {
  auto b = r.builder("master_tile_stack");
  o.tile.norm = parse_norm_method(r.text("stack_norm_method")).value_or(NormMethod::LinearFit);
  o.tile.weight = parse_weight_method(r.text("stack_weight_method")).value_or(WeightMethod::NoiseVariance);
  o.tile.star_gains = r.flag("stack_star_gains");
  o.tile.flatten_background = r.flag("tile_background_flatten");
  o.tile.kernel = kernel_of(r, "phase3_interpolation");
  o.rows_override = r.small_int("phase3_rows_per_chunk");
}

OptimalGridOptions final_grid(OptionReader& r) {
  auto b = r.builder("final_grid");
  OptimalGridOptions o;
  o.pixel_scale_arcsec = r.number("final_pixel_scale_arcsec");
  o.north_up = r.text("final_grid_orientation") == "north_up";
  return o;
}

// The significance gate of every overlap matching (frames, mega-tiles, Phase 4.5).
double match_significance(OptionReader& r) {
  auto b = r.builder("match_significance");
  return r.number("intertile_match_significance");
}

// The intertile_* fits: tile harmonisation, mega-tile matching and the merge's intra-group fits.
HarmonizeOptions overlap_fits(OptionReader& r) {
  auto b = r.builder("overlap_fits");
  HarmonizeOptions o;
  o.overlap_min = r.number("intertile_overlap_min");
  o.prune_k = r.small_int("intertile_prune_k");
  o.clip_sigma = r.number("intertile_robust_clip_sigma");
  const auto limits = r.numbers("intertile_gain_limits");
  if (limits.size() != 2 || !(limits[0] > 0.0) || !(limits[0] < limits[1]))
    r.reject("intertile_gain_limits", fmt::format("must be [min, max] with 0 < min < max, got {}",
                                                  nlohmann::json(limits).dump()));
  o.gain_min = limits[0];
  o.gain_max = limits[1];
  const double off = r.number("intertile_offset_limit_adu");
  if (off > 0) o.offset_limit = off;
  o.significance = match_significance(r);
  return o;
}

void tile_match(OptionReader& r, TileMatchOptions& o) {
  auto b = r.builder("tile_match");
  o.enabled = r.flag("intertile_photometric_match");
  o.preview_side = r.small_int("intertile_preview_size");
}

void inter_master_merge(OptionReader& r, MergeOptions& o) {
  auto b = r.builder("inter_master_merge");
  o.enabled = r.flag("inter_master_merge");
  o.overlap_threshold = r.number("inter_master_overlap_threshold");
  o.min_group_size = r.small_int("inter_master_min_group_size");
  o.max_group = r.small_int("inter_master_max_group");
  if (o.max_group < o.min_group_size)
    r.reject("inter_master_max_group",
             fmt::format("must be at least inter_master_min_group_size ({})", o.min_group_size));
  const std::string method = r.text("inter_master_stack_method");
  o.tile.reject.algo = method == "mean"          ? RejectAlgo::None
                       : method == "kappa_sigma" ? RejectAlgo::KappaSigma
                                                 : RejectAlgo::WinsorizedSigmaClip;
  o.tile.reject.combine = CombineMethod::Mean;
  o.tile.photometry.clip_sigma = r.number("inter_master_photometry_clip_sigma");
}

Kernel phase5_kernel(OptionReader& r) {
  auto b = r.builder("phase5_kernel");
  return kernel_of(r, "phase5_interpolation");
}

void assembly(OptionReader& r, AssemblyOptions& o) {
  auto b = r.builder("assembly");
  o.method = r.text("final_assembly_method") == "incremental" ? CoaddMethod::Incremental : CoaddMethod::ReprojectCoadd;
  o.feather_px = r.number("phase5_feather_px");
  o.alpha_weight_floor = r.number("phase5_alpha_weight_floor");
  o.tile_weighting = r.flag("enable_tile_weighting");
  o.rows_override = r.small_int("phase5_rows_per_chunk");
}

void global_grid(OptionReader& r, GlobalGridOptions& o) {
  auto b = r.builder("global_grid");
  o.scale_mode = r.text("global_wcs_pixelscale_mode");
  o.north_up = r.text("global_wcs_orientation") == "north_up";
  o.pad_px = r.small_int("global_wcs_padding_px");
}

// global_coadd_method/k: kappa_sigma -> KappaSigma, winsorized -> WinsorizedSigmaClip (both sides at k),
// mean -> no rejection, median -> no rejection + median combine.
void global_coadd(OptionReader& r, GlobalCoaddStageOptions& o) {
  auto b = r.builder("global_coadd");
  o.method = r.text("global_coadd_method");
  const auto k = static_cast<float>(r.number("global_coadd_k"));
  o.reject = RejectParams{};
  o.reject.kappa_low = o.reject.kappa_high = k;
  o.reject.combine = o.method == "median" ? CombineMethod::Median : CombineMethod::Mean;
  o.reject.algo = o.method == "kappa_sigma"  ? RejectAlgo::KappaSigma
                  : o.method == "winsorized" ? RejectAlgo::WinsorizedSigmaClip
                                             : RejectAlgo::None;
  o.kernel = kernel_of(r, "global_coadd_interpolation");
  o.normalize = r.flag("global_coadd_normalize");
  o.match.significance = match_significance(r);
  o.rows_override = r.small_int("global_coadd_rows_per_chunk");
}

void sds(OptionReader& r, SdsOptions& o) {
  auto b = r.builder("sds");
  o.batches.coverage_target = r.number("sds_coverage_target");
  o.batches.min_batch = r.small_int("sds_min_batch");
  o.batches.max_batch = r.small_int("sds_max_batch");
  if (o.batches.max_batch > 0 && o.batches.max_batch < o.batches.min_batch)
    r.reject("sds_max_batch", fmt::format("must be 0 (no cap) or at least sds_min_batch ({})", o.batches.min_batch));
  o.batches.by_night = r.flag("sds_batch_by_night");
  o.batches.night_gap_s = r.number("sds_night_gap_h") * 3600.0;
  o.min_coverage_keep = r.number("sds_min_coverage_keep");
}

void grid_mode(OptionReader& r, GridModeOptions& o) {
  auto b = r.builder("grid_mode");
  o.size_factor = r.number("grid_size_factor");
  o.overlap_pct = r.number("batch_overlap_pct");
  o.chunk_ram_mb = r.integer("grid_chunk_ram_mb");
}

void output_files(OptionReader& r, SaveOptions& o) {
  auto b = r.builder("output_files");
  o.basename = r.text("output_basename");
  if (o.basename.find('/') != std::string::npos || o.basename == "." || o.basename == "..")
    r.reject("output_basename", fmt::format("'{}' must be a file name, not a path", o.basename));
  o.science_suffix = r.text("scientific_fits_suffix");
  o.aesthetic_suffix = r.text("aesthetic_fits_suffix");
  o.export_aesthetic = r.flag("export_aesthetic_fits");
  if (o.export_aesthetic && o.aesthetic_suffix == o.science_suffix)
    r.reject("aesthetic_fits_suffix", "must differ from scientific_fits_suffix (the aesthetic FITS would replace "
                                      "the science FITS)");
  o.hole_fill = r.flag("aesthetic_hole_fill_enabled");
  o.hole_fill_radius_px = r.number("aesthetic_hole_fill_radius_px");
}

void preview(OptionReader& r, SaveOptions& o) {
  auto b = r.builder("preview");
  o.preview_p_low = r.number("preview_png_p_low");
  o.preview_p_high = r.number("preview_png_p_high");
  if (!(o.preview_p_low < o.preview_p_high))
    r.reject("preview_png_p_high", fmt::format("must be above preview_png_p_low ({})", o.preview_p_low));
  o.preview_asinh_a = r.number("preview_png_asinh_a");
  o.preview_max_dim = r.small_int("preview_png_max_dim");
}

// ZeMosaic's presets (zemosaic_pipeline.md 4.8). The custom keys are always read (every key has one builder) and
// count only with strength = custom.
void final_dbe(OptionReader& r, DbeOptions& o) {
  auto b = r.builder("final_dbe");
  o.enabled = r.flag("final_mosaic_dbe_enabled");
  o.strength = r.text("final_mosaic_dbe_strength");
  o.obj_k = r.number("final_mosaic_dbe_obj_k");
  o.obj_dilate_px = r.small_int("final_mosaic_dbe_obj_dilate_px");
  o.sample_step = r.small_int("final_mosaic_dbe_sample_step");
  o.smoothing = r.number("final_mosaic_dbe_smoothing");
  if (o.strength == "weak") o.obj_k = 4.0, o.obj_dilate_px = 2, o.sample_step = 32, o.smoothing = 1.0;
  if (o.strength == "normal") o.obj_k = 3.0, o.obj_dilate_px = 3, o.sample_step = 24, o.smoothing = 0.6;
  if (o.strength == "strong") o.obj_k = 2.2, o.obj_dilate_px = 4, o.sample_step = 16, o.smoothing = 0.25;
}

void route_choice(OptionReader& r, RunLevelOptions& o) {
  auto b = r.builder("route_choice");
  o.sds_mode = r.flag("sds_mode");
  o.mosaic_first = r.flag("mosaic_first");
}

void run_conduct(OptionReader& r, RunLevelOptions& o) {
  auto b = r.builder("run_conduct");
  o.resume = r.text("resume") != "off";
  o.keep_cache = r.text("cache_retention") == "keep";
  o.telemetry_interval_s = r.number("telemetry_interval_s");
}

std::string assembly_method_name(CoaddMethod m) {
  return m == CoaddMethod::Incremental ? "incremental" : "reproject_coadd";
}

// ---- stages: the leaves each stage's outputs depend on ----

struct Stages {
  const Config& config;
  OptionLog* log;
  std::vector<StageKeys>* keys;

  template <class F>
  std::string stage(std::string_view name, F&& fill) const {
    OptionReader r(config, log);
    fill(r);
    if (keys != nullptr) keys->push_back({std::string(name), r.keys()});
    return r.signature();
  }
};

RunOptions build(const Config& config, OptionLog* log, std::vector<StageKeys>* keys) {
  const Stages s{config, log, keys};
  RunOptions o;
  s.stage("run", [&](OptionReader& r) {
    route_choice(r, o.run);
    run_conduct(r, o.run);
    o.plan = plan_settings_from(r);
    o.machine = machine_assumptions_from(r);
  });
  o.ingest.settings = s.stage("ingest", [&](OptionReader& r) {
    input_limits(r, o.ingest.preprocess);
    colour(r, o.ingest.preprocess);
    wcs_acquisition(r, o.ingest.preprocess, o.ingest.acquire);
    o.ingest.vignetting_correction = vignetting(r);
  });
  o.cluster.settings = s.stage("cluster", [&](OptionReader& r) { o.cluster.params = clustering(r); });
  o.master_tiles.settings = s.stage("master_tiles", [&](OptionReader& r) {
    o.master_tiles.tile.reject = stack_rejection(r);
    master_tile_stack(r, o.master_tiles);
  });
  o.final_grid.settings = s.stage("final_grid", [&](OptionReader& r) { o.final_grid.grid = final_grid(r); });
  o.tile_match.settings = s.stage("tile_match", [&](OptionReader& r) {
    o.tile_match.harmonize = overlap_fits(r);
    tile_match(r, o.tile_match);
  });
  o.merge.settings = s.stage("merge", [&](OptionReader& r) {
    const RejectParams stack = stack_rejection(r);
    o.merge.tile.photometry = overlap_fits(r);
    inter_master_merge(r, o.merge);
    o.merge.tile.reject.kappa_low = stack.kappa_low;
    o.merge.tile.reject.kappa_high = stack.kappa_high;
    o.merge.tile.reject.max_iterations = stack.max_iterations;
    o.merge.tile.photometry.flux.clip_sigma = o.merge.tile.photometry.clip_sigma;
    o.merge.tile.photometry.overlap_min = 0.0;  // members overlap by construction; chains must stay connected
    o.merge.tile.kernel = phase5_kernel(r);
    TileMatchOptions previews;
    tile_match(r, previews);
    o.merge.tile.preview_side = previews.preview_side;
  });
  o.assembly.settings = s.stage("assembly", [&](OptionReader& r) {
    assembly(r, o.assembly);
    o.assembly.kernel = phase5_kernel(r);
  });
  o.global_grid.settings = s.stage("global_grid", [&](OptionReader& r) { global_grid(r, o.global_grid); });
  o.global_coadd.settings = s.stage("global_coadd", [&](OptionReader& r) { global_coadd(r, o.global_coadd); });
  o.sds.settings = s.stage("sds", [&](OptionReader& r) {
    sds(r, o.sds);
    o.sds.reject = stack_rejection(r);
    o.sds.matching = overlap_fits(r);
    GlobalCoaddStageOptions coadd;  // the mega-tiles are global coadds
    global_coadd(r, coadd);
  });
  o.grid_mode.settings = s.stage("grid_mode", [&](OptionReader& r) {
    grid_mode(r, o.grid_mode);
    GlobalCoaddStageOptions coadd;  // grid tiles are global coadds
    global_coadd(r, coadd);
  });
  o.save.settings = s.stage("save", [&](OptionReader& r) {
    output_files(r, o.save);
    preview(r, o.save);
    final_dbe(r, o.save.dbe);
  });
  o.save.assembly_method = assembly_method_name(o.assembly.method);
  return o;
}

}  // namespace

RunOptions build_run_options(const Config& config, OptionLog* log) { return build(config, log, nullptr); }

std::vector<StageKeys> stage_keys(const Config& config) {
  std::vector<StageKeys> keys;
  build(config, nullptr, &keys);
  return keys;
}

}  // namespace zm
