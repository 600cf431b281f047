// Runs the built `zemosaic` binary as a child process (tests and benchmarks): exit status, peak RSS, events.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace zm::test {

struct ChildRun {
  int exit_code = -1;         // -1: did not exit normally
  long peak_rss_kib = 0;      // ru_maxrss of the child (Linux: KiB)
  double seconds = 0.0;
  std::vector<nlohmann::json> events;  // the --events JSON lines
  std::string stderr_text;             // what the child wrote on stderr (the human log)
};

// `zemosaic run --input in --output out --events <events> --quiet` plus `extra` arguments; events default to
// <out>_events.jsonl next to the output folder, stderr goes to <out>_stderr.txt.
inline ChildRun run_zemosaic(const std::filesystem::path& input, const std::filesystem::path& output,
                             const std::vector<std::string>& extra, std::filesystem::path events = {}) {
  if (events.empty()) events = output.parent_path() / (output.filename().string() + "_events.jsonl");
  const std::filesystem::path err = output.parent_path() / (output.filename().string() + "_stderr.txt");
  std::vector<std::string> args = {ZM_CLI_BINARY, "run",      "--input", input.string(), "--output",
                                   output.string(), "--events", events.string(), "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  ChildRun r;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (std::FILE* f = std::fopen(err.c_str(), "w")) ::dup2(::fileno(f), STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  if (pid > 0 && ::wait4(pid, &status, 0, &ru) == pid) {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.peak_rss_kib = ru.ru_maxrss;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (std::filesystem::is_regular_file(events)) {  // not a device such as /dev/full (it reads as endless zeros)
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) r.events.push_back(nlohmann::json::parse(line));
  }
  std::ifstream e(err);
  r.stderr_text.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return r;
}

// Events with the given key (and phase, when not empty).
inline std::vector<nlohmann::json> events_with(const ChildRun& r, const std::string& key,
                                               const std::string& phase = "") {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.events)
    if (e.value("key", "") == key && (phase.empty() || e.value("phase", "") == phase)) out.push_back(e);
  return out;
}

}  // namespace zm::test
