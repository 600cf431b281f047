// What Phase 1 hands to every route: the usable frames, and the inputs set aside with their reasons.
#pragma once

#include <string>
#include <vector>

#include "pipeline/model/frame_record.hpp"

namespace zm {

// An input that did not make it into the run, with the reason (also emitted as a WARN event).
struct SetAsideInput {
  std::string path;
  std::string kind;    // InputErrorKind as text (no_wcs, bad_wcs, truncated, not_fits, ...)
  std::string reason;
};

struct IngestResult {
  std::vector<FrameRecord> frames;     // usable frames, in input order
  std::vector<SetAsideInput> set_aside;
  int inputs_found = 0;
  int reused_from_cache = 0;
  std::string key;                     // resume key of the frames' pixels: Phase 1 settings (later phases chain it)
};

}  // namespace zm
