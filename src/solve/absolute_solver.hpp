// Absolute plate solving behind one interface, with adapters for astrometry.net (solve-field) and ASTAP.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "io/fits_header.hpp"
#include "solve/solve_hint.hpp"
#include "stars/star.hpp"

namespace zm {

struct SolverSettings {
  std::string kind = "auto";       // auto | astrometry_net | astap | none
  std::string astap_path;          // explicit ASTAP executable (empty = look for astap_cli / astap on PATH)
  std::string astrometry_config;   // astrometry.net config file (empty = the solver's default)
  double time_limit_s = 30.0;      // per attempt
  int retries = 1;                 // further attempts with a wider search
  double search_radius_deg = 3.0;  // around the RA/DEC hint
  int downsample = 2;              // for solvers that detect stars themselves (ASTAP)
  double scale_tolerance = 0.12;   // relative band around the hinted pixel scale
  // astrometry.net: let solve-field detect stars on the (read-only) input image instead of our star list.
  // Default: the image, with --downsample (on the real Seestar subs this reproduces astrometry.net's reference
  // solutions; our 2x2-binned star list solves as fast but its SIP tweak differs from them by ~3" at the corners).
  bool solve_from_image = true;
};

struct SolveRequest {
  std::filesystem::path input;      // the frame (read-only; ASTAP reads it, astrometry.net uses `stars`)
  std::span<const Star> stars;      // 0-based full-resolution positions, brightest first
  int width = 0;
  int height = 0;
  SolveHint hint;
  std::filesystem::path work_dir;   // private scratch folder (created by the caller, inside the output cache)
};

struct SolveOutcome {
  bool ok = false;
  std::string reason;   // why it failed
  FitsHeader wcs;       // the solver's WCS cards when ok
  double seconds = 0.0;
  int attempts = 0;
};

class AbsoluteSolver {
 public:
  virtual ~AbsoluteSolver() = default;
  virtual std::string name() const = 0;
  // Thread-safe: concurrent calls with different work_dirs are fine.
  virtual SolveOutcome solve(const SolveRequest& request) const = 0;
};

// The solver `settings.kind` asks for, or nullptr with `unavailable` saying exactly what to install or configure
// (for `none`, nullptr and an empty reason). `auto` prefers astrometry.net with at least one index, then ASTAP.
std::unique_ptr<AbsoluteSolver> make_absolute_solver(const SolverSettings& settings, std::string& unavailable);

// Helpers shared by the adapters.
namespace solver_detail {

// Full path of `program` on PATH (or `program` itself when it contains a '/' and is executable).
std::optional<std::filesystem::path> find_program(const std::string& program);

struct ProcessResult {
  int exit_code = -1;
  bool timed_out = false;
};
// Runs argv[0] with its arguments (no shell), stdout+stderr to `log`, killing it after `timeout_s`.
ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& log, double timeout_s);

// The last `max_chars` of a text file (for failure reasons).
std::string file_tail(const std::filesystem::path& path, std::size_t max_chars = 300);

std::unique_ptr<AbsoluteSolver> make_astrometry_net(const SolverSettings& s, std::string& unavailable);
std::unique_ptr<AbsoluteSolver> make_astap(const SolverSettings& s, std::string& unavailable);

}  // namespace solver_detail
}  // namespace zm
