// `zemosaic plan` end to end: the built binary on a small folder, JSON checked against the criteria.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "gpu/device_probe.hpp"
#include "survey_dataset.hpp"
#include "test_support.hpp"

namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

std::string run(const std::string& command, int& status) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  status = pclose(pipe);
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PlanCli, JsonForAnAssumedMachine) {
  zm::test::TempDir dir("plan_cli");
  zm::test::write_survey_dataset(dir / "in");
  const std::string err = (dir / "stderr.txt").string();
  int status = -1;
  const std::string out = run(std::string("'") + ZEMOSAIC_EXE + "' plan --input '" + (dir / "in").string() +
                                  "' --json --assume-cores 16 --assume-ram-gb 32 --assume-vram-gb 8 2>'" + err + "'",
                              status);
  ASSERT_EQ(status, 0) << slurp(err);
  const nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.contains("capabilities"));
  ASSERT_TRUE(j.contains("plans"));
  EXPECT_EQ(j["capabilities"]["usable_cores"].get<int>(), 16);
  EXPECT_EQ(j["job"]["frames_total"].get<int>(), 12);
  const std::array<const char*, 6> kinds = {"ingest", "master_tiles", "mosaic_first", "phase45", "phase5", "sds_megatiles"};
  for (const char* kind : kinds) {
    SCOPED_TRACE(kind);
    ASSERT_TRUE(j["plans"].contains(kind));
    const auto& p = j["plans"][kind];
    EXPECT_GE(p["cpu_workers"].get<int>(), 12);
    EXPECT_LE(p["cpu_workers"].get<int>(), 15);
    EXPECT_LT(p["ram_budget_bytes"].get<std::uint64_t>(), 32 * kGiB);
    EXPECT_LT(p["max_chunk_bytes"].get<std::uint64_t>(), 32 * kGiB);
    EXPECT_LT(p["gpu_budget_bytes"].get<std::uint64_t>(), 8 * kGiB);
    EXPECT_LT(p["gpu_max_chunk_bytes"].get<std::uint64_t>(), 8 * kGiB);
    EXPECT_EQ(p["use_gpu"].get<bool>(), zm::built_with_cuda());  // false in a binary without CUDA
    EXPECT_FALSE(p["reasons"].empty());
  }
  EXPECT_NE(slurp(err).find("bad.fits"), std::string::npos) << "the unreadable file must be named";
}

TEST(PlanCli, HumanTable) {
  zm::test::TempDir dir("plan_cli");
  zm::test::write_survey_dataset(dir / "in");
  int status = -1;
  const std::string out =
      run(std::string("'") + ZEMOSAIC_EXE + "' plan --input '" + (dir / "in").string() + "' --assume-cores 4 2>/dev/null",
          status);
  ASSERT_EQ(status, 0);
  EXPECT_NE(out.find("Capabilities"), std::string::npos);
  EXPECT_NE(out.find("master_tiles"), std::string::npos);
  EXPECT_NE(out.find("reasons for phase5"), std::string::npos);
}

TEST(PlanCli, OutOfRangeAssumptionIsRejected) {
  zm::test::TempDir dir("plan_cli");
  zm::test::write_survey_dataset(dir / "in");
  int status = 0;
  const std::string err = (dir / "stderr.txt").string();
  run(std::string("'") + ZEMOSAIC_EXE + "' plan --input '" + (dir / "in").string() + "' --assume-cores -3 2>'" + err + "'",
      status);
  EXPECT_NE(status, 0);
  EXPECT_NE(slurp(err).find("assume_cores"), std::string::npos) << slurp(err);
}

TEST(PlanCli, MissingInputFails) {
  int status = 0;
  run(std::string("'") + ZEMOSAIC_EXE + "' plan --input /nonexistent/zm_in --json 2>/dev/null", status);
  EXPECT_NE(status, 0);
}

}  // namespace
