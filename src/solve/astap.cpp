// ASTAP adapter: ASTAP reads the frame itself (read-only) and writes its .wcs into our scratch folder (-o).
#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "solve/absolute_solver.hpp"
#include "solve/sidecar.hpp"

namespace zm {
namespace fs = std::filesystem;
using namespace solver_detail;

namespace {

class Astap : public AbsoluteSolver {
 public:
  Astap(fs::path program, SolverSettings s) : program_(std::move(program)), s_(std::move(s)) {}
  std::string name() const override { return "astap"; }

  SolveOutcome solve(const SolveRequest& req) const override {
    const auto t0 = std::chrono::steady_clock::now();
    SolveOutcome out;
    const fs::path base = req.work_dir / "astap";
    for (int attempt = 0; attempt <= std::max(0, s_.retries); ++attempt) {
      ++out.attempts;
      const double widen = 1.0 + 2.0 * attempt;
      std::vector<std::string> argv = {program_.string(), "-f", req.input.string(), "-o", base.string(), "-wcs",
                                       "-z", std::to_string(std::max(0, s_.downsample)),
                                       "-r", fmt::format("{:.2f}", std::min(180.0, s_.search_radius_deg * widen))};
      if (req.hint.ra_deg && req.hint.dec_deg)
        argv.insert(argv.end(), {"-ra", fmt::format("{:.6f}", *req.hint.ra_deg / 15.0), "-spd",
                                 fmt::format("{:.6f}", *req.hint.dec_deg + 90.0)});
      if (req.hint.scale_arcsec)
        argv.insert(argv.end(), {"-fov", fmt::format("{:.4f}", *req.hint.scale_arcsec * req.height / 3600.0)});
      const fs::path log = req.work_dir / fmt::format("astap_{}.log", attempt);
      const ProcessResult pr = run_process(argv, log, s_.time_limit_s + 10.0);
      fs::path wcs_file = base;
      wcs_file += ".wcs";
      if (auto h = read_wcs_sidecar(wcs_file)) {
        out.ok = true;
        out.wcs = std::move(*h);
        out.reason.clear();
        break;
      }
      out.reason = pr.timed_out ? "ASTAP timed out" : fmt::format("ASTAP found no solution (exit {}): {}",
                                                                  pr.exit_code, file_tail(log, 200));
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
  }

 private:
  fs::path program_;
  SolverSettings s_;
};

}  // namespace

namespace solver_detail {

std::unique_ptr<AbsoluteSolver> make_astap(const SolverSettings& s, std::string& unavailable) {
  std::optional<fs::path> program;
  if (!s.astap_path.empty()) program = find_program(s.astap_path);
  if (!program) program = find_program("astap_cli");
  if (!program) program = find_program("astap");
  if (!program) {
    unavailable = "ASTAP is not on PATH (install astap_cli and a star database such as D50 from "
                  "hnsky.org, or set solver_astap_path)";
    return nullptr;
  }
  return std::make_unique<Astap>(*program, s);
}

}  // namespace solver_detail
}  // namespace zm
