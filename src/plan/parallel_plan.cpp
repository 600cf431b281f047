#include "plan/parallel_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "plan/bytes_text.hpp"

namespace zm {

using namespace plan_constants;

namespace {

constexpr std::array<PlanKind, 6> kAllKinds = {PlanKind::ingest,  PlanKind::master_tiles, PlanKind::mosaic_first,
                                               PlanKind::phase45, PlanKind::phase5,       PlanKind::sds_megatiles};

std::uint64_t scaled(std::uint64_t bytes, double factor) {
  return static_cast<std::uint64_t>(std::floor(static_cast<double>(bytes) * factor));
}

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

// What every kind shares: workers and budgets.
struct Common {
  int cpu_workers = 1;
  int io_workers = 1;
  std::uint64_t ram_budget = 0;
  bool use_gpu = false;
  std::uint64_t gpu_budget = 0;
  std::vector<std::string> reasons;
};

int decide_cpu_workers(const Capabilities& caps, const PlanSettings& cfg, std::vector<std::string>& reasons) {
  int workers = 0;
  if (const int n = cfg.num_processing_workers; n > 0) {
    workers = n;
    reasons.push_back(fmt::format("cpu_workers {}: num_processing_workers (usable cores {})", workers, caps.usable_cores));
  } else {
    const double load = cfg.target_cpu_load;
    workers = std::max(1, static_cast<int>(std::lround(caps.usable_cores * load)));
    reasons.push_back(fmt::format("cpu_workers {} = round({} usable cores x parallel_target_cpu_load {:.2f}), at least 1",
                                  workers, caps.usable_cores, load));
  }
  if (const int cap = cfg.max_cpu_workers; cap > 0 && workers > cap) {
    workers = cap;
    reasons.push_back(fmt::format("cpu_workers capped to {} by parallel_max_cpu_workers", workers));
  }
  return workers;
}

std::uint64_t decide_ram_budget(const Capabilities& caps, const PlanSettings& cfg, std::vector<std::string>& reasons) {
  std::uint64_t total = caps.ram_total_bytes;
  const std::uint64_t available = caps.ram_available_bytes;
  if (total == 0 && available == 0) {
    total = kUnknownRamBytes;
    reasons.push_back(fmt::format("RAM size unknown: assumed {}", human_bytes(total)));
  }
  if (total == 0) total = available;
  const double fraction = cfg.target_ram_fraction;
  const std::uint64_t by_total = scaled(total, fraction * kRamSafety);
  const std::uint64_t by_available = available > 0 ? scaled(available, kAvailableFraction)
                                                   : std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t base = std::min(by_total, by_available);
  std::uint64_t budget = base > kRamReserveBytes ? base - kRamReserveBytes : 0;
  reasons.push_back(fmt::format(
      "ram_budget_bytes {} = min(total {} x parallel_target_ram_fraction {:.2f} x safety {:.2f}, available {} x {:.2f}) "
      "- reserve {}; {} decided",
      human_bytes(budget), human_bytes(total), fraction, kRamSafety,
      available > 0 ? human_bytes(available) : std::string("unknown"), kAvailableFraction,
      human_bytes(kRamReserveBytes), by_total <= by_available ? "total RAM" : "available RAM"));
  if (budget < kRamBudgetFloorBytes) {
    budget = kRamBudgetFloorBytes;
    reasons.push_back(fmt::format("ram_budget_bytes raised to the floor {}", human_bytes(budget)));
  }
  return budget;
}

// use_gpu is "present AND wanted AND compiled in"; `on` without a usable GPU is reported, not fatal.
bool decide_gpu(const Capabilities& caps, const PlanSettings& cfg, std::uint64_t& budget, std::vector<std::string>& reasons) {
  budget = 0;
  const std::string& want = cfg.use_gpu;
  auto no = [&](const std::string& why) {
    reasons.push_back(want == "on" ? "use_gpu false: use_gpu=on but " + why : "use_gpu false: " + why);
    return false;
  };
  if (want == "off") return no("use_gpu=off");
  if (!caps.cuda_built) return no("this binary was built without CUDA");
  if (!caps.gpu.present) return no("no GPU (" + caps.gpu.reason + ")");
  const std::uint64_t total = caps.gpu.vram_total > 0 ? caps.gpu.vram_total : caps.gpu.vram_free;
  const double fraction = cfg.gpu_vram_fraction;
  const std::uint64_t by_total = scaled(total, fraction * kVramSafety);
  const std::uint64_t by_free = caps.gpu.vram_free > 0 ? scaled(caps.gpu.vram_free, kVramFreeFraction)
                                                       : std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t base = std::min(by_total, by_free);
  const std::uint64_t b = base > kVramReserveBytes ? base - kVramReserveBytes : 0;
  reasons.push_back(fmt::format(
      "gpu_budget_bytes {} = min(VRAM {} x parallel_gpu_vram_fraction {:.2f} x safety {:.2f}, free {} x {:.2f}) - "
      "reserve {}; {} decided",
      human_bytes(b), human_bytes(total), fraction, kVramSafety, human_bytes(caps.gpu.vram_free), kVramFreeFraction,
      human_bytes(kVramReserveBytes), by_total <= by_free ? "total VRAM" : "free VRAM"));
  if (b < kGpuMinBudgetBytes)
    return no(fmt::format("VRAM budget {} is below the {} minimum", human_bytes(b), human_bytes(kGpuMinBudgetBytes)));
  budget = b;
  reasons.push_back(fmt::format("use_gpu true: {} present and use_gpu={}", caps.gpu.name, want));
  return true;
}

Common decide_common(const Capabilities& caps, const PlanSettings& cfg) {
  Common c;
  c.reasons.push_back(fmt::format("usable cores {} = min(logical {}, affinity {}, cgroup quota {})", caps.usable_cores,
                                  caps.logical_cores,
                                  caps.affinity_cores > 0 ? std::to_string(caps.affinity_cores) : std::string("unknown"),
                                  caps.cgroup_cpu_limit > 0 ? fmt::format("{:.2f} CPUs", caps.cgroup_cpu_limit)
                                                            : std::string("none")));
  c.cpu_workers = decide_cpu_workers(caps, cfg, c.reasons);
  if (const int io = cfg.io_workers; io > 0) {
    c.io_workers = io;
    c.reasons.push_back(fmt::format("io_workers {}: parallel_io_workers", c.io_workers));
  } else {
    c.io_workers = std::min(c.cpu_workers, kMaxIoWorkers);
    c.reasons.push_back(fmt::format("io_workers {} = min(cpu_workers {}, {} concurrent file streams)", c.io_workers,
                                    c.cpu_workers, kMaxIoWorkers));
  }
  c.ram_budget = decide_ram_budget(caps, cfg, c.reasons);
  c.use_gpu = decide_gpu(caps, cfg, c.gpu_budget, c.reasons);
  return c;
}

// The memory model of one kind (see the header): items, chunkable rows, bytes per row, unsplittable bytes.
struct ItemModel {
  std::string item_name;      // "frames", "groups", ...
  std::uint64_t items = 0;
  int rows = 0;               // rows of the chunked dimension (0 = unknown)
  std::uint64_t row_bytes = 0;
  std::uint64_t fixed_bytes = 0;
  bool shared_output = false; // rows belong to one output all items add into (mosaic_first, phase5)
  std::string formula;
};

struct Sizes {
  std::uint64_t w, h, c, bps, in_bytes, tile_w, tile_h, out_w, out_h, out_c;
  std::uint64_t frames, group_frames, groups, megatiles;
};

Sizes effective_sizes(const JobSizes& j, std::vector<std::string>& reasons, PlanKind kind) {
  Sizes s{};
  s.w = static_cast<std::uint64_t>(std::max(0, j.frame_width));
  s.h = static_cast<std::uint64_t>(std::max(0, j.frame_height));
  s.c = static_cast<std::uint64_t>(std::max(1, j.frame_channels));
  s.bps = static_cast<std::uint64_t>(std::max(1, j.bytes_per_sample));
  s.in_bytes = static_cast<std::uint64_t>(std::max(1, j.input_channels) * std::max(1, j.input_bytes_per_sample));
  s.tile_w = j.tile_width > 0 ? static_cast<std::uint64_t>(j.tile_width) : s.w;
  s.tile_h = j.tile_height > 0 ? static_cast<std::uint64_t>(j.tile_height) : s.h;
  s.out_w = static_cast<std::uint64_t>(std::max(0, j.output_width));
  s.out_h = static_cast<std::uint64_t>(std::max(0, j.output_height));
  s.out_c = static_cast<std::uint64_t>(std::max(1, j.output_channels));
  s.frames = j.frames_total;
  s.group_frames = j.max_frames_per_group > 0 ? j.max_frames_per_group : j.frames_total;
  const bool uses_groups = kind == PlanKind::master_tiles || kind == PlanKind::phase45 || kind == PlanKind::phase5;
  if (j.max_frames_per_group == 0 && j.frames_total > 0 && kind == PlanKind::master_tiles)
    reasons.push_back("group sizes unknown: assumed one group of all frames (worst case)");
  s.groups = j.groups > 0 ? j.groups : ceil_div(s.frames, std::max<std::uint64_t>(1, s.group_frames));
  if (j.groups == 0 && s.frames > 0 && uses_groups)
    reasons.push_back(fmt::format("groups unknown: {} = frames / largest group", s.groups));
  s.megatiles = j.megatiles > 0 ? j.megatiles : ceil_div(s.frames, kSdsFramesPerBatch);
  if (j.megatiles == 0 && s.frames > 0 && kind == PlanKind::sds_megatiles)
    reasons.push_back(fmt::format("mega-tiles unknown: {} = frames / {}", s.megatiles, kSdsFramesPerBatch));
  return s;
}

ItemModel model_for(PlanKind kind, const Sizes& s) {
  ItemModel m;
  const std::uint64_t acc_row = s.out_w * (s.out_c * kSumBytes + kWeightBytes);
  const std::string acc_formula = fmt::format("output row {} px x ({} ch x {} B sum + {} B weight) = {}", s.out_w,
                                              s.out_c, kSumBytes, kWeightBytes, human_bytes(acc_row));
  switch (kind) {
    case PlanKind::ingest:
      m = {"frames", s.frames, static_cast<int>(s.h), s.w * (s.in_bytes + 4 + s.c * s.bps * kDebayerCopies), 0, false, ""};
      m.formula = fmt::format("frame row {} px x ({} B raw + 4 B CFA float + {} ch x {} B x {} copies) = {}", s.w,
                              s.in_bytes, s.c, s.bps, kDebayerCopies, human_bytes(m.row_bytes));
      break;
    case PlanKind::master_tiles:
      m = {"groups", s.groups, static_cast<int>(s.tile_h), s.group_frames * s.tile_w * s.c * s.bps * kStackCopies,
           s.tile_w * s.tile_h * (s.c * s.bps + kWeightBytes), false, ""};
      m.formula = fmt::format("stack row {} frames x {} px x {} ch x {} B x {} copies = {}; tile + coverage {}",
                              s.group_frames, s.tile_w, s.c, s.bps, kStackCopies, human_bytes(m.row_bytes),
                              human_bytes(m.fixed_bytes));
      break;
    case PlanKind::phase45:
      m = {"tiles", s.groups, static_cast<int>(s.tile_h), s.tile_w * s.c * s.bps * kReprojectCopies, 0, false, ""};
      m.formula = fmt::format("tile row {} px x {} ch x {} B x {} copies = {}", s.tile_w, s.c, s.bps, kReprojectCopies,
                              human_bytes(m.row_bytes));
      break;
    case PlanKind::mosaic_first:
      m = {"frames", s.frames, static_cast<int>(s.out_h), acc_row, kReprojectCopies * s.w * s.h * s.c * s.bps, true, ""};
      m.formula = fmt::format("{}; per frame {} x {} x {} ch x {} B x {} copies = {}", acc_formula, s.w, s.h, s.c,
                              s.bps, kReprojectCopies, human_bytes(m.fixed_bytes));
      break;
    case PlanKind::phase5:
      m = {"tiles", s.groups, static_cast<int>(s.out_h), acc_row, kReprojectCopies * s.tile_w * s.tile_h * s.c * s.bps,
           true, ""};
      m.formula = fmt::format("{}; per tile {} x {} x {} ch x {} B x {} copies = {}", acc_formula, s.tile_w, s.tile_h,
                              s.c, s.bps, kReprojectCopies, human_bytes(m.fixed_bytes));
      break;
    case PlanKind::sds_megatiles:
      m = {"mega-tiles", s.megatiles, static_cast<int>(s.out_h), acc_row, kReprojectCopies * s.w * s.h * s.c * s.bps,
           false, ""};
      m.formula = fmt::format("mega-tile {}; one frame reprojected into it {}", acc_formula, human_bytes(m.fixed_bytes));
      break;
  }
  return m;
}

// Items that each own `fixed + rows x row_bytes`: the most items whose share still holds kMinRowsPerChunk rows.
void size_independent_items(ParallelPlan& p, const ItemModel& m, int desired) {
  const std::uint64_t budget = p.ram_budget_bytes;
  const int min_rows = std::min(m.rows, kMinRowsPerChunk);
  const std::uint64_t need = m.fixed_bytes + static_cast<std::uint64_t>(min_rows) * m.row_bytes;
  const std::uint64_t fit = need > 0 ? budget / need : static_cast<std::uint64_t>(desired);
  p.tiles_in_flight = static_cast<int>(std::clamp<std::uint64_t>(fit, 1, static_cast<std::uint64_t>(desired)));
  p.max_chunk_bytes = budget / static_cast<std::uint64_t>(p.tiles_in_flight);
  const std::uint64_t spare = p.max_chunk_bytes > m.fixed_bytes ? p.max_chunk_bytes - m.fixed_bytes : 0;
  p.rows_per_chunk = static_cast<int>(std::clamp<std::uint64_t>(spare / m.row_bytes, static_cast<std::uint64_t>(min_rows),
                                                                static_cast<std::uint64_t>(m.rows)));
  p.use_memmap = p.rows_per_chunk < m.rows;
  if (fit == 0) {
    p.reasons.push_back(fmt::format("tiles_in_flight 1: one item at {} rows needs {}, more than the budget: it runs "
                                    "alone and streams {} rows at a time",
                                    min_rows, human_bytes(need), p.rows_per_chunk));
  } else {
    p.reasons.push_back(fmt::format("tiles_in_flight {} = min({} wanted, budget / {} per item at {} rows = {})",
                                    p.tiles_in_flight, desired, human_bytes(need), min_rows, fit));
  }
  p.reasons.push_back(fmt::format("max_chunk_bytes {} = budget / {} items in flight", human_bytes(p.max_chunk_bytes),
                                  p.tiles_in_flight));
  p.reasons.push_back(fmt::format("rows_per_chunk {} of {}: (share - {} fixed) / {} per row", p.rows_per_chunk, m.rows,
                                  human_bytes(m.fixed_bytes), human_bytes(m.row_bytes)));
}

// Items that all add into one output: the accumulator takes what it needs up to kAccumulatorShare of the budget
// (else it is memory-mapped and swept by row bands); the rest runs items.
void size_shared_output(ParallelPlan& p, const ItemModel& m, int desired) {
  const std::uint64_t budget = p.ram_budget_bytes;
  const std::uint64_t whole = static_cast<std::uint64_t>(m.rows) * m.row_bytes;
  const std::uint64_t acc_cap = scaled(budget, kAccumulatorShare);
  const int min_rows = std::min(m.rows, kMinRowsPerChunk);
  std::uint64_t acc = whole;
  if (whole <= acc_cap) {
    p.rows_per_chunk = m.rows;
    p.reasons.push_back(fmt::format("rows_per_chunk {} (whole output): accumulator {} fits {:.0f}% of the budget",
                                    m.rows, human_bytes(whole), kAccumulatorShare * 100));
  } else {
    p.rows_per_chunk = static_cast<int>(std::clamp<std::uint64_t>(acc_cap / m.row_bytes, static_cast<std::uint64_t>(min_rows),
                                                                  static_cast<std::uint64_t>(m.rows)));
    acc = static_cast<std::uint64_t>(p.rows_per_chunk) * m.row_bytes;
    p.use_memmap = true;
    p.reasons.push_back(fmt::format("rows_per_chunk {} of {}: accumulator {} exceeds {:.0f}% of the budget, so it is "
                                    "memory-mapped and swept by bands",
                                    p.rows_per_chunk, m.rows, human_bytes(whole), kAccumulatorShare * 100));
  }
  const std::uint64_t rest = budget > acc ? budget - acc : 0;
  const std::uint64_t fit = m.fixed_bytes > 0 ? rest / m.fixed_bytes : static_cast<std::uint64_t>(desired);
  p.tiles_in_flight = static_cast<int>(std::clamp<std::uint64_t>(fit, 1, static_cast<std::uint64_t>(desired)));
  p.max_chunk_bytes = rest / static_cast<std::uint64_t>(p.tiles_in_flight);
  p.reasons.push_back(fmt::format("tiles_in_flight {} = min({} wanted, {} left after the accumulator / {} per item = {})",
                                  p.tiles_in_flight, desired, human_bytes(rest), human_bytes(m.fixed_bytes), fit));
  p.reasons.push_back(fmt::format("max_chunk_bytes {} = remaining budget / {} items in flight",
                                  human_bytes(p.max_chunk_bytes), p.tiles_in_flight));
}

void size_gpu(ParallelPlan& p, const ItemModel& m) {
  if (!p.use_gpu) return;
  p.gpu_concurrency = 1;
  p.reasons.push_back("gpu_concurrency 1: one GPU job at a time until concurrent jobs are proven safe");
  p.gpu_max_chunk_bytes = p.gpu_budget_bytes / static_cast<std::uint64_t>(p.gpu_concurrency);
  if (m.rows <= 0 || m.row_bytes == 0) {
    p.reasons.push_back("gpu_rows_per_chunk 0: job size unknown");
    return;
  }
  const int min_rows = std::min(m.rows, kMinRowsPerChunk);
  const std::uint64_t need = m.fixed_bytes + static_cast<std::uint64_t>(min_rows) * m.row_bytes;
  if (need > p.gpu_max_chunk_bytes) {
    p.reasons.push_back(fmt::format("use_gpu false for {}: {} rows need {}, more than the GPU chunk {}",
                                    to_string(p.kind), min_rows, human_bytes(need), human_bytes(p.gpu_max_chunk_bytes)));
    p.use_gpu = false;
    p.gpu_concurrency = 0;
    p.gpu_budget_bytes = p.gpu_max_chunk_bytes = 0;
    return;
  }
  p.gpu_rows_per_chunk = static_cast<int>(std::min<std::uint64_t>(
      (p.gpu_max_chunk_bytes - m.fixed_bytes) / m.row_bytes, static_cast<std::uint64_t>(m.rows)));
  p.reasons.push_back(fmt::format("gpu_rows_per_chunk {} of {} = (GPU chunk {} - {} fixed) / {} per row",
                                  p.gpu_rows_per_chunk, m.rows, human_bytes(p.gpu_max_chunk_bytes),
                                  human_bytes(m.fixed_bytes), human_bytes(m.row_bytes)));
}

void check_scratch_disk(ParallelPlan& p, const ItemModel& m, const Capabilities& caps) {
  if (!p.use_memmap) {
    p.reasons.push_back("use_memmap false: the working set fits the budget");
    return;
  }
  const std::uint64_t whole_item = m.fixed_bytes + static_cast<std::uint64_t>(m.rows) * m.row_bytes;
  const std::uint64_t spill = m.shared_output ? static_cast<std::uint64_t>(m.rows) * m.row_bytes
                                              : whole_item * static_cast<std::uint64_t>(p.tiles_in_flight);
  if (caps.disk_free_bytes == 0) {
    p.reasons.push_back(fmt::format("use_memmap true: spills up to ~{} to '{}' (free space unknown)", human_bytes(spill),
                                    p.memmap_dir));
  } else if (spill > caps.disk_free_bytes) {
    p.reasons.push_back(fmt::format("WARNING: use_memmap needs ~{} in '{}' but only {} is free", human_bytes(spill),
                                    p.memmap_dir, human_bytes(caps.disk_free_bytes)));
  } else {
    p.reasons.push_back(fmt::format("use_memmap true: spills up to ~{} to '{}' ({} free)", human_bytes(spill),
                                    p.memmap_dir, human_bytes(caps.disk_free_bytes)));
  }
}

}  // namespace

std::string_view to_string(PlanKind kind) {
  switch (kind) {
    case PlanKind::ingest: return "ingest";
    case PlanKind::master_tiles: return "master_tiles";
    case PlanKind::mosaic_first: return "mosaic_first";
    case PlanKind::phase45: return "phase45";
    case PlanKind::phase5: return "phase5";
    case PlanKind::sds_megatiles: return "sds_megatiles";
  }
  return "?";
}

std::optional<PlanKind> plan_kind_from_string(std::string_view name) {
  for (PlanKind k : kAllKinds)
    if (to_string(k) == name) return k;
  return std::nullopt;
}

std::span<const PlanKind> all_plan_kinds() { return kAllKinds; }

nlohmann::json to_json(const ParallelPlan& p) {
  return {{"cpu_workers", p.cpu_workers},
          {"io_workers", p.io_workers},
          {"ram_budget_bytes", p.ram_budget_bytes},
          {"max_chunk_bytes", p.max_chunk_bytes},
          {"rows_per_chunk", p.rows_per_chunk},
          {"use_memmap", p.use_memmap},
          {"memmap_dir", p.memmap_dir},
          {"use_gpu", p.use_gpu},
          {"gpu_budget_bytes", p.gpu_budget_bytes},
          {"gpu_max_chunk_bytes", p.gpu_max_chunk_bytes},
          {"gpu_rows_per_chunk", p.gpu_rows_per_chunk},
          {"gpu_concurrency", p.gpu_concurrency},
          {"tiles_in_flight", p.tiles_in_flight},
          {"reasons", p.reasons}};
}

nlohmann::json to_json(const JobSizes& j) {
  nlohmann::json out = {{"frame_width", j.frame_width},
                        {"frame_height", j.frame_height},
                        {"input_channels", j.input_channels},
                        {"frame_channels", j.frame_channels},
                        {"input_bytes_per_sample", j.input_bytes_per_sample},
                        {"bytes_per_sample", j.bytes_per_sample},
                        {"frames_total", j.frames_total},
                        {"max_frames_per_group", j.max_frames_per_group},
                        {"groups", j.groups},
                        {"tile_width", j.tile_width},
                        {"tile_height", j.tile_height},
                        {"output_width", j.output_width},
                        {"output_height", j.output_height},
                        {"output_channels", j.output_channels},
                        {"megatiles", j.megatiles},
                        {"notes", j.notes}};
  if (j.item_price)
    out["item_price"] = {{"kind", std::string(to_string(j.item_price->kind))},
                         {"fixed_bytes", j.item_price->fixed_bytes},
                         {"row_bytes", j.item_price->row_bytes},
                         {"formula", j.item_price->formula}};
  return out;
}

ParallelPlan make_plan(PlanKind kind, const Capabilities& caps, const PlanSettings& config, const JobSizes& job) {
  const Common common = decide_common(caps, config);
  ParallelPlan p;
  p.kind = kind;
  p.cpu_workers = common.cpu_workers;
  p.io_workers = common.io_workers;
  p.ram_budget_bytes = common.ram_budget;
  p.use_gpu = common.use_gpu;
  p.gpu_budget_bytes = common.gpu_budget;
  p.reasons = common.reasons;
  const std::string& dir = config.memmap_dir;
  p.memmap_dir = dir.empty() ? caps.scratch_dir : dir;

  const Sizes sizes = effective_sizes(job, p.reasons, kind);
  ItemModel m = model_for(kind, sizes);
  if (job.item_price && job.item_price->kind == kind) {
    m.fixed_bytes = job.item_price->fixed_bytes;
    m.row_bytes = job.item_price->row_bytes;
    m.formula = "priced by the kernel: " + job.item_price->formula;
  }
  if (kind == PlanKind::ingest && m.items > 0 && static_cast<std::uint64_t>(p.io_workers) > m.items) {
    p.io_workers = static_cast<int>(m.items);
    p.reasons.push_back(fmt::format("io_workers {}: no more than the frames", p.io_workers));
  }
  // The workers not needed across items parallelise inside each item (row bands), so cpu_workers is not reduced.
  const int desired = m.items > 0 ? static_cast<int>(std::min<std::uint64_t>(m.items, static_cast<std::uint64_t>(p.cpu_workers)))
                                  : p.cpu_workers;
  if (m.items > 0 && m.items < static_cast<std::uint64_t>(p.cpu_workers))
    p.reasons.push_back(fmt::format("{} {} for {} workers: the other workers split each item into row bands", m.items,
                                    m.item_name, p.cpu_workers));
  if (m.rows <= 0 || m.row_bytes == 0) {
    p.tiles_in_flight = std::max(1, desired);
    p.max_chunk_bytes = p.ram_budget_bytes / static_cast<std::uint64_t>(p.tiles_in_flight);
    p.reasons.push_back(fmt::format("{} sizes unknown: rows_per_chunk 0 (decided when they are known), "
                                    "tiles_in_flight {} = min(cpu_workers, items)",
                                    kind == PlanKind::ingest || kind == PlanKind::master_tiles ? "frame" : "output grid",
                                    p.tiles_in_flight));
  } else {
    p.reasons.push_back(fmt::format("{} footprint: {}", to_string(kind), m.formula));
    if (m.shared_output) size_shared_output(p, m, desired);
    else size_independent_items(p, m, desired);
  }
  size_gpu(p, m);
  check_scratch_disk(p, m, caps);
  return p;
}

ParallelPlan make_plan(PlanKind kind, const Capabilities& caps, const Config& config, const JobSizes& job) {
  return make_plan(kind, caps, plan_settings(config), job);
}

std::vector<ParallelPlan> make_all_plans(const Capabilities& caps, const Config& config, const JobSizes& job) {
  return make_all_plans(caps, plan_settings(config), job);
}

std::vector<ParallelPlan> make_all_plans(const Capabilities& caps, const PlanSettings& config, const JobSizes& job) {
  std::vector<ParallelPlan> plans;
  for (PlanKind k : kAllKinds) plans.push_back(make_plan(k, caps, config, job));
  return plans;
}

}  // namespace zm
