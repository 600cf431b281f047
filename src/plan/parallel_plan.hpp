// The parallel plan: how many workers, how much memory and how large chunks each heavy phase may use.
//
// One plan per kind of work, computed once per run from the machine's capabilities, the config and the real sizes
// of the job. Every value carries a short reason naming the limit that decided it. There is no cap on the number
// of images: a job that does not fit the memory budget is chunked (rows_per_chunk, use_memmap), never truncated.
//
// Memory model (per kind, see make_plan): an item (frame, group, tile, mega-tile) needs `fixed` bytes that cannot be
// split plus `row_bytes` per row of its chunkable dimension, from the kernel's own price when the caller passes one
// (JobSizes::item_price), else from a formula over the sizes. tiles_in_flight is the largest number of items that
// can run at once while each still gets at least kMinRowsPerChunk rows from its share of the RAM budget, so
// concurrency only drops when memory truly forbids it; rows_per_chunk is what that share then allows.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "plan/capabilities.hpp"
#include "plan/plan_settings.hpp"
#include "plan/plan_constants.hpp"

namespace zm {

enum class PlanKind { ingest, master_tiles, mosaic_first, phase45, phase5, sds_megatiles };

std::string_view to_string(PlanKind kind);
std::optional<PlanKind> plan_kind_from_string(std::string_view name);
std::span<const PlanKind> all_plan_kinds();

// One item's bytes as the kernel that runs it computes them (e.g. reproject's coadd_item_price for phase5): `fixed_bytes`
// that cannot be split plus `row_bytes` per row of the chunked dimension. make_plan prices `kind`'s items with it
// instead of its own formula (the reasons say "priced by the kernel: <formula>"); plans of other kinds ignore it.
struct ItemPrice {
  PlanKind kind = PlanKind::phase5;
  std::uint64_t fixed_bytes = 0;
  std::uint64_t row_bytes = 0;
  std::string formula;  // how the kernel arrived at the numbers
};

// The real sizes of the job. Zero means unknown; make_plan then falls back to a stated assumption.
struct JobSizes {
  int frame_width = 0;
  int frame_height = 0;
  int input_channels = 1;          // as stored (1 for raw Bayer frames)
  int frame_channels = 3;          // working channels (3 after debayering)
  int input_bytes_per_sample = 2;  // as stored (2 for BITPIX 16)
  int bytes_per_sample = 4;        // working samples are float32
  std::uint64_t frames_total = 0;
  std::uint64_t max_frames_per_group = 0;  // frames in the largest group (0 = unknown: one group of all frames)
  std::uint64_t groups = 0;                // master tiles (0 = frames_total / max_frames_per_group)
  int tile_width = 0;                      // master tile grid (0 = frame size)
  int tile_height = 0;
  int output_width = 0;                    // final mosaic grid (0 = unknown)
  int output_height = 0;
  int output_channels = 3;
  std::uint64_t megatiles = 0;             // SDS batches (0 = frames_total / kSdsFramesPerBatch)
  std::vector<std::string> notes;          // how estimated values were obtained (shown next to the plans)
  std::optional<ItemPrice> item_price;     // the kernel's own price of one item (none: make_plan's formula)
};

struct ParallelPlan {
  PlanKind kind = PlanKind::ingest;
  int cpu_workers = 1;                   // threads of the phase's arena
  int io_workers = 1;                    // concurrent file readers/writers
  std::uint64_t ram_budget_bytes = 0;    // what the phase may hold in RAM at once (in-flight items included)
  std::uint64_t max_chunk_bytes = 0;     // the share one in-flight item may use
  int rows_per_chunk = 0;                // rows one item processes at a time (0 = unknown sizes)
  bool use_memmap = false;               // the job does not fit: spill to memory-mapped files in memmap_dir
  std::string memmap_dir;
  bool use_gpu = false;
  std::uint64_t gpu_budget_bytes = 0;
  std::uint64_t gpu_max_chunk_bytes = 0;  // VRAM one GPU job may use
  int gpu_rows_per_chunk = 0;
  int gpu_concurrency = 0;               // GPU jobs at once (0 when use_gpu is false)
  int tiles_in_flight = 1;               // items running at once (frames, groups, tiles, mega-tiles)
  std::vector<std::string> reasons;      // which limit decided each value
};

nlohmann::json to_json(const JobSizes& job);

// JSON with exactly the plan's field names (the kind is the key of the enclosing object).
nlohmann::json to_json(const ParallelPlan& plan);

ParallelPlan make_plan(PlanKind kind, const Capabilities& caps, const PlanSettings& settings, const JobSizes& job);
std::vector<ParallelPlan> make_all_plans(const Capabilities& caps, const PlanSettings& settings, const JobSizes& job);
// The same with the settings read from a configuration (plan_settings).
ParallelPlan make_plan(PlanKind kind, const Capabilities& caps, const Config& config, const JobSizes& job);
std::vector<ParallelPlan> make_all_plans(const Capabilities& caps, const Config& config, const JobSizes& job);


}  // namespace zm
