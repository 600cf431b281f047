// Resume under SIGKILL: `zemosaic run` is killed at pseudo-random moments inside each phase, rerun, and must end with
// a mosaic bit-identical to an uninterrupted run, reusing what the killed runs completed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "io/fits_reader.hpp"
#include "sim/dataset.hpp"
#include "test_support.hpp"

#ifndef ZM_CLI_PATH
#error "ZM_CLI_PATH must name the zemosaic binary"
#endif

namespace zm {
namespace {
namespace fs = std::filesystem;

sim::SimConfig config() {
  sim::SimConfig c;
  c.seed = 5;
  c.layout.grid_cols = 2;
  c.layout.grid_rows = 1;
  c.layout.frames_per_pointing = 4;
  c.layout.width = 320;
  c.layout.height = 256;
  c.layout.overlap = 0.3;
  c.sky.star_density_per_deg2 = 15000.0;
  c.write_truth = false;
  return c;
}

pid_t start_run(const fs::path& input, const fs::path& out) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string in = input.string(), o = out.string(), ev = (out.string() + ".events.jsonl");
    const int null = ::open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(ZM_CLI_PATH, "zemosaic", "run", "--input", in.c_str(), "--output", o.c_str(), "--events", ev.c_str(),
          "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::string events_text(const fs::path& out) {
  std::ifstream in(out.string() + ".events.jsonl");
  return {std::istreambuf_iterator<char>(in), {}};
}

bool entered(const std::string& events, const std::string& phase) {
  std::istringstream lines(events);
  for (std::string line; std::getline(lines, line);)
    if (line.find("\"PHASE_UPDATE\"") != std::string::npos && line.find("\"phase\":\"" + phase + "\"") != std::string::npos)
      return true;
  return false;
}

// The phase of the last PHASE_UPDATE in the events written so far.
std::string last_phase(const std::string& events) {
  std::istringstream lines(events);
  std::string phase;
  const std::string tag = "\"phase\":\"";
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"PHASE_UPDATE\"") == std::string::npos) continue;
    const auto p = line.find(tag);
    if (p != std::string::npos) phase = line.substr(p + tag.size(), line.find('"', p + tag.size()) - p - tag.size());
  }
  return phase;
}

// Waits until the run reports entering `phase`, then lets it work `delay_ms` more and kills it.
// Returns the phase the run was in when killed, empty when it finished first.
std::string kill_in_phase(const fs::path& input, const fs::path& out, const std::string& phase, int delay_ms) {
  const pid_t pid = start_run(input, out);
  for (int i = 0; i < 3000; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return {};
    if (entered(events_text(out), phase)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(pid, SIGKILL);
  const int code = wait_exit(pid);
  return code == -SIGKILL ? last_phase(events_text(out)) : std::string();
}

std::string science_path(const fs::path& out) {
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().filename().string().ends_with("_science.fits")) return e.path().string();
  return {};
}

TEST(ResumeKill, KilledRunsEndWithTheSameMosaic) {
  test::TempDir dir("kill");
  sim::write_dataset(sim::plan_dataset(config()), dir.path() / "data");
  const fs::path input = dir.path() / "data" / sim::kLightsFolder;
  ASSERT_EQ(wait_exit(start_run(input, dir.path() / "ref")), 0);
  const std::string ref_path = science_path(dir.path() / "ref");
  ASSERT_FALSE(ref_path.empty());
  const ImageF ref = FitsImageReader(ref_path).read_all(false);

  std::mt19937 rng(2024);
  const fs::path out = dir.path() / "killed";
  std::set<std::string> killed_in;
  for (const std::string phase : {"1", "2", "3", "4", "4.5", "5", "6"}) {
    const int delay = std::uniform_int_distribution<int>(0, 40)(rng);
    if (const std::string p = kill_in_phase(input, out, phase, delay); !p.empty()) killed_in.insert(p);
  }
  std::string list;
  for (const auto& p : killed_in) list += p + " ";
  RecordProperty("killed_in_phases", list);
  EXPECT_GE(killed_in.size(), 3u) << "kills landed only in phases " << list;
  ASSERT_EQ(wait_exit(start_run(input, out)), 0);
  const std::string events = events_text(out);
  EXPECT_NE(events.find("RESUME_REUSED"), std::string::npos) << "the final rerun recomputed everything";
  const ImageF got = FitsImageReader(science_path(out)).read_all(false);
  ASSERT_EQ(got.data.size(), ref.data.size());
  EXPECT_EQ(0, std::memcmp(got.data.data(), ref.data.data(), ref.data.size() * sizeof(float)));

  // Once complete, a rerun recomputes nothing.
  ASSERT_EQ(wait_exit(start_run(input, out)), 0);
  EXPECT_NE(events_text(out).find("\"phase\":\"all\""), std::string::npos);
}

}  // namespace
}  // namespace zm
