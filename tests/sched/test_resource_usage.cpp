// RSS, peak RSS and CPU readers of the running process.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "sched/resource_usage.hpp"

namespace zm {
namespace {

TEST(ResourceUsage, ParsesProcStatusKilobytes) {
  const std::string status = "Name:\tx\nVmPeak:\t  2048 kB\nVmHWM:\t   1500 kB\nVmRSS:\t  1000 kB\n";
  EXPECT_EQ(*parse_status_kb(status, "VmHWM"), 1500u * 1024);
  EXPECT_EQ(*parse_status_kb(status, "VmRSS"), 1000u * 1024);
  EXPECT_FALSE(parse_status_kb(status, "VmSwap").has_value());
  EXPECT_FALSE(parse_status_kb("VmHWMx: 5 kB\n", "VmHWM").has_value());
}

TEST(ResourceUsage, PeakFollowsATouchedAllocation) {
  const std::uint64_t before = peak_rss_bytes();
  EXPECT_GT(current_rss_bytes(), 0u);
  EXPECT_GE(before, current_rss_bytes() / 2);
  constexpr std::size_t kBytes = 96u << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);  // touch every page so it becomes resident
  const std::uint64_t rss = current_rss_bytes();
  const std::uint64_t peak = peak_rss_bytes();
  EXPECT_GE(rss, kBytes);
  EXPECT_GE(peak, rss);
  EXPECT_EQ(block[kBytes - 1], 1);
}

TEST(ResourceUsage, CpuTimeAndPercent) {
  CpuPercentMeter meter(1);
  const double t0 = process_cpu_seconds();
  volatile double x = 0;
  // Burn 60 ms of CPU (however long that takes on a busy machine).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (process_cpu_seconds() < t0 + 0.06 && std::chrono::steady_clock::now() < give_up)
    for (int i = 0; i < 100000; ++i) x = x + 1.0;
  EXPECT_GE(process_cpu_seconds(), t0 + 0.06);
  const double pct = meter.sample();
  EXPECT_GT(pct, 0.5);
  EXPECT_LE(pct, 100.0);
}

}  // namespace
}  // namespace zm
