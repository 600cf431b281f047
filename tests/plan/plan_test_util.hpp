// Simulated machines and a Seestar-like job for the plan tests.
#pragma once

#include <string>

#include "plan/bytes_text.hpp"
#include "plan/capabilities.hpp"
#include "plan/parallel_plan.hpp"

namespace zm::test {

inline Capabilities machine(unsigned cores, double ram_gib, double avail_gib, double vram_gib, double vram_free_gib,
                            bool cuda_built) {
  Capabilities c;
  c.logical_cores = c.physical_cores = c.affinity_cores = c.usable_cores = cores;
  c.ram_total_bytes = gib_to_bytes(ram_gib);
  c.ram_available_bytes = gib_to_bytes(avail_gib);
  c.scratch_dir = "/scratch";
  c.disk_free_bytes = 500 * kGiB;
  c.cuda_built = cuda_built;
  if (vram_gib > 0) {
    c.gpu.present = true;
    c.gpu.name = "Simulated GPU";
    c.gpu.vram_total = gib_to_bytes(vram_gib);
    c.gpu.vram_free = gib_to_bytes(vram_free_gib);
  } else {
    c.gpu.reason = "CUDA runtime reports no device";
  }
  return c;
}

// The worked examples of the issue (ZeMosaic's table): RAM available below total where a desktop is in use.
inline Capabilities laptop_2c_8g() { return machine(2, 8, 6, 0, 0, false); }
inline Capabilities desktop_16t_32g_8g() { return machine(16, 32, 19.5, 8, 7, true); }
inline Capabilities workstation_32t_128g_24g() { return machine(32, 128, 120, 24, 23, true); }

// 720 Seestar frames (1080 x 1920 GRBG uint16), 40 groups, the largest 256 frames; a 4000 x 3000 mosaic.
inline JobSizes seestar_job() {
  JobSizes j;
  j.frame_width = 1080;
  j.frame_height = 1920;
  j.input_channels = 1;
  j.frame_channels = 3;
  j.input_bytes_per_sample = 2;
  j.bytes_per_sample = 4;
  j.frames_total = 720;
  j.max_frames_per_group = 256;
  j.groups = 40;
  j.output_width = 4000;
  j.output_height = 3000;
  j.output_channels = 3;
  j.megatiles = 72;
  return j;
}

inline bool has_reason(const ParallelPlan& p, const std::string& needle) {
  for (const auto& r : p.reasons)
    if (r.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace zm::test
