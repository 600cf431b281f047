// The capability parsers on fake /proc and cgroup text, the overrides, and the real probe.
#include <gtest/gtest.h>

#include <filesystem>

#include "plan/bytes_text.hpp"
#include "plan/capabilities.hpp"

namespace zm {
namespace {

TEST(Capabilities, CpuinfoCountsThreadsAndDistinctCores) {
  // 2 packages x 2 cores x 2 threads.
  std::string text;
  int n = 0;
  for (int pkg = 0; pkg < 2; ++pkg)
    for (int core = 0; core < 2; ++core)
      for (int thread = 0; thread < 2; ++thread)
        text += "processor\t: " + std::to_string(n++) + "\nmodel name\t: X\nphysical id\t: " + std::to_string(pkg) +
                "\ncore id\t\t: " + std::to_string(core) + "\nflags\t\t: fpu\n\n";
  const CpuCounts c = parse_cpuinfo(text);
  EXPECT_EQ(c.logical, 8u);
  EXPECT_EQ(c.physical, 4u);
  // Without topology (some ARM kernels) the physical count is unknown.
  const CpuCounts arm = parse_cpuinfo("processor : 0\nBogoMIPS : 50\n\nprocessor : 1\nBogoMIPS : 50\n");
  EXPECT_EQ(arm.logical, 2u);
  EXPECT_EQ(arm.physical, 0u);
}

TEST(Capabilities, MeminfoWithAndWithoutMemAvailable) {
  MemInfo m = parse_meminfo("MemTotal:       32768000 kB\nMemFree:  1000 kB\nMemAvailable:   20000000 kB\n");
  EXPECT_EQ(m.total, 32768000ULL * 1024);
  EXPECT_EQ(m.available, 20000000ULL * 1024);
  m = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 30 kB\n");
  EXPECT_EQ(m.available, 150ULL * 1024);
}

TEST(Capabilities, CgroupCpuQuotas) {
  EXPECT_DOUBLE_EQ(*parse_cgroup2_cpu_max("200000 100000\n"), 2.0);
  EXPECT_DOUBLE_EQ(*parse_cgroup2_cpu_max("150000 100000"), 1.5);
  EXPECT_FALSE(parse_cgroup2_cpu_max("max 100000\n").has_value());
  EXPECT_FALSE(parse_cgroup2_cpu_max("").has_value());
  EXPECT_DOUBLE_EQ(*parse_cgroup1_cpu_quota("400000\n", "100000\n"), 4.0);
  EXPECT_FALSE(parse_cgroup1_cpu_quota("-1\n", "100000\n").has_value());
}

TEST(Capabilities, CgroupMemoryLimits) {
  EXPECT_EQ(*parse_cgroup_memory_limit("4294967296\n"), 4 * kGiB);
  EXPECT_FALSE(parse_cgroup_memory_limit("max\n").has_value());
  EXPECT_FALSE(parse_cgroup_memory_limit("9223372036854771712\n").has_value());  // v1 "unlimited"
  EXPECT_EQ(*parse_keyed_value("anon 5\ninactive_file 1234\nactive_file 9\n", "inactive_file"), 1234u);
  EXPECT_FALSE(parse_keyed_value("anon 5\n", "inactive_file").has_value());
}

TEST(Capabilities, CgroupDirsV2WalkUpToTheMount) {
  const std::string cg = "0::/system.slice/job.scope\n";
  const std::string mi = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
  const auto dirs = cgroup_dirs(cg, mi, "");
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_EQ(dirs[0], "/sys/fs/cgroup/system.slice/job.scope");
  EXPECT_EQ(dirs[1], "/sys/fs/cgroup/system.slice");
  EXPECT_EQ(dirs[2], "/sys/fs/cgroup");
  // In a container with a cgroup namespace the path is "/": only the mount itself.
  EXPECT_EQ(cgroup_dirs("0::/\n", mi, ""), std::vector<std::filesystem::path>{"/sys/fs/cgroup"});
}

TEST(Capabilities, CgroupDirsV1PerController) {
  const std::string cg = "4:memory:/process_api/abc\n1:cpu,cpuacct:/\n0::/\n";
  const std::string mi =
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
  const auto mem = cgroup_dirs(cg, mi, "memory");
  ASSERT_EQ(mem.size(), 3u);
  EXPECT_EQ(mem[0], "/sys/fs/cgroup/memory/process_api/abc");
  EXPECT_EQ(mem[2], "/sys/fs/cgroup/memory");
  EXPECT_EQ(cgroup_dirs(cg, mi, "cpu"), std::vector<std::filesystem::path>{"/sys/fs/cgroup/cpu,cpuacct"});
  EXPECT_TRUE(cgroup_dirs(cg, mi, "pids").empty());
  EXPECT_TRUE(cgroup_dirs(cg, mi, "").empty());  // no cgroup2 mount listed
}

TEST(Capabilities, SnapshotTakesTheSmallestLimitsAndAffinity) {
  SystemSnapshot s;
  for (int i = 0; i < 16; ++i) s.cpuinfo += "processor : " + std::to_string(i) + "\n\n";
  s.meminfo = "MemTotal: 33554432 kB\nMemAvailable: 16777216 kB\n";  // 32 GiB, 16 available
  s.affinity_cpus = 6;
  s.cgroup1_cpu_quota = {{"800000", "100000"}, {"-1", "100000"}};
  s.cgroup_memory_max = {"max", "68719476736"};  // a parent's 64 GiB limit is above the machine
  s.sysfs_physical_cores = 8;
  const Capabilities c = capabilities_from_snapshot(s);
  EXPECT_EQ(c.logical_cores, 16u);
  EXPECT_EQ(c.physical_cores, 8u);
  EXPECT_EQ(c.usable_cores, 6u);  // affinity wins over the 8-CPU quota
  EXPECT_DOUBLE_EQ(c.cgroup_cpu_limit, 8.0);
  EXPECT_EQ(c.ram_total_bytes, 32 * kGiB);
  EXPECT_EQ(c.ram_available_bytes, 16 * kGiB);
  EXPECT_EQ(c.cgroup_memory_limit_bytes, 64 * kGiB);

  s.cgroup2_cpu_max = {"150000 100000"};  // 1.5 CPUs still run 2 threads
  EXPECT_EQ(capabilities_from_snapshot(s).usable_cores, 2u);
}

TEST(Capabilities, AssumptionsReplaceProbedValues) {
  SystemSnapshot s;
  s.cpuinfo = "processor : 0\n\nprocessor : 1\n";
  s.meminfo = "MemTotal: 8388608 kB\nMemAvailable: 4194304 kB\n";
  s.gpu.reason = "no device";
  Capabilities c = capabilities_from_snapshot(s);
  Config cfg;
  cfg.set("assume_cores", 16);
  cfg.set("assume_ram_gb", 32.0);
  cfg.set("assume_vram_gb", 8.0);
  cfg.set("assume_disk_gb", 100.0);
  apply_assumptions(c, cfg);
  EXPECT_EQ(c.usable_cores, 16u);
  EXPECT_EQ(c.logical_cores, 16u);
  EXPECT_EQ(c.ram_total_bytes, 32 * kGiB);
  EXPECT_EQ(c.ram_available_bytes, 32 * kGiB);
  EXPECT_TRUE(c.gpu.present);
  EXPECT_EQ(c.gpu.vram_total, 8 * kGiB);
  EXPECT_EQ(c.gpu.vram_free, 8 * kGiB);
  EXPECT_EQ(c.disk_free_bytes, 100 * kGiB);
  Config no_gpu;
  no_gpu.set("assume_vram_gb", 0.0);
  apply_assumptions(c, no_gpu);
  EXPECT_FALSE(c.gpu.present);
  EXPECT_NE(c.gpu.reason.find("assume_vram_gb = 0"), std::string::npos);
  // Defaults leave probed values alone.
  Capabilities d = capabilities_from_snapshot(s);
  apply_assumptions(d, Config());
  EXPECT_EQ(d.usable_cores, 2u);
  EXPECT_EQ(d.ram_total_bytes, 8 * kGiB);
}

TEST(Capabilities, RealProbeIsPlausible) {
  const Capabilities c = probe_capabilities(std::filesystem::temp_directory_path());
  EXPECT_GE(c.logical_cores, 1u);
  EXPECT_GE(c.usable_cores, 1u);
  EXPECT_LE(c.usable_cores, c.logical_cores);
  EXPECT_GT(c.ram_total_bytes, 0u);
  EXPECT_GT(c.ram_available_bytes, 0u);
  EXPECT_LE(c.ram_available_bytes, c.ram_total_bytes);
  EXPECT_GT(c.disk_free_bytes, 0u);
  EXPECT_EQ(c.cuda_built, built_with_cuda());
  if (!c.gpu.present) {
    EXPECT_FALSE(c.gpu.reason.empty());
  }
  const auto available = read_available_ram_bytes();
  EXPECT_GT(available, 0u);
  EXPECT_LE(available, c.ram_total_bytes);
  const nlohmann::json j = to_json(c);
  for (const char* k : {"logical_cores", "usable_cores", "ram_total_bytes", "ram_available_bytes", "disk_free_bytes", "gpu"})
    EXPECT_TRUE(j.contains(k)) << k;
}

TEST(Capabilities, HumanBytes) {
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(3 * kGiB / 2), "1.50 GiB");
  EXPECT_EQ(gib_to_bytes(2.0), 2 * kGiB);
  EXPECT_EQ(gib_to_bytes(-1.0), 0u);
}

}  // namespace
}  // namespace zm
