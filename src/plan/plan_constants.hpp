// The constants of the parallel plan's heuristics, each with the reason for its value.
#pragma once

#include <cstdint>

#include "plan/bytes_text.hpp"

namespace zm::plan_constants {

// ---- RAM ----
// Extra factor on top of parallel_target_ram_fraction (ZeMosaic applies the same 0.95): the fraction is what the
// user grants, this keeps a margin for allocator fragmentation and buffers we do not count.
inline constexpr double kRamSafety = 0.95;
// Never plan on all of the currently available RAM: other processes allocate while we run.
inline constexpr double kAvailableFraction = 0.98;
// Fixed reserve subtracted from the RAM budget for what no work item declares: the binary, WCS and frame
// lists, cfitsio buffers (~115 KB per open file), event and log buffers, thread stacks.
inline constexpr std::uint64_t kRamReserveBytes = 512 * kMiB;
// The budget never drops below this: a phase needs a few row bands to make any progress.
inline constexpr std::uint64_t kRamBudgetFloorBytes = 256 * kMiB;
// RAM assumed when neither total nor available memory could be read (ZeMosaic's fallback too).
inline constexpr std::uint64_t kUnknownRamBytes = 8 * kGiB;

// ---- VRAM ----
// Extra factor on parallel_gpu_vram_fraction, as for RAM: kernels' temporaries and library workspaces.
inline constexpr double kVramSafety = 0.90;
// Never plan on all of the VRAM that is free now (a display or another process may use the device).
inline constexpr double kVramFreeFraction = 0.98;
// The CUDA context and module images live in VRAM but are not in any job's footprint.
inline constexpr std::uint64_t kVramReserveBytes = 512 * kMiB;
// Below this a GPU job would move only a few rows per transfer; the CPU is then the better choice.
inline constexpr std::uint64_t kGpuMinBudgetBytes = 256 * kMiB;

// ---- chunks and workers ----
// Smallest row band worth processing: below it per-band overheads (one read per frame per band, kernel
// launches) dominate. Items shrink their bands to this before concurrency is reduced.
inline constexpr int kMinRowsPerChunk = 16;
// Concurrent file readers/writers when parallel_io_workers is 0: more rarely speeds up one disk and makes
// SMR/HDD seeks worse; decoding (BZERO, float conversion) happens in the CPU workers.
inline constexpr int kMaxIoWorkers = 4;
// ingest: a frame's row is held as raw samples, as float CFA values and as kDebayerCopies float RGB rows
// (debayer output and the hot-pixel/cache-write scratch).
inline constexpr int kDebayerCopies = 2;
// master_tiles: per frame of the group and per pixel of a row band the stacker holds the source samples, the
// aligned value and a rejection/sort scratch value.
inline constexpr int kStackCopies = 3;
// Reprojection holds an input image as float, its reprojected values and the coordinate map + weights
// (about one more copy), i.e. three copies of the input.
inline constexpr int kReprojectCopies = 3;
// Mosaic accumulators: sums in double (thousands of additions must not lose precision) and one float weight
// per pixel shared by the channels.
inline constexpr int kSumBytes = 8;
inline constexpr int kWeightBytes = 4;
// Kinds whose items all add into one output (mosaic_first, phase5) give at most this share of the budget to the
// output accumulator; beyond it the accumulator is memory-mapped and processed by row bands.
inline constexpr double kAccumulatorShare = 0.5;
// SDS mega-tiles hold about this many frames when their number is unknown (ZeMosaic's sds_target_batch_size).
inline constexpr int kSdsFramesPerBatch = 10;

}  // namespace zm::plan_constants
