// What this machine (or the machine we are told to assume) offers a run: cores, RAM, scratch disk, GPU.
//
// Every probed value comes from text the kernel exposes (/proc/cpuinfo, /proc/meminfo, cgroup v1/v2 files) or
// from a system call (sched_getaffinity, statvfs) and the CUDA runtime. The text parsers are separate pure
// functions and a whole machine can be described as a SystemSnapshot, so tests simulate machines and containers
// without touching the real /proc. Config keys assume_cores / assume_ram_gb / assume_vram_gb / assume_disk_gb
// replace probed values (apply_assumptions) so a plan can be made for another machine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "plan/plan_settings.hpp"
#include "gpu/device_probe.hpp"

namespace zm {

struct Capabilities {
  unsigned logical_cores = 0;    // hardware threads the OS lists
  unsigned physical_cores = 0;   // distinct (package, core) pairs; informative, the plan uses usable_cores
  unsigned affinity_cores = 0;   // CPUs this process may run on (sched_getaffinity); 0 = unknown
  double cgroup_cpu_limit = 0.0; // CPUs granted by a cgroup quota (cpu.max / cfs_quota_us); 0 = no quota
  unsigned usable_cores = 1;     // min(logical, affinity, ceil(cgroup quota)), at least 1

  std::uint64_t ram_total_bytes = 0;      // min(physical RAM, cgroup memory limit)
  std::uint64_t ram_available_bytes = 0;  // min(MemAvailable, cgroup limit - cgroup working set)
  std::uint64_t cgroup_memory_limit_bytes = 0;  // 0 = no limit

  std::string scratch_dir;             // where memmap / spill files go (free space probed there)
  std::uint64_t disk_free_bytes = 0;   // statvfs f_bavail * f_frsize; 0 = unknown

  GpuInfo gpu;                 // device 0 as the CUDA runtime sees it
  bool cuda_built = false;     // the binary has the CUDA backend; without it the plan never uses a GPU

  std::vector<std::string> notes;  // where values came from and which were assumed
};

// ---- pure parsers (tests feed them fake file contents) ----

struct CpuCounts {
  unsigned logical = 0;
  unsigned physical = 0;  // 0 when the text has no topology (e.g. some ARM kernels)
};
// Counts "processor" entries; physical = distinct ("physical id", "core id") pairs when present.
CpuCounts parse_cpuinfo(std::string_view cpuinfo);

struct MemInfo {
  std::uint64_t total = 0;
  std::uint64_t available = 0;  // MemAvailable, else MemFree + Buffers + Cached (kernels before 3.14)
};
MemInfo parse_meminfo(std::string_view meminfo);

// cgroup v2 cpu.max: "QUOTA PERIOD" -> QUOTA/PERIOD CPUs; "max ..." -> no limit.
std::optional<double> parse_cgroup2_cpu_max(std::string_view cpu_max);
// cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us; a quota of -1 means no limit.
std::optional<double> parse_cgroup1_cpu_quota(std::string_view quota_us, std::string_view period_us);
// memory.max (v2) or memory.limit_in_bytes (v1): "max" or v1's "unlimited" huge page-rounded value -> no limit.
std::optional<std::uint64_t> parse_cgroup_memory_limit(std::string_view text);
// One value of a "key value" file such as memory.stat ("inactive_file 1234").
std::optional<std::uint64_t> parse_keyed_value(std::string_view text, std::string_view key);

// The cgroup folders of this process for one controller, leaf first, up to the mount root. `controller` is ""
// for the v2 unified hierarchy, else a v1 controller name ("cpu", "memory"). Inputs are /proc/self/cgroup and
// /proc/self/mountinfo. Empty when the controller is not mounted.
std::vector<std::filesystem::path> cgroup_dirs(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                               std::string_view controller);

// ---- a machine as the probe sees it ----

// The raw inputs of the probe. Every cgroup vector is ordered leaf first: a limit anywhere up the hierarchy
// applies, so the smallest one wins.
struct SystemSnapshot {
  std::string cpuinfo;
  std::string meminfo;
  unsigned sysfs_physical_cores = 0;  // distinct core ids under /sys/devices/system/cpu (0 = unknown)
  unsigned affinity_cpus = 0;         // 0 = unknown
  std::vector<std::string> cgroup2_cpu_max;                            // cpu.max contents
  std::vector<std::pair<std::string, std::string>> cgroup1_cpu_quota;  // (cfs_quota_us, cfs_period_us)
  std::vector<std::string> cgroup_memory_max;  // memory.max (v2) or memory.limit_in_bytes (v1)
  std::string cgroup_memory_usage;             // leaf memory.current (v2) / memory.usage_in_bytes (v1)
  std::string cgroup_memory_stat;              // leaf memory.stat (its inactive_file is reclaimable)
  std::string scratch_dir;
  std::optional<std::uint64_t> disk_free;
  GpuInfo gpu;
  bool cuda_built = false;
};

// Reads the real /proc, cgroup and sysfs files, statvfs(scratch_dir) and the GPU probe.
SystemSnapshot read_system_snapshot(const std::filesystem::path& scratch_dir);
// Derives capabilities from a snapshot (pure).
Capabilities capabilities_from_snapshot(const SystemSnapshot& snapshot);
// MemAvailable reduced to what this process's cgroup still allows (cheap enough for telemetry).
std::uint64_t read_available_ram_bytes();
// read_system_snapshot + capabilities_from_snapshot.
Capabilities probe_capabilities(const std::filesystem::path& scratch_dir);

// Replaces probed values by the config's assume_* keys (assume_cores, assume_ram_gb, assume_vram_gb,
// assume_disk_gb); each replacement is recorded in notes. An assumed machine is idle: available RAM = total,
// free VRAM = total.
void apply_assumptions(Capabilities& caps, const MachineAssumptions& assumptions);
void apply_assumptions(Capabilities& caps, const Config& config);  // through machine_assumptions(config)

nlohmann::json to_json(const Capabilities& caps);

}  // namespace zm
