#include "plan/capabilities.hpp"
#include "plan/plan_settings.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "plan/bytes_text.hpp"

namespace zm {
namespace {

// cgroup v1 reports "no limit" as LONG_MAX rounded down to a page (9223372036854771712); anything this large
// (2^60 bytes = 1 EiB) cannot be a real limit.
constexpr std::uint64_t kNoLimitThreshold = 1ULL << 60;

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::optional<long long> to_ll(std::string_view s) {
  s = trim(s);
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  s = trim(s);
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Splits "key : value" lines of /proc/cpuinfo-like text; calls fn(key, value) with both trimmed.
template <class Fn>
void for_each_colon_line(std::string_view text, Fn fn) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      fn(std::string_view{}, std::string_view{});  // blank line: end of a processor block
      continue;
    }
    fn(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    const size_t b = i;
    while (i < s.size() && !(s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

CpuCounts parse_cpuinfo(std::string_view cpuinfo) {
  CpuCounts c;
  std::set<std::pair<long long, long long>> cores;
  long long package = -1, core = -1;
  auto flush = [&] {
    if (core >= 0) cores.insert({package, core});
    package = core = -1;
  };
  for_each_colon_line(cpuinfo, [&](std::string_view key, std::string_view value) {
    if (key.empty()) return flush();
    if (key == "processor") {
      flush();
      ++c.logical;
    } else if (key == "physical id") {
      package = to_ll(value).value_or(0);
    } else if (key == "core id") {
      core = to_ll(value).value_or(-1);
    }
  });
  flush();
  c.physical = static_cast<unsigned>(cores.size());
  return c;
}

MemInfo parse_meminfo(std::string_view meminfo) {
  MemInfo m;
  std::optional<std::uint64_t> available, free_kb, buffers, cached;
  for_each_colon_line(meminfo, [&](std::string_view key, std::string_view value) {
    const auto parts = split_ws(value);
    if (parts.empty()) return;
    const auto kb = to_u64(parts[0]);
    if (!kb) return;
    if (key == "MemTotal") m.total = *kb * 1024;
    else if (key == "MemAvailable") available = *kb;
    else if (key == "MemFree") free_kb = *kb;
    else if (key == "Buffers") buffers = *kb;
    else if (key == "Cached") cached = *kb;
  });
  if (available) m.available = *available * 1024;
  else m.available = (free_kb.value_or(0) + buffers.value_or(0) + cached.value_or(0)) * 1024;
  return m;
}

std::optional<double> parse_cgroup2_cpu_max(std::string_view cpu_max) {
  const auto parts = split_ws(cpu_max);
  if (parts.empty() || parts[0] == "max") return std::nullopt;
  const auto quota = to_ll(parts[0]);
  const auto period = parts.size() > 1 ? to_ll(parts[1]) : std::optional<long long>(100000);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<double> parse_cgroup1_cpu_quota(std::string_view quota_us, std::string_view period_us) {
  const auto quota = to_ll(quota_us);
  const auto period = to_ll(period_us);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return static_cast<double>(*quota) / static_cast<double>(*period);
}

std::optional<std::uint64_t> parse_cgroup_memory_limit(std::string_view text) {
  text = trim(text);
  if (text.empty() || text == "max") return std::nullopt;
  const auto v = to_u64(text);
  if (!v || *v == 0 || *v >= kNoLimitThreshold) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const auto parts = split_ws(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (parts.size() >= 2 && parts[0] == key) return to_u64(parts[1]);
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> cgroup_dirs(std::string_view proc_self_cgroup, std::string_view mountinfo,
                                               std::string_view controller) {
  // The process's path in the hierarchy that holds `controller` ("0::/path" is the v2 line).
  std::optional<std::string> cg_path;
  for (std::string_view text = proc_self_cgroup; !text.empty();) {
    const auto nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const std::string_view hier = line.substr(0, c1), ctrls = line.substr(c1 + 1, c2 - c1 - 1);
    bool match = false;
    if (controller.empty()) {
      match = hier == "0" && ctrls.empty();
    } else {
      for (std::string_view rest = ctrls; !rest.empty();) {
        const auto comma = rest.find(',');
        match = match || rest.substr(0, comma) == controller;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
    if (match) cg_path = std::string(line.substr(c2 + 1));
  }
  if (!cg_path) return {};

  // mountinfo: "id parent maj:min root mountpoint options ... - fstype source superoptions".
  for (std::string_view text = mountinfo; !text.empty();) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto parts = split_ws(line);
    const auto dash = std::find(parts.begin(), parts.end(), std::string_view("-"));
    if (parts.size() < 5 || dash == parts.end() || dash + 1 == parts.end()) continue;
    const std::string_view fstype = *(dash + 1);
    bool match = false;
    if (controller.empty()) {
      match = fstype == "cgroup2";
    } else if (fstype == "cgroup" && parts.end() - dash > 3) {  // super options follow fstype and source
      for (std::string_view rest = *(dash + 3); !rest.empty();) {
        const auto comma = rest.find(',');
        match = match || rest.substr(0, comma) == controller;
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
    }
    if (!match) continue;
    const std::string root(parts[3]);
    const std::filesystem::path mount{std::string(parts[4])};
    // Only the part of our path below the mount's root is visible under the mount point.
    std::string rel = *cg_path;
    if (root != "/" && rel.rfind(root, 0) == 0) rel = rel.substr(root.size());
    else if (root != "/") rel = "/";
    std::filesystem::path p = mount;
    for (const auto& part : std::filesystem::path(rel).relative_path())
      if (!part.empty() && part != ".") p /= part;
    std::vector<std::filesystem::path> dirs;
    for (;;) {
      dirs.push_back(p);
      if (p == mount || !p.has_relative_path()) break;
      p = p.parent_path();
    }
    return dirs;
  }
  return {};
}

// Fills the cgroup fields of `s` from /proc/self/cgroup, /proc/self/mountinfo and the cgroup folders.
static void read_cgroup_files(SystemSnapshot& s) {
  const std::string self_cgroup = read_text("/proc/self/cgroup");
  const std::string mountinfo = read_text("/proc/self/mountinfo");
  const auto v2 = cgroup_dirs(self_cgroup, mountinfo, "");
  for (const auto& d : v2) {
    if (auto t = read_text(d / "cpu.max"); !t.empty()) s.cgroup2_cpu_max.push_back(t);
    if (auto t = read_text(d / "memory.max"); !t.empty()) s.cgroup_memory_max.push_back(t);
  }
  if (!v2.empty()) {
    s.cgroup_memory_usage = read_text(v2.front() / "memory.current");
    s.cgroup_memory_stat = read_text(v2.front() / "memory.stat");
  }
  for (const auto& d : cgroup_dirs(self_cgroup, mountinfo, "cpu")) {
    auto q = read_text(d / "cpu.cfs_quota_us");
    if (!q.empty()) s.cgroup1_cpu_quota.emplace_back(q, read_text(d / "cpu.cfs_period_us"));
  }
  const auto v1mem = cgroup_dirs(self_cgroup, mountinfo, "memory");
  for (const auto& d : v1mem)
    if (auto t = read_text(d / "memory.limit_in_bytes"); !t.empty()) s.cgroup_memory_max.push_back(t);
  if (!v1mem.empty() && s.cgroup_memory_usage.empty()) {
    s.cgroup_memory_usage = read_text(v1mem.front() / "memory.usage_in_bytes");
    s.cgroup_memory_stat = read_text(v1mem.front() / "memory.stat");
  }
}

SystemSnapshot read_system_snapshot(const std::filesystem::path& scratch_dir) {
  SystemSnapshot s;
  s.cpuinfo = read_text("/proc/cpuinfo");
  s.meminfo = read_text("/proc/meminfo");

  std::set<std::string> cores;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/devices/system/cpu", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("cpu", 0) != 0 || name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[3]))) continue;
    const std::string core = std::string(trim(read_text(e.path() / "topology/core_id")));
    if (core.empty()) continue;
    cores.insert(std::string(trim(read_text(e.path() / "topology/physical_package_id"))) + "/" + core);
  }
  s.sysfs_physical_cores = static_cast<unsigned>(cores.size());

  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) s.affinity_cpus = static_cast<unsigned>(CPU_COUNT(&set));

  read_cgroup_files(s);
  s.scratch_dir = scratch_dir.string();
  struct statvfs vfs {};
  if (!scratch_dir.empty() && statvfs(scratch_dir.c_str(), &vfs) == 0)
    s.disk_free = static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
  s.gpu = probe_gpu();
  s.cuda_built = built_with_cuda();
  return s;
}

// RAM total/available of `s` with the cgroup limit applied.
static void derive_memory(const SystemSnapshot& s, Capabilities& c) {
  const MemInfo mem = parse_meminfo(s.meminfo);
  c.ram_total_bytes = mem.total;
  c.ram_available_bytes = mem.available;
  std::optional<std::uint64_t> limit;
  for (const auto& t : s.cgroup_memory_max)
    if (auto l = parse_cgroup_memory_limit(t)) limit = limit ? std::min(*limit, *l) : *l;
  if (limit) {
    c.cgroup_memory_limit_bytes = *limit;
    c.ram_total_bytes = c.ram_total_bytes > 0 ? std::min(c.ram_total_bytes, *limit) : *limit;
    // Page cache is charged to the cgroup but reclaimable: the working set is usage minus inactive files.
    std::uint64_t used = to_u64(s.cgroup_memory_usage).value_or(0);
    const std::uint64_t inactive = parse_keyed_value(s.cgroup_memory_stat, "inactive_file")
                                       .value_or(parse_keyed_value(s.cgroup_memory_stat, "total_inactive_file").value_or(0));
    used = used > inactive ? used - inactive : 0;
    const std::uint64_t cg_available = *limit > used ? *limit - used : 0;
    c.ram_available_bytes = c.ram_available_bytes > 0 ? std::min(c.ram_available_bytes, cg_available) : cg_available;
    c.notes.push_back(fmt::format("cgroup memory limit {} (working set {})", human_bytes(*limit), human_bytes(used)));
  }
  c.notes.push_back(fmt::format("RAM total {}, available {}", human_bytes(c.ram_total_bytes),
                                human_bytes(c.ram_available_bytes)));
}

Capabilities capabilities_from_snapshot(const SystemSnapshot& s) {
  Capabilities c;
  const CpuCounts cpu = parse_cpuinfo(s.cpuinfo);
  c.logical_cores = cpu.logical > 0 ? cpu.logical : std::max(1u, std::thread::hardware_concurrency());
  c.physical_cores = cpu.physical > 0 ? cpu.physical : s.sysfs_physical_cores;
  if (c.physical_cores == 0) c.physical_cores = c.logical_cores;
  c.affinity_cores = s.affinity_cpus;

  std::optional<double> quota;
  for (const auto& t : s.cgroup2_cpu_max)
    if (auto q = parse_cgroup2_cpu_max(t)) quota = quota ? std::min(*quota, *q) : *q;
  for (const auto& [q_us, p_us] : s.cgroup1_cpu_quota)
    if (auto q = parse_cgroup1_cpu_quota(q_us, p_us)) quota = quota ? std::min(*quota, *q) : *q;
  c.cgroup_cpu_limit = quota.value_or(0.0);

  unsigned usable = c.logical_cores;
  if (c.affinity_cores > 0) usable = std::min(usable, c.affinity_cores);
  // A fractional quota (1.5 CPUs) still lets 2 threads progress; rounding down would idle half a CPU.
  if (quota) usable = std::min(usable, static_cast<unsigned>(std::max(1.0, std::ceil(*quota - 1e-9))));
  c.usable_cores = std::max(1u, usable);
  c.notes.push_back(fmt::format("usable cores {} = min(logical {}, affinity {}, cgroup quota {})", c.usable_cores,
                                c.logical_cores, c.affinity_cores > 0 ? std::to_string(c.affinity_cores) : "unknown",
                                quota ? fmt::format("{:.2f} CPUs", *quota) : std::string("none")));

  derive_memory(s, c);
  c.scratch_dir = s.scratch_dir;
  c.disk_free_bytes = s.disk_free.value_or(0);
  if (!s.disk_free) c.notes.push_back(fmt::format("free disk in '{}' unknown", s.scratch_dir));
  c.gpu = s.gpu;
  c.cuda_built = s.cuda_built;
  c.notes.push_back(c.gpu.present ? fmt::format("GPU: {} ({} total, {} free)", c.gpu.reason,
                                                human_bytes(c.gpu.vram_total), human_bytes(c.gpu.vram_free))
                                  : "no GPU: " + c.gpu.reason);
  return c;
}

std::uint64_t read_available_ram_bytes() {
  SystemSnapshot s;
  s.meminfo = read_text("/proc/meminfo");
  read_cgroup_files(s);
  Capabilities c;
  derive_memory(s, c);
  return c.ram_available_bytes;
}

Capabilities probe_capabilities(const std::filesystem::path& scratch_dir) {
  return capabilities_from_snapshot(read_system_snapshot(scratch_dir));
}

void apply_assumptions(Capabilities& caps, const Config& config) { apply_assumptions(caps, machine_assumptions(config)); }

void apply_assumptions(Capabilities& caps, const MachineAssumptions& a) {
  if (const int n = a.cores; n > 0) {
    const auto cores = static_cast<unsigned>(n);
    caps.logical_cores = caps.physical_cores = caps.affinity_cores = caps.usable_cores = cores;
    caps.cgroup_cpu_limit = 0.0;
    caps.notes.push_back(fmt::format("assumed {} cores (assume_cores)", cores));
  }
  if (const double g = a.ram_gb; g > 0.0) {
    caps.ram_total_bytes = caps.ram_available_bytes = gib_to_bytes(g);
    caps.cgroup_memory_limit_bytes = 0;
    caps.notes.push_back(fmt::format("assumed {} GiB RAM, all available (assume_ram_gb)", g));
  }
  if (const double v = a.vram_gb; v == 0.0) {
    caps.gpu = GpuInfo{};
    caps.gpu.reason = "assume_vram_gb = 0: no GPU assumed";
    caps.notes.push_back(caps.gpu.reason);
  } else if (v > 0.0) {
    caps.gpu.present = true;
    if (caps.gpu.name.empty()) caps.gpu.name = "assumed GPU";
    caps.gpu.vram_total = caps.gpu.vram_free = gib_to_bytes(v);
    caps.gpu.reason = fmt::format("assumed {} GiB VRAM, all free (assume_vram_gb)", v);
    caps.notes.push_back(caps.gpu.reason);
  }
  if (const double d = a.disk_gb; d > 0.0) {
    caps.disk_free_bytes = gib_to_bytes(d);
    caps.notes.push_back(fmt::format("assumed {} GiB free scratch disk (assume_disk_gb)", d));
  }
}

nlohmann::json to_json(const Capabilities& c) {
  return {{"logical_cores", c.logical_cores},
          {"physical_cores", c.physical_cores},
          {"affinity_cores", c.affinity_cores},
          {"cgroup_cpu_limit", c.cgroup_cpu_limit},
          {"usable_cores", c.usable_cores},
          {"ram_total_bytes", c.ram_total_bytes},
          {"ram_available_bytes", c.ram_available_bytes},
          {"cgroup_memory_limit_bytes", c.cgroup_memory_limit_bytes},
          {"scratch_dir", c.scratch_dir},
          {"disk_free_bytes", c.disk_free_bytes},
          {"gpu",
           {{"present", c.gpu.present},
            {"name", c.gpu.name},
            {"vram_total_bytes", c.gpu.vram_total},
            {"vram_free_bytes", c.gpu.vram_free},
            {"reason", c.gpu.reason}}},
          {"cuda_built", c.cuda_built},
          {"notes", c.notes}};
}

}  // namespace zm
