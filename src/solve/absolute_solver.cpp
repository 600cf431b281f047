#include "solve/absolute_solver.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace zm {
namespace fs = std::filesystem;

namespace solver_detail {

std::optional<fs::path> find_program(const std::string& program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? std::optional<fs::path>(program) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path p = fs::path(dir) / program;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv, const fs::path& log, double timeout_s) {
  ProcessResult r;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    ::setpgid(0, 0);  // own process group: a timeout kills the solver's children too
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0) return r;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      r.timed_out = true;
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string file_tail(const fs::path& path, std::size_t max_chars) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s;
}

}  // namespace solver_detail

std::unique_ptr<AbsoluteSolver> make_absolute_solver(const SolverSettings& settings, std::string& unavailable) {
  unavailable.clear();
  if (settings.kind == "none") return nullptr;
  if (settings.kind == "astrometry_net") return solver_detail::make_astrometry_net(settings, unavailable);
  if (settings.kind == "astap") return solver_detail::make_astap(settings, unavailable);
  std::string why_anet, why_astap;
  if (auto s = solver_detail::make_astrometry_net(settings, why_anet)) return s;
  if (auto s = solver_detail::make_astap(settings, why_astap)) return s;
  unavailable = "no plate solver available: " + why_anet + "; or " + why_astap;
  return nullptr;
}

}  // namespace zm
