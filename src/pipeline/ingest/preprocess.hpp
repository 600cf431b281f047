// Phase 1 work on one frame: read, validate, hot pixels, debayer, statistics, cache (no events, no scheduling).
#pragma once

#include <filesystem>

#include "image/debayer.hpp"
#include "image/hotpixel.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "solve/solve_hint.hpp"
#include "stars/star.hpp"
#include "wcs/validate.hpp"

namespace zm {

struct PreprocessOptions {
  DebayerMethod debayer = DebayerMethod::Bilinear;
  bool hot_pixels = true;
  HotPixelParams hot;
  WcsBounds wcs_bounds;
  FitsReadLimits limits;
  // WCS acquisition (issue 7): a frame without a usable header WCS is not refused when this is set; its WCS is
  // looked up in sidecars, then in the solution cache, else it comes back pending with its stars detected.
  bool acquire_missing_wcs = false;
  std::filesystem::path wcs_sidecar_dir;  // besides the input's own folder
  std::filesystem::path wcs_cache_dir;    // solutions of earlier runs, <content hash>.wcs
};

// What WCS acquisition needs of a frame whose WCS must be solved.
struct PendingWcs {
  SolveHint hint;
  std::vector<Star> stars;    // full-resolution 0-based positions, brightest first
  std::string content_hash;   // key of the solution cache
  std::string header_problem; // why the header WCS was not used
};

// <wcs_cache_dir>/<hash>.wcs
std::filesystem::path wcs_cache_file(const std::filesystem::path& wcs_cache_dir, const std::string& content_hash);

// Bytes one preprocess_frame call holds at its peak for a W x H frame (raw plane + RGB + scratch): the scheduler's
// admission footprint.
std::uint64_t preprocess_footprint_bytes(int width, int height);

// Reads, validates, corrects and caches one input frame under cache_dir. Throws InputError naming the file: its
// kind is NoWcs/BadWcs when the pixels are fine but the WCS is missing or invalid (the frame is set aside, not lost),
// AllNan for a frame without data, the reader's kinds for unreadable files.
FrameRecord preprocess_frame(const InputFile& input, int index, const PreprocessOptions& options,
                             const std::filesystem::path& cache_dir);
// The same, with WCS acquisition when options.acquire_missing_wcs: `pending` is set when the frame still needs
// solving (its record then has wcs_provenance "pending" and no WCS yet).
FrameRecord preprocess_frame(const InputFile& input, int index, const PreprocessOptions& options,
                             const std::filesystem::path& cache_dir, std::optional<PendingWcs>& pending);

// Stars for solving, found cheaply and the same way for every frame: the 2x2-binned luminance of a raw Bayer
// frame (`cfa`), else the mean of the channels. Full-resolution 0-based positions, brightest first.
std::vector<Star> solve_stars(const ImageF& image, const FitsImageInfo& info, bool cfa);
// The same from the input file (read-only), for frames whose own WCS makes them propagation references.
std::vector<Star> solve_stars_from_input(const std::string& path, const FitsReadLimits& limits);

// Fills the record's WCS summary from validated WCS cards (any accepted form), with `provenance`. Throws InputError.
void describe_wcs_cards(const FitsHeader& cards, const std::string& provenance, FrameRecord& record);

// Header-only part: the validated WCS summary (centre, scale, PA, cards) filled into `record`, or InputError.
void describe_wcs(const FitsImageInfo& info, const WcsBounds& bounds, FrameRecord& record);

// Per-channel sky median and robust sigma from a regular subsample (finite pixels only).
void sky_statistics(const ImageF& image, std::array<float, 3>& median, std::array<float, 3>& sigma);

}  // namespace zm
