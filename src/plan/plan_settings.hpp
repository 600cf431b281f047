// The settings the parallel plan takes from the configuration: worker counts, memory fractions, GPU use, and the
// machine the user asks to plan for (assume_*).
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/option_reader.hpp"

namespace zm {

struct PlanSettings {
  int num_processing_workers = -1;   // > 0: exactly this many workers
  double target_cpu_load = 0.9;      // fraction of usable cores otherwise
  int max_cpu_workers = 0;           // cap (0 = none)
  double target_ram_fraction = 0.82;
  double gpu_vram_fraction = 0.72;
  std::string use_gpu = "auto";      // auto | on | off
  int io_workers = 0;                // 0 = min(cpu_workers, kMaxIoWorkers)
  std::string memmap_dir;            // empty = the scratch folder
};

// Plan as if the machine were this one (0 / -1 = probe); see apply_assumptions.
struct MachineAssumptions {
  int cores = 0;
  double ram_gb = 0.0;
  double vram_gb = -1.0;  // -1 = probe, 0 = no GPU
  double disk_gb = 0.0;
};

// Options builders (the only readers of their keys).
PlanSettings plan_settings_from(OptionReader& reader);
MachineAssumptions machine_assumptions_from(OptionReader& reader);

// The same through a private reader (tools and tests that have a Config at hand).
PlanSettings plan_settings(const Config& config);
MachineAssumptions machine_assumptions(const Config& config);

}  // namespace zm
