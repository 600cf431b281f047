// The Phase 2 result on disk: which frames make which master tile (CSV for people, JSON for resume).
#pragma once

#include <filesystem>
#include <vector>

#include "pipeline/model/frame_group.hpp"
#include "pipeline/model/frame_record.hpp"

namespace zm {

void write_stack_plan(const std::filesystem::path& dir, const std::vector<FrameGroup>& groups,
                      const std::vector<FrameRecord>& records);

// Signature of a group (its members' paths, sizes, mtimes): master tiles are reused only for an identical group.
std::string group_signature(const FrameGroup& group, const std::vector<FrameRecord>& records);

}  // namespace zm
