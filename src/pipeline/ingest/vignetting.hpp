// One vignetting profile per run, estimated across pointings from the frames' sky meshes (Phase 1), for data taken
// without flats: the optics are shared, so the profile is fixed on the sensor while the sky, the nebulae and the
// gradients move across it from one pointing to the next. Each frame's mesh gets its own fit (level, plane, radial
// term); vignetting gives every frame the same radial term, a nebula only the frames it sits on. A single master
// tile cannot tell a centred nebula from vignetting; a run spread over pointings can.
#pragma once

#include <string>
#include <vector>

#include "image/sensor_flat.hpp"
#include "pipeline/model/frame_record.hpp"

namespace zm {

struct VignettingOptions {
  int min_frames = 8;
  // Pointings must spread over at least this fraction of the frame's half-diagonal (one dithered pointing would
  // keep a centred nebula on the same sensor blocks in every frame).
  double min_spread = 0.25;
  // |q| below this (0.5 % at the corners) is left alone: invisible, and of the size a nebula's leftovers can fake.
  double min_q = 0.005;
};

struct VignettingEstimate {
  SensorFlat flat;        // q = 0 when nothing is applied
  int frames = 0;         // frames whose meshes entered
  double q = 0.0;         // the fitted radial term, also when not significant
  std::string reason;     // why nothing is applied (empty when applied)
};

// Deterministic: depends only on the records, in their order.
VignettingEstimate estimate_vignetting(const std::vector<FrameRecord>& frames, const VignettingOptions& options = {});

}  // namespace zm
