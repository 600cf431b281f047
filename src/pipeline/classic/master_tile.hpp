// Building one master tile: registration of a group onto its reference frame, then a streamed rejection stack.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "events/event_stream.hpp"
#include "pipeline/model/frame_record.hpp"
#include "pipeline/classic/registration.hpp"
#include "pipeline/classic/tile_geometry.hpp"
#include "reproject/kernels.hpp"
#include "stack/background_model.hpp"
#include "stack/normalize.hpp"
#include "stack/rejection.hpp"
#include "stack/weights.hpp"
#include "stack/combine_band.hpp"

namespace zm {

struct MasterTileOptions {
  NormMethod norm = NormMethod::LinearFit;
  WeightMethod weight = WeightMethod::NoiseVariance;
  RejectParams reject;
  Kernel kernel = Kernel::Lanczos3;
  int rows_per_chunk = 256;  // band height; the output does not depend on it
  // linear_fit with each member's gain from the flux ratios of the stars it shares with the reference (its offset
  // still from the low percentile): the percentile spread of a single frame is mostly noise, and scales a frame
  // dimmed to transparency T by ~sqrt(1/T) rather than 1/T.
  bool star_gains = false;
  bool flatten_background = false;  // divide out vignetting, subtract the sky plane (stack/background_model.hpp)
};

struct MasterTileResult {
  std::string path;
  int frames = 0;
  int reference = -1;                  // record index of the reference frame
  std::vector<FrameRegistration> registrations;  // per member, in member order
  RejectStats stats;
  std::vector<BackgroundModel> background;  // per channel (identity when flattening is off or found nothing)
  double seconds = 0.0;
};

// Bytes held while stacking `frames` frames of W x C with bands of `rows` rows (what admission control needs).
std::uint64_t master_tile_footprint(int frames, int tile_width, int tile_height, int frame_width, int frame_height,
                                    int channels, int rows);

// The group's tile on its reference frame's grid: the union of the members' footprints (tile_geometry.hpp).
TileGeometry group_tile_geometry(const std::vector<int>& members, const std::vector<FrameRecord>& records);

// The member closest to the group's mean direction.
int choose_reference(const std::vector<FrameRecord>& records, const std::vector<int>& members);

// Writes <tiles_dir>/master_tile_<id>.fits atomically, on the group's tile geometry: the reference frame's
// projection and scale, extended to every member's footprint (CRPIX shifted, ZMT_X0/ZMT_Y0 give the origin).
// Frames that fail registration are kept with the WCS mapping and reported (FRAME_NOT_REGISTERED); none is dropped
// silently.
MasterTileResult build_master_tile(int tile_id, const std::vector<int>& members, const std::vector<FrameRecord>& records,
                                   const std::filesystem::path& frames_dir, const std::filesystem::path& tiles_dir,
                                   const MasterTileOptions& options, EventStream& events);

}  // namespace zm
