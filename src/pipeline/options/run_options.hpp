// Every setting of a run as typed options, one struct per stage of the flow, built from the configuration in one
// place (build_options.cpp). Phases receive their struct and never see the configuration. Each struct carries
// `settings`, the hash of exactly the output-shaping keys its builder read: the stage's part of every resume key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/option_reader.hpp"
#include "photometry/harmonize.hpp"
#include "pipeline/classic/clustering.hpp"
#include "pipeline/classic/master_tile.hpp"
#include "pipeline/frame_photometry/frame_photometry.hpp"
#include "pipeline/ingest/preprocess.hpp"
#include "pipeline/ingest/wcs_acquire.hpp"
#include "pipeline/merge/super_tile.hpp"
#include "pipeline/routes/sds/sds_batches.hpp"
#include "plan/plan_settings.hpp"
#include "reproject/coadd.hpp"
#include "reproject/kernels.hpp"
#include "stack/rejection.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// Phase 1.
struct IngestOptions {
  PreprocessOptions preprocess;    // wcs_cache_dir is the run's (set by Phase 1)
  WcsAcquireSettings acquire;      // workers and work_root are the run's (set by Phase 1)
  bool vignetting_correction = true;
  std::string settings;
};

// Phase 2 of the classic route (the frame routes use it to order their frames).
struct ClusterOptions {
  ClusterParams params;            // field_of_view_deg comes from the frames
  std::string settings;
};

// Phase 3.
struct MasterTileStageOptions {
  MasterTileOptions tile;          // rows_per_chunk = rows_override, else the plan's
  int rows_override = 0;
  std::string settings;
};

// Phase 4: the mosaic grid of the classic route.
struct FinalGridOptions {
  OptimalGridOptions grid;
  std::string settings;
};

// Phase 4.5: inter-master merge.
struct MergeOptions {
  bool enabled = false;
  double overlap_threshold = 0.6;
  int min_group_size = 2;
  int max_group = 64;
  SuperTileOptions tile;           // memory_budget_bytes and cancel are the run's
  std::string settings;
};

// Phase 4.5: photometric harmonisation of tiles.
struct TileMatchOptions {
  bool enabled = true;
  HarmonizeOptions harmonize;
  int preview_side = 1024;
  std::string settings;
};

// Phase 5: tiles reprojected and co-added onto the grid.
struct AssemblyOptions {
  CoaddMethod method = CoaddMethod::ReprojectCoadd;
  Kernel kernel = Kernel::Lanczos3;
  double feather_px = 128.0;
  double alpha_weight_floor = 0.02;
  bool tile_weighting = true;
  int rows_override = 0;
  std::string settings;
};

// The global grid of Mosaic-First, SDS and grid mode.
struct GlobalGridOptions {
  std::string scale_mode = "median";  // median | min | max of the frames' scales
  bool north_up = true;
  int pad_px = 2;
  std::string settings;
};

// Frames co-added straight onto a grid (Mosaic-First, SDS mega-tiles, grid tiles).
struct GlobalCoaddStageOptions {
  RejectParams reject;
  Kernel kernel = Kernel::Lanczos3;
  bool normalize = true;           // per-frame star-flux gains and overlap offsets before the coadd
  FrameMatchOptions match;         // their significance gate and preview size
  std::string method = "kappa_sigma";  // as configured (reported in MOSAIC_ASSEMBLED)
  int rows_override = 0;
  std::string settings;
};

// SDS: batches, mega-tile matching and the final stack.
struct SdsOptions {
  SdsBatchOptions batches;
  double min_coverage_keep = 0.4;
  RejectParams reject;             // the mega-tile stack (stack_* keys)
  HarmonizeOptions matching;       // mega-tile gain/offset fits (intertile_* keys)
  std::string settings;
};

// Grid mode (stack_plan.csv).
struct GridModeOptions {
  double size_factor = 4.0;
  double overlap_pct = 40.0;
  long long chunk_ram_mb = 0;      // 0 = the plan's band budget
  std::string settings;
};

// Phase 6.
// Final background extraction (Phase 6): the resolved preset.
struct DbeOptions {
  bool enabled = true;
  std::string strength = "normal";  // weak | normal | strong | custom
  double obj_k = 3.0;
  int obj_dilate_px = 3;
  int sample_step = 24;
  double smoothing = 0.6;
};

struct SaveOptions {
  std::string basename;            // empty = zemosaic_MT<tiles>_R<frames>
  std::string science_suffix = "_science";
  std::string aesthetic_suffix = "_aesthetic";
  bool export_aesthetic = true;
  bool hole_fill = true;
  double hole_fill_radius_px = 96.0;
  double preview_p_low = 1.0, preview_p_high = 99.9, preview_asinh_a = 12.0;
  int preview_max_dim = 2048;
  std::string assembly_method;     // recorded in the science header (ZMASMBMTH)
  DbeOptions dbe;
  std::string settings;
};

// How the run is carried out (none of it changes outputs except the route).
struct RunLevelOptions {
  bool sds_mode = false;
  bool mosaic_first = false;
  bool resume = true;              // resume = auto
  bool keep_cache = false;         // cache_retention = keep
  double telemetry_interval_s = 2.0;
};

struct RunOptions {
  RunLevelOptions run;
  PlanSettings plan;
  MachineAssumptions machine;
  IngestOptions ingest;
  ClusterOptions cluster;
  MasterTileStageOptions master_tiles;
  FinalGridOptions final_grid;
  MergeOptions merge;
  TileMatchOptions tile_match;
  AssemblyOptions assembly;
  GlobalGridOptions global_grid;
  GlobalCoaddStageOptions global_coadd;
  SdsOptions sds;
  GridModeOptions grid_mode;
  SaveOptions save;
};

// Builds every stage's options; throws InputError(BadConfig) naming the key and where it was set when a value
// breaks a rule across keys. With `log`, records which builder read each key (the key-coverage test).
RunOptions build_run_options(const Config& config, OptionLog* log = nullptr);

// One entry per stage: its name and the keys its builder reads (for tests and `zemosaic config`).
struct StageKeys {
  std::string stage;
  std::vector<std::string_view> keys;
};
std::vector<StageKeys> stage_keys(const Config& config = Config());

}  // namespace zm
