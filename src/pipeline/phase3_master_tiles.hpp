// Phase 3: one master tile per group, groups in parallel as far as the master_tiles plan's memory allows.
#pragma once

#include <string>
#include <vector>

#include "pipeline/frame_record.hpp"
#include "pipeline/run_context.hpp"
#include "pipeline/stack_plan.hpp"

namespace zm {

struct MasterTileInfo {
  int id = 0;
  std::string path;
  int frames = 0;
  std::string signature;  // of the group (stack_plan.hpp group_signature): the resume key
  bool reused = false;
};

std::vector<MasterTileInfo> run_phase3(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                       const std::vector<FrameGroup>& groups);

std::vector<std::string_view> phase3_config_keys();

}  // namespace zm
