#include "plan/plan_settings.hpp"

namespace zm {

PlanSettings plan_settings_from(OptionReader& r) {
  auto scope = r.builder("parallel_plan");
  PlanSettings s;
  s.num_processing_workers = r.small_int("num_processing_workers");
  s.target_cpu_load = r.number("parallel_target_cpu_load");
  s.max_cpu_workers = r.small_int("parallel_max_cpu_workers");
  s.target_ram_fraction = r.number("parallel_target_ram_fraction");
  s.gpu_vram_fraction = r.number("parallel_gpu_vram_fraction");
  s.use_gpu = r.text("use_gpu");
  s.io_workers = r.small_int("parallel_io_workers");
  s.memmap_dir = r.text("memmap_dir");
  return s;
}

MachineAssumptions machine_assumptions_from(OptionReader& r) {
  auto scope = r.builder("machine_assumptions");
  MachineAssumptions a;
  a.cores = r.small_int("assume_cores");
  a.ram_gb = r.number("assume_ram_gb");
  a.vram_gb = r.number("assume_vram_gb");
  a.disk_gb = r.number("assume_disk_gb");
  return a;
}

PlanSettings plan_settings(const Config& config) {
  OptionReader r(config);
  return plan_settings_from(r);
}

MachineAssumptions machine_assumptions(const Config& config) {
  OptionReader r(config);
  return machine_assumptions_from(r);
}

}  // namespace zm
