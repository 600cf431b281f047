// A cached frame as the frame coadds and the frame photometry take it: its planes, WCS, photometric correction,
// weight and the run's vignetting profile.
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "image/sensor_flat.hpp"
#include "pipeline/model/frame_record.hpp"
#include "wcs/wcs.hpp"

namespace zm {

// sample' = gain * sample + offset per channel; weight per channel.
struct CoaddFrame {
  std::filesystem::path path;
  int width = 0;
  int height = 0;
  int channels = 0;
  Wcs wcs;
  std::array<float, 3> gain{1, 1, 1};
  std::array<float, 3> offset{0, 0, 0};
  std::array<float, 3> weight{1, 1, 1};
  SensorFlat flat{};  // vignetting divided out as the frame is read
};

// The coadd inputs of `members` (indices into frames; all when empty), whose planes are in `frames_dir`.
std::vector<CoaddFrame> coadd_frames(const std::filesystem::path& frames_dir, const std::vector<FrameRecord>& frames,
                                     const std::vector<int>& members = {});

// Identity of the frame set (paths, sizes, mtimes, caches, WCS, flat) for resume keys.
std::string frames_signature(const std::vector<FrameRecord>& frames);

}  // namespace zm
