// Phase 1 work on one frame: read, validate, hot pixels, debayer, statistics, cache (no events, no scheduling).
#pragma once

#include <filesystem>

#include "image/debayer.hpp"
#include "image/hotpixel.hpp"
#include "io/fits_reader.hpp"
#include "pipeline/frame_record.hpp"
#include "pipeline/input_scan.hpp"
#include "wcs/validate.hpp"

namespace zm {

struct PreprocessOptions {
  DebayerMethod debayer = DebayerMethod::Bilinear;
  bool hot_pixels = true;
  HotPixelParams hot;
  WcsBounds wcs_bounds;
  FitsReadLimits limits;
};

// Bytes one preprocess_frame call holds at its peak for a W x H frame (raw plane + RGB + scratch): the scheduler's
// admission footprint.
std::uint64_t preprocess_footprint_bytes(int width, int height);

// Reads, validates, corrects and caches one input frame under cache_dir. Throws InputError naming the file: its
// kind is NoWcs/BadWcs when the pixels are fine but the WCS is missing or invalid (the frame is set aside, not lost),
// AllNan for a frame without data, the reader's kinds for unreadable files.
FrameRecord preprocess_frame(const InputFile& input, int index, const PreprocessOptions& options,
                             const std::filesystem::path& cache_dir);

// Header-only part: the validated WCS summary (centre, scale, PA, cards) filled into `record`, or InputError.
void describe_wcs(const FitsImageInfo& info, const WcsBounds& bounds, FrameRecord& record);

// Per-channel sky median and robust sigma from a regular subsample (finite pixels only).
void sky_statistics(const ImageF& image, std::array<float, 3>& median, std::array<float, 3>& sigma);

}  // namespace zm
