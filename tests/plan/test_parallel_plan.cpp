// The plan's heuristics on simulated machines: workers, budgets, safety margins, chunking and the reasons.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "plan/parallel_plan.hpp"
#include "plan_test_util.hpp"

namespace zm {
namespace {

using namespace plan_constants;
using test::has_reason;

std::uint64_t floor_scaled(std::uint64_t bytes, double f) {
  return static_cast<std::uint64_t>(std::floor(static_cast<double>(bytes) * f));
}

// The documented formula, written out independently of the implementation.
std::uint64_t expected_ram_budget(const Capabilities& c, double fraction = 0.82) {
  const std::uint64_t base = std::min(floor_scaled(c.ram_total_bytes, fraction * kRamSafety),
                                      floor_scaled(c.ram_available_bytes, kAvailableFraction));
  return std::max(base - kRamReserveBytes, kRamBudgetFloorBytes);
}

std::uint64_t expected_vram_budget(const Capabilities& c, double fraction = 0.72) {
  return std::min(floor_scaled(c.gpu.vram_total, fraction * kVramSafety),
                  floor_scaled(c.gpu.vram_free, kVramFreeFraction)) -
         kVramReserveBytes;
}

// Stack row and tile bytes of the Seestar job (see plan_constants.hpp).
constexpr std::uint64_t kStackRow = 256ULL * 1080 * 3 * 4 * kStackCopies;
constexpr std::uint64_t kTileFixed = 1080ULL * 1920 * (3 * 4 + kWeightBytes);
constexpr std::uint64_t kAccRow = 4000ULL * (3 * kSumBytes + kWeightBytes);
constexpr std::uint64_t kTileReproject = kReprojectCopies * 1080ULL * 1920 * 3 * 4;

TEST(ParallelPlan, WorkedExampleLaptop2Cores8GbNoGpu) {
  const Capabilities caps = test::laptop_2c_8g();
  const ParallelPlan p = make_plan(PlanKind::master_tiles, caps, Config(), test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 2);  // round(2 x 0.9) = 2
  EXPECT_EQ(p.io_workers, 2);
  // min(8 GiB x 0.82 x 0.95 = 6.23 GiB, 6 GiB x 0.98 = 5.88 GiB) - 512 MiB: the available RAM decides.
  EXPECT_EQ(p.ram_budget_bytes, expected_ram_budget(caps));
  EXPECT_NEAR(static_cast<double>(p.ram_budget_bytes) / kGiB, 5.38, 0.01);
  EXPECT_TRUE(has_reason(p, "available RAM decided"));
  EXPECT_FALSE(p.use_gpu);
  EXPECT_EQ(p.gpu_concurrency, 0);
  EXPECT_EQ(p.gpu_budget_bytes, 0u);
  EXPECT_TRUE(has_reason(p, "built without CUDA"));
  EXPECT_EQ(p.tiles_in_flight, 2);  // both workers get a tile: memory allows ~30
}

TEST(ParallelPlan, WorkedExampleDesktop16Threads32Gb8GbGpu) {
  const Capabilities caps = test::desktop_16t_32g_8g();
  const ParallelPlan p = make_plan(PlanKind::master_tiles, caps, Config(), test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 14);  // round(16 x 0.9) = 14
  EXPECT_EQ(p.io_workers, kMaxIoWorkers);
  EXPECT_EQ(p.ram_budget_bytes, expected_ram_budget(caps));
  EXPECT_NEAR(static_cast<double>(p.ram_budget_bytes) / kGiB, 18.61, 0.01);
  EXPECT_TRUE(p.use_gpu);
  EXPECT_EQ(p.gpu_concurrency, 1);
  EXPECT_EQ(p.gpu_budget_bytes, expected_vram_budget(caps));
  EXPECT_NEAR(static_cast<double>(p.gpu_budget_bytes) / kGiB, 4.684, 0.001);  // 8 x 0.72 x 0.9 - 0.5
  EXPECT_TRUE(has_reason(p, "total VRAM decided"));
  EXPECT_EQ(p.gpu_max_chunk_bytes, p.gpu_budget_bytes);

  // ZeMosaic pinned this job (groups of 256 frames) to 1 worker; here all 14 workers get a group.
  EXPECT_EQ(p.tiles_in_flight, 14);
  EXPECT_EQ(p.max_chunk_bytes, p.ram_budget_bytes / 14);
  EXPECT_EQ(p.rows_per_chunk, static_cast<int>((p.max_chunk_bytes - kTileFixed) / kStackRow));
  EXPECT_GE(p.rows_per_chunk, kMinRowsPerChunk);
  EXPECT_TRUE(p.use_memmap);  // 14 whole 256-frame stacks do not fit: stream row bands
  EXPECT_EQ(p.gpu_rows_per_chunk, static_cast<int>((p.gpu_max_chunk_bytes - kTileFixed) / kStackRow));
}

TEST(ParallelPlan, WorkedExampleWorkstation32Threads128Gb24GbGpu) {
  const Capabilities caps = test::workstation_32t_128g_24g();
  const ParallelPlan p = make_plan(PlanKind::phase5, caps, Config(), test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 29);  // round(28.8)
  EXPECT_EQ(p.ram_budget_bytes, expected_ram_budget(caps));
  EXPECT_TRUE(has_reason(p, "total RAM decided"));
  EXPECT_NEAR(static_cast<double>(p.gpu_budget_bytes) / kGiB, 24 * 0.72 * 0.9 - 0.5, 0.001);
  // A 4000 x 3000 accumulator (336 MB) fits half the budget: whole output, no memmap.
  EXPECT_EQ(p.rows_per_chunk, 3000);
  EXPECT_FALSE(p.use_memmap);
  EXPECT_EQ(p.tiles_in_flight, 29);  // min(29 workers, 40 tiles, memory allows >1000)
  EXPECT_EQ(p.gpu_rows_per_chunk, 3000);
}

TEST(ParallelPlan, CgroupContainerIsPlannedOnItsQuotaNotTheHost) {
  SystemSnapshot s;
  for (int i = 0; i < 64; ++i) s.cpuinfo += "processor\t: " + std::to_string(i) + "\ncore id\t: " + std::to_string(i) + "\n\n";
  s.meminfo = "MemTotal: 268435456 kB\nMemAvailable: 209715200 kB\n";  // 256 GiB host, 200 GiB available
  s.affinity_cpus = 64;
  s.cgroup2_cpu_max = {"200000 100000\n", "max 100000\n"};
  s.cgroup_memory_max = {"4294967296\n", "max\n"};
  s.cgroup_memory_usage = "1073741824\n";
  s.cgroup_memory_stat = "anon 536870912\ninactive_file 536870912\n";
  s.scratch_dir = "/tmp";
  s.disk_free = 10 * kGiB;
  s.gpu.reason = "no device";
  const Capabilities caps = capabilities_from_snapshot(s);
  ASSERT_EQ(caps.usable_cores, 2u);
  ASSERT_EQ(caps.ram_total_bytes, 4 * kGiB);
  ASSERT_EQ(caps.ram_available_bytes, 3584 * kMiB);  // 4 GiB - (1 GiB - 512 MiB inactive files)

  const ParallelPlan p = make_plan(PlanKind::master_tiles, caps, Config(), test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 2);
  EXPECT_TRUE(has_reason(p, "cgroup quota 2.00 CPUs"));
  // min(4 GiB x 0.779, 3.5 GiB x 0.98) - 512 MiB
  EXPECT_EQ(p.ram_budget_bytes, floor_scaled(4 * kGiB, 0.82 * kRamSafety) - kRamReserveBytes);
  EXPECT_LT(p.ram_budget_bytes, caps.ram_total_bytes);
  EXPECT_EQ(p.tiles_in_flight, 2);
  EXPECT_FALSE(p.use_gpu);
}

TEST(ParallelPlan, EveryBudgetStaysBelowTheMachine) {
  for (const Capabilities& caps : {test::laptop_2c_8g(), test::desktop_16t_32g_8g(), test::workstation_32t_128g_24g()}) {
    for (const ParallelPlan& p : make_all_plans(caps, Config(), test::seestar_job())) {
      SCOPED_TRACE(std::string(to_string(p.kind)) + " on " + std::to_string(caps.logical_cores) + " cores");
      EXPECT_LT(p.ram_budget_bytes, caps.ram_total_bytes);
      EXPECT_LT(p.ram_budget_bytes, caps.ram_available_bytes);
      EXPECT_LE(p.max_chunk_bytes * static_cast<std::uint64_t>(p.tiles_in_flight), p.ram_budget_bytes);
      EXPECT_GE(p.tiles_in_flight, 1);
      EXPECT_LE(p.tiles_in_flight, p.cpu_workers);
      EXPECT_GE(p.rows_per_chunk, 1);
      EXPECT_LE(p.cpu_workers, static_cast<int>(caps.usable_cores));
      EXPECT_GE(p.cpu_workers, static_cast<int>(std::floor(0.75 * caps.usable_cores)));
      if (p.use_gpu) {
        EXPECT_LT(p.gpu_budget_bytes, caps.gpu.vram_total);
        EXPECT_LT(p.gpu_budget_bytes, caps.gpu.vram_free);
        EXPECT_LE(p.gpu_max_chunk_bytes, p.gpu_budget_bytes);
        EXPECT_EQ(p.gpu_concurrency, 1);
        EXPECT_GE(p.gpu_rows_per_chunk, 1);
      } else {
        EXPECT_EQ(p.gpu_concurrency, 0);
        EXPECT_EQ(p.gpu_max_chunk_bytes, 0u);
        EXPECT_EQ(p.gpu_rows_per_chunk, 0);
      }
    }
  }
}

TEST(ParallelPlan, EveryFieldHasAReason) {
  for (const ParallelPlan& p : make_all_plans(test::desktop_16t_32g_8g(), Config(), test::seestar_job())) {
    SCOPED_TRACE(std::string(to_string(p.kind)));
    for (const char* field : {"usable cores", "cpu_workers", "io_workers", "ram_budget_bytes", "tiles_in_flight",
                              "max_chunk_bytes", "rows_per_chunk", "use_memmap", "use_gpu", "gpu_budget_bytes",
                              "gpu_concurrency", "gpu_rows_per_chunk", "footprint"})
      EXPECT_TRUE(has_reason(p, field)) << field;
  }
}

TEST(ParallelPlan, JsonHasExactlyTheIssueFieldNames) {
  const ParallelPlan p = make_plan(PlanKind::ingest, test::desktop_16t_32g_8g(), Config(), test::seestar_job());
  const nlohmann::json j = to_json(p);
  const std::set<std::string> expected = {"cpu_workers",      "io_workers",         "ram_budget_bytes", "max_chunk_bytes",
                                          "rows_per_chunk",   "use_memmap",         "memmap_dir",       "use_gpu",
                                          "gpu_budget_bytes", "gpu_max_chunk_bytes", "gpu_rows_per_chunk",
                                          "gpu_concurrency",  "tiles_in_flight",    "reasons"};
  std::set<std::string> got;
  for (const auto& [k, v] : j.items()) got.insert(k);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(j["cpu_workers"].get<int>(), 14);
  EXPECT_TRUE(j["reasons"].is_array());
}

TEST(ParallelPlan, KindsHaveNamesAndRoundTrip) {
  ASSERT_EQ(all_plan_kinds().size(), 6u);
  for (PlanKind k : all_plan_kinds()) EXPECT_EQ(plan_kind_from_string(to_string(k)), k);
  EXPECT_FALSE(plan_kind_from_string("global").has_value());
}

TEST(ParallelPlan, ConfigKeysSteerWorkers) {
  const Capabilities caps = test::desktop_16t_32g_8g();
  Config cfg;
  cfg.set("parallel_target_cpu_load", 0.75);
  EXPECT_EQ(make_plan(PlanKind::ingest, caps, cfg, test::seestar_job()).cpu_workers, 12);
  cfg.set("parallel_max_cpu_workers", 6);
  ParallelPlan p = make_plan(PlanKind::ingest, caps, cfg, test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 6);
  EXPECT_TRUE(has_reason(p, "parallel_max_cpu_workers"));
  Config manual;
  manual.set("num_processing_workers", 3);
  manual.set("parallel_io_workers", 7);
  p = make_plan(PlanKind::ingest, caps, manual, test::seestar_job());
  EXPECT_EQ(p.cpu_workers, 3);
  EXPECT_EQ(p.io_workers, 7);
  EXPECT_TRUE(has_reason(p, "num_processing_workers"));
  // A single core still gets one worker.
  EXPECT_EQ(make_plan(PlanKind::ingest, test::machine(1, 4, 4, 0, 0, false), Config(), test::seestar_job()).cpu_workers, 1);
}

TEST(ParallelPlan, RamFractionAndMemmapDir) {
  const Capabilities caps = test::workstation_32t_128g_24g();
  Config cfg;
  cfg.set("parallel_target_ram_fraction", 0.5);
  cfg.set("memmap_dir", "/fast/scratch");
  const ParallelPlan p = make_plan(PlanKind::ingest, caps, cfg, test::seestar_job());
  EXPECT_EQ(p.ram_budget_bytes, expected_ram_budget(caps, 0.5));
  EXPECT_EQ(p.memmap_dir, "/fast/scratch");
  EXPECT_EQ(make_plan(PlanKind::ingest, caps, Config(), test::seestar_job()).memmap_dir, "/scratch");
}

TEST(ParallelPlan, Phase5TakesTheKernelsPriceWhenGiven) {
  const Capabilities caps = test::machine(2, 2, 2, 0, 0, false);  // ~1.06 GiB budget
  JobSizes job = test::seestar_job();
  const ParallelPlan by_formula = make_plan(PlanKind::phase5, caps, Config(), job);
  EXPECT_EQ(by_formula.rows_per_chunk, 3000);  // 3000 x 4000 x 28 B fits half the budget
  EXPECT_FALSE(has_reason(by_formula, "priced by the kernel"));

  // A price like reproject's coadd_item_price for this job: 76 B per output pixel of a band, 20 B per tile pixel.
  const std::uint64_t row = 4000ULL * 76;
  const std::uint64_t fixed = 1080ULL * 1920 * 20;
  job.item_price = ItemPrice{PlanKind::phase5, fixed, row, "coadd band row (test)"};
  const ParallelPlan p = make_plan(PlanKind::phase5, caps, Config(), job);
  EXPECT_TRUE(has_reason(p, "phase5 footprint: priced by the kernel: coadd band row (test)"));
  const std::uint64_t acc_cap = floor_scaled(p.ram_budget_bytes, kAccumulatorShare);
  ASSERT_GT(3000 * row, acc_cap);  // the whole band no longer fits half the budget
  EXPECT_EQ(p.rows_per_chunk, static_cast<int>(acc_cap / row));
  EXPECT_TRUE(p.use_memmap);
  const std::uint64_t rest = p.ram_budget_bytes - static_cast<std::uint64_t>(p.rows_per_chunk) * row;
  EXPECT_EQ(p.tiles_in_flight, static_cast<int>(std::min<std::uint64_t>(2, rest / fixed)));

  // The price names its kind: the other kinds' plans are the formula's.
  for (PlanKind k : {PlanKind::phase45, PlanKind::mosaic_first, PlanKind::sds_megatiles}) {
    const ParallelPlan other = make_plan(k, caps, Config(), job);
    EXPECT_EQ(other.reasons, make_plan(k, caps, Config(), test::seestar_job()).reasons) << to_string(k);
  }
  const nlohmann::json j = to_json(job);
  EXPECT_EQ(j.at("item_price").at("row_bytes"), row);
  EXPECT_EQ(j.at("item_price").at("kind"), "phase5");
  EXPECT_FALSE(to_json(test::seestar_job()).contains("item_price"));
}

TEST(ParallelPlan, GpuOnlyWhenPresentWantedAndCompiled) {
  Capabilities caps = test::desktop_16t_32g_8g();
  Config off;
  off.set("use_gpu", "off");
  ParallelPlan p = make_plan(PlanKind::phase5, caps, off, test::seestar_job());
  EXPECT_FALSE(p.use_gpu);
  EXPECT_TRUE(has_reason(p, "use_gpu=off"));

  caps.cuda_built = false;  // an assumed GPU cannot be used by a binary without CUDA
  p = make_plan(PlanKind::phase5, caps, Config(), test::seestar_job());
  EXPECT_FALSE(p.use_gpu);
  EXPECT_TRUE(has_reason(p, "built without CUDA"));

  Capabilities no_gpu = test::machine(16, 32, 32, 0, 0, true);
  Config on;
  on.set("use_gpu", "on");
  p = make_plan(PlanKind::phase5, no_gpu, on, test::seestar_job());
  EXPECT_FALSE(p.use_gpu);
  EXPECT_TRUE(has_reason(p, "use_gpu=on but no GPU (CUDA runtime reports no device)"));

  Capabilities tiny = test::machine(16, 32, 32, 0.75, 0.75, true);  // 0.75 x 0.648 - 0.5 GiB < 256 MiB
  p = make_plan(PlanKind::phase5, tiny, Config(), test::seestar_job());
  EXPECT_FALSE(p.use_gpu);
  EXPECT_TRUE(has_reason(p, "below the"));
}

TEST(ParallelPlan, GpuDisabledForAKindWhoseMinimumChunkDoesNotFit) {
  Capabilities caps = test::machine(16, 32, 32, 2, 2, true);  // 2 x 0.648 - 0.5 = 0.796 GiB of VRAM
  JobSizes job = test::seestar_job();
  job.max_frames_per_group = 5000;  // 16 rows of a 5000-frame stack need ~3.7 GiB
  const ParallelPlan p = make_plan(PlanKind::master_tiles, caps, Config(), job);
  EXPECT_FALSE(p.use_gpu);
  EXPECT_TRUE(has_reason(p, "use_gpu false for master_tiles"));
  EXPECT_TRUE(make_plan(PlanKind::phase5, caps, Config(), job).use_gpu);
}

TEST(ParallelPlan, HugeGroupsAreChunkedNeverTruncated) {
  const Capabilities caps = test::laptop_2c_8g();
  JobSizes job = test::seestar_job();
  job.frames_total = 100000;
  job.max_frames_per_group = 100000;  // one stack row: 100000 x 1080 x 3 x 4 x 3 B = 3.6 GiB
  job.groups = 1;
  const ParallelPlan p = make_plan(PlanKind::master_tiles, caps, Config(), job);
  EXPECT_EQ(p.tiles_in_flight, 1);
  EXPECT_EQ(p.rows_per_chunk, kMinRowsPerChunk);
  EXPECT_TRUE(p.use_memmap);
  EXPECT_TRUE(has_reason(p, "runs alone"));
  EXPECT_TRUE(has_reason(p, "WARNING: use_memmap needs"));  // more spill than the 500 GiB scratch
}

TEST(ParallelPlan, ConcurrencyOnlyDropsWhenMemoryForbids) {
  // 64 cores, 16 GiB: 16 rows of a 256-frame stack + tile = ~190 MB, so ~75 fit; tiles are bounded by workers.
  ParallelPlan p = make_plan(PlanKind::master_tiles, test::machine(64, 16, 16, 0, 0, false), Config(), test::seestar_job());
  EXPECT_EQ(p.tiles_in_flight, 40);  // all 40 groups at once (58 workers)
  // With 2 GiB only ~5 fit at the minimum band: the plan says so instead of collapsing to 1.
  p = make_plan(PlanKind::master_tiles, test::machine(64, 2, 2, 0, 0, false), Config(), test::seestar_job());
  const std::uint64_t need = kTileFixed + kMinRowsPerChunk * kStackRow;
  EXPECT_EQ(p.tiles_in_flight, static_cast<int>(p.ram_budget_bytes / need));
  EXPECT_GT(p.tiles_in_flight, 1);
  EXPECT_GE(p.rows_per_chunk, kMinRowsPerChunk);
}

TEST(ParallelPlan, FewItemsKeepAllWorkersForRowBands) {
  JobSizes job = test::seestar_job();
  job.groups = 3;
  const ParallelPlan p = make_plan(PlanKind::master_tiles, test::desktop_16t_32g_8g(), Config(), job);
  EXPECT_EQ(p.cpu_workers, 14);
  EXPECT_EQ(p.tiles_in_flight, 3);
  EXPECT_TRUE(has_reason(p, "3 groups for 14 workers"));
}

TEST(ParallelPlan, SharedOutputIsMemoryMappedWhenTooLarge) {
  JobSizes job = test::seestar_job();
  job.output_width = 60000;
  job.output_height = 40000;  // 60000 x 28 B x 40000 = 67 GB of accumulators
  const Capabilities caps = test::desktop_16t_32g_8g();
  const ParallelPlan p = make_plan(PlanKind::mosaic_first, caps, Config(), job);
  EXPECT_TRUE(p.use_memmap);
  const std::uint64_t acc_row = 60000ULL * (3 * kSumBytes + kWeightBytes);
  EXPECT_EQ(p.rows_per_chunk, static_cast<int>(floor_scaled(p.ram_budget_bytes, kAccumulatorShare) / acc_row));
  EXPECT_LE(static_cast<std::uint64_t>(p.rows_per_chunk) * acc_row +
                p.max_chunk_bytes * static_cast<std::uint64_t>(p.tiles_in_flight),
            p.ram_budget_bytes);
  EXPECT_EQ(p.tiles_in_flight, 14);
}

TEST(ParallelPlan, IngestAndOtherKindsUseTheirOwnRowBytes) {
  const Capabilities caps = test::desktop_16t_32g_8g();
  const JobSizes job = test::seestar_job();
  const ParallelPlan ingest = make_plan(PlanKind::ingest, caps, Config(), job);
  EXPECT_EQ(ingest.rows_per_chunk, 1920);  // a whole frame fits each worker's share
  EXPECT_FALSE(ingest.use_memmap);
  EXPECT_EQ(ingest.tiles_in_flight, 14);
  const ParallelPlan p45 = make_plan(PlanKind::phase45, caps, Config(), job);
  EXPECT_EQ(p45.rows_per_chunk, 1920);
  const ParallelPlan p5 = make_plan(PlanKind::phase5, caps, Config(), job);
  EXPECT_EQ(p5.rows_per_chunk, 3000);
  EXPECT_EQ(p5.tiles_in_flight, 14);
  EXPECT_GE(p5.max_chunk_bytes, kTileReproject);
  (void)kAccRow;
  const ParallelPlan sds = make_plan(PlanKind::sds_megatiles, caps, Config(), job);
  EXPECT_EQ(sds.tiles_in_flight, 14);  // 72 mega-tiles of 336 MB + one frame each
  EXPECT_EQ(sds.rows_per_chunk, 3000);
}

TEST(ParallelPlan, UnknownSizesGiveAPlanWithStatedAssumptions) {
  JobSizes job;
  job.frames_total = 500;
  const Capabilities caps = test::desktop_16t_32g_8g();
  const ParallelPlan ingest = make_plan(PlanKind::ingest, caps, Config(), job);
  EXPECT_EQ(ingest.rows_per_chunk, 0);
  EXPECT_EQ(ingest.tiles_in_flight, 14);
  EXPECT_TRUE(has_reason(ingest, "sizes unknown"));
  const ParallelPlan mt = make_plan(PlanKind::master_tiles, caps, Config(), job);
  EXPECT_TRUE(has_reason(mt, "assumed one group of all frames"));
  const ParallelPlan sds = make_plan(PlanKind::sds_megatiles, caps, Config(), job);
  EXPECT_TRUE(has_reason(sds, "mega-tiles unknown: 50"));
}

TEST(ParallelPlan, UnknownRamUsesTheStatedFallback) {
  Capabilities caps = test::laptop_2c_8g();
  caps.ram_total_bytes = caps.ram_available_bytes = 0;
  const ParallelPlan p = make_plan(PlanKind::ingest, caps, Config(), test::seestar_job());
  EXPECT_TRUE(has_reason(p, "RAM size unknown"));
  EXPECT_EQ(p.ram_budget_bytes, floor_scaled(kUnknownRamBytes, 0.82 * kRamSafety) - kRamReserveBytes);
  caps.ram_total_bytes = caps.ram_available_bytes = 512 * kMiB;
  EXPECT_EQ(make_plan(PlanKind::ingest, caps, Config(), test::seestar_job()).ram_budget_bytes, kRamBudgetFloorBytes);
}

}  // namespace
}  // namespace zm
