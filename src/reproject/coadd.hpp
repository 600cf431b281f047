// Phase 5 assembly: co-adds master tiles onto the final mosaic grid (weighted mean with feathered weights), either
// by output row bands in RAM (ReprojectCoadd) or tile by tile into disk-backed accumulators (Incremental).
//
// Algorithm (both methods):
//   mosaic(p, c) = sum_t W_t(p) * (g_tc * x_t(p, c) + o_tc) / sum_t W_t(p)
//   W_t(p) = weight_t * bilinear sample of feather_weights(ALPHA_t) at the tile pixel that output p maps to.
// x_t is the tile sampled with options.kernel through a pixel map (adaptive grid chosen once per tile over its
// output bounding box, so banding never changes a map entry). Tile data where ALPHA == 0 is treated as NaN, so
// kernels never smear the no-data fill into valid pixels (the footprint shrinks by the kernel half-width
// instead). The weight plane is sampled bilinearly (never negative, unlike Lanczos ringing on the weight's edge
// step). A tile contributes to p only where every channel's sample is finite and W_t(p) > 0; there it also adds
// its COVERAGE value (nearest sample) or 1 to the coverage output.
//
// Determinism: every pixel's sums start at 0.0 and receive their contributions in tile order, in double, through
// the same code in both methods; the division and the float conversion are the same too. Outputs are therefore
// bit-identical across methods, worker counts, band_rows and memory budgets (tests prove it).
//
// Memory (what coadd_footprint prices, per unit in flight):
//   tile preparation: 17 B per tile pixel (alpha, squared EDT in double, weight, coverage);
//   tile rows for one rect: (C + 2) * 4 B per tile pixel, bounded by the whole tile;
//   ReprojectCoadd band: band_rows * out_width * ((C + 2) * 8 accumulators + 16 pixel map + (C + 2) * 4 output);
//   Incremental chunk: band_rows * min(out_width, tile_w + tile_h) * 16 (pixel map) plus a normalisation chunk of
//   at most 2^18 output pixels * (C + 2) * 12 B; the (C + 2) * 8 B per output pixel accumulators are a file in
//   scratch_dir mapped into memory (page cache, not process memory).
// ReprojectCoadd keeps floor(budget / footprint) bands in flight (1..workers) and lowers band_rows when even one
// band does not fit; stats.peak_bytes_estimate is what it planned.
//
// GPU (options.use_gpu, either method; coadd_gpu.hpp): output bands whose accumulators live in device memory,
// sized so that they and every tile a band touches fit gpu_budget_bytes; each tile uploaded once; maps
// interpolated on the device from the host's exact node grids; resampling, accumulation and normalisation with the
// CPU's arithmetic (gpu/coadd_device.hpp), so the outputs are the CPU's bits. A device error redoes the whole
// output with the CPU method.
//
// Outputs: raw float32 native-endian planar files (image C x H x W, weight H x W, coverage H x W), each written
// to a temp file beside the final path and renamed when complete. On cancel nothing is renamed.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "reproject/kernels.hpp"
#include "wcs/wcs.hpp"

namespace zm {

class CancelToken;  // sched/cancel_token.hpp (link zm_sched)

// One input of the coadd: a master tile FITS (float32 C x H x W primary, ALPHA u8 extension 0 = no data,
// optional COVERAGE float32 extension = frames per pixel) with its photometric correction.
struct CoaddInput {
  std::filesystem::path path;
  Wcs wcs;
  int width = 0, height = 0, channels = 3;
  std::array<float, 3> gain{1, 1, 1};    // applied as gain * x + offset before weighting
  std::array<float, 3> offset{0, 0, 0};
  double weight = 1.0;                   // tile weight, multiplies the feathered alpha
};

enum class CoaddMethod { ReprojectCoadd, Incremental };

struct CoaddOptions {
  CoaddMethod method = CoaddMethod::ReprojectCoadd;
  Kernel kernel = Kernel::Lanczos3;
  int band_rows = 256;                 // output rows per band (the plan sizes it)
  double feather_px = 128.0;           // distance over which a tile's weight ramps up from its edge
  double alpha_weight_floor = 0.02;    // phase5_alpha_weight_floor
  int workers = 1;                     // threads (sched's scheduler and WorkerArena); output must not depend on it
  std::uint64_t memory_budget_bytes = 0;  // 0 = no limit; bands/tiles in flight sized to fit
  std::filesystem::path scratch_dir;   // incremental accumulators live here (and per-tile weight planes for both
                                       // methods); empty = the image output's folder
  double map_tolerance_px = 0.01;      // pixel-map interpolation error bound
  bool use_gpu = false;                // resample and accumulate on the GPU (bit-identical outputs; a device
                                       // error redoes the output on the CPU)
  std::uint64_t gpu_budget_bytes = 0;  // VRAM the coadd may hold (0 = no limit)
  int gpu_fail_after_adds = -1;        // tests: a device error after this many tile additions (-1 = never)
  const CancelToken* cancel = nullptr; // checked between bands/tiles; on cancel returns early, stats.cancelled
  std::function<void(long long done, long long total)> progress;  // called from one thread, monotonic
};

// Raw float32 native-endian planar outputs (readable by row range like the frame cache): image C x H x W
// (weighted mean, NaN where no tile contributes), weight H x W (sum of weights), coverage H x W (sum of the
// tiles' COVERAGE values, i.e. frames per pixel; 1 per tile when a tile has no COVERAGE extension).
struct CoaddOutputs {
  std::filesystem::path image, weight, coverage;
};

struct CoaddStats {
  long long covered_pixels = 0;
  int bands = 0;
  int tiles_used = 0;
  double seconds = 0;
  bool cancelled = false;
  std::uint64_t peak_bytes_estimate = 0;
  long long gpu_units = 0;       // output bands finished on the GPU
  long long cpu_fallbacks = 0;   // 1 when a device error sent the whole output back to the CPU
  std::string gpu_note;          // why the GPU was not used, or the device error behind a fallback
  double prepare_seconds = 0;    // weight planes, boxes and map grids (both paths)
  double gpu_load_seconds = 0;   // GPU path: reading tiles and uploading them
  double gpu_add_seconds = 0;    // GPU path: node grids and the resample/accumulate kernels
  double gpu_finish_seconds = 0; // GPU path: normalising, downloading and writing rows
};

// Throws InputError for an unreadable tile (or one whose size/channels disagree with its CoaddInput),
// std::invalid_argument for bad arguments (channels outside 1..3, empty grid), InputError(Io) on write failures.
// Tiles with weight <= 0 or no overlap with the grid are skipped (not counted in tiles_used).
CoaddStats coadd_tiles(const std::vector<CoaddInput>& tiles, const Wcs& out_wcs, int out_width, int out_height,
                       int channels, const CoaddOptions& options, const CoaddOutputs& outputs);

// The coadd's own price of one unit of work (a ReprojectCoadd band, an Incremental chunk) for the planner
// (JobSizes::item_price): `fixed_bytes` (one tile's rows) plus `row_bytes` per output row of the unit (ReprojectCoadd:
// accumulators, pixel map and output floats of a full-width row; Incremental: the pixel map of a chunk row), and
// `floor_bytes` held by the steps that do not scale with rows (one tile's preparation; Incremental: also a
// normalisation step). Tiles of at most tile_width x tile_height; the kernel does not change it (a tile's rows are
// bounded by the whole tile). See the file comment for the terms.
struct CoaddItemPrice {
  std::uint64_t fixed_bytes = 0;
  std::uint64_t row_bytes = 0;
  std::uint64_t floor_bytes = 0;
  std::string formula;  // the terms with their sizes, for the plan's reasons
  // max(floor_bytes, fixed_bytes + max(1, rows) * row_bytes): one unit of `rows` output rows in flight.
  std::uint64_t bytes(int rows) const;
};
CoaddItemPrice coadd_item_price(CoaddMethod method, int out_width, int channels, int tile_width, int tile_height);

// Bytes the method holds at once for these sizes (what the planner and the memory test check against): one band
// (ReprojectCoadd) or one chunk (Incremental) in flight, tile preparation included, i.e.
// coadd_item_price(method, out_width, channels, tile_width, tile_height).bytes(band_rows).
std::uint64_t coadd_footprint(CoaddMethod method, int out_width, int band_rows, int channels, int tile_width,
                              int tile_height);

// Largest band_rows (>= 1) whose ReprojectCoadd footprint fits `budget` (band_rows itself when it fits or
// budget == 0).
int coadd_band_rows_for_budget(int out_width, int band_rows, int channels, int tile_width, int tile_height,
                               std::uint64_t budget);

}  // namespace zm
