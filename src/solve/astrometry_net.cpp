// astrometry.net adapter: our own star list goes in as an xylist (no image reading, works on raw Bayer frames),
// solve-field runs with the RA/DEC and scale hints in a scratch folder, its .wcs header comes back.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "solve/absolute_solver.hpp"
#include "solve/sidecar.hpp"
#include "solve/xylist.hpp"

namespace zm {
namespace fs = std::filesystem;
using namespace solver_detail;

namespace {

constexpr const char* kInstallHint =
    "install astrometry.net and Tycho-2 index files fitting the field, e.g. on Debian/Ubuntu: "
    "sudo apt-get install astrometry.net astrometry-data-tycho2-08-littleendian "
    "astrometry-data-tycho2-09-littleendian (a 0.7 x 1.3 deg Seestar field; other fields need the index "
    "whose quad sizes are 10-100 % of the field)";

constexpr int kMaxStarsToSolver = 300;

// Index folders/files named by an astrometry.net config file (add_path / index lines).
int count_index_files(const fs::path& config) {
  std::ifstream in(config);
  if (!in) return 0;
  int count = 0;
  std::error_code ec;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string word, arg;
    ls >> word >> arg;
    if (word == "add_path" && fs::is_directory(arg, ec)) {
      for (const auto& e : fs::directory_iterator(arg, ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("index", 0) == 0 && e.path().extension() == ".fits") ++count;
      }
    } else if (word == "index") {
      if (fs::exists(arg, ec) || fs::exists(arg + ".fits", ec)) ++count;
    }
  }
  return count;
}

class AstrometryNet : public AbsoluteSolver {
 public:
  AstrometryNet(fs::path program, SolverSettings s) : program_(std::move(program)), s_(std::move(s)) {}
  std::string name() const override { return "astrometry_net"; }

  SolveOutcome solve(const SolveRequest& req) const override {
    const auto t0 = std::chrono::steady_clock::now();
    SolveOutcome out;
    const std::size_t n = std::min<std::size_t>(req.stars.size(), kMaxStarsToSolver);
    if (n < 8 && !s_.solve_from_image) {
      out.reason = fmt::format("only {} stars detected (need 8)", req.stars.size());
      return out;
    }
    const fs::path xyls = req.work_dir / "stars.xyls";
    if (!s_.solve_from_image) write_xylist(xyls, req.stars.subspan(0, n));
    for (int attempt = 0; attempt <= std::max(0, s_.retries); ++attempt) {
      ++out.attempts;
      const double widen = 1.0 + 2.0 * attempt;
      const fs::path wcs_file = req.work_dir / "stars.wcs";
      std::error_code ec;
      fs::remove(wcs_file, ec);
      std::vector<std::string> argv = {program_.string(), "--no-plots", "--overwrite",
                                       "--dir", req.work_dir.string(), "--temp-dir", req.work_dir.string(),
                                       "--out", "stars",
                                       "--new-fits", "none", "--corr", "none", "--match", "none",
                                       "--rdls", "none", "--solved", "none", "--index-xyls", "none",
                                       "--cpulimit", fmt::format("{:.0f}", std::max(1.0, s_.time_limit_s))};
      if (s_.solve_from_image) {
        argv.insert(argv.begin() + 1, req.input.string());
        argv.insert(argv.end(), {"--downsample", std::to_string(std::max(1, s_.downsample))});
      } else {
        argv.insert(argv.begin() + 1, xyls.string());
        argv.insert(argv.end(), {"--width", std::to_string(req.width), "--height", std::to_string(req.height),
                                 "--x-column", "X", "--y-column", "Y", "--sort-column", "FLUX"});
      }
      if (!s_.astrometry_config.empty()) argv.insert(argv.end(), {"--config", s_.astrometry_config});
      if (req.hint.scale_arcsec) {
        const double tol = std::min(0.9, s_.scale_tolerance * widen);
        argv.insert(argv.end(), {"--scale-units", "arcsecperpix", "--scale-low",
                                 fmt::format("{:.4f}", *req.hint.scale_arcsec * (1.0 - tol)), "--scale-high",
                                 fmt::format("{:.4f}", *req.hint.scale_arcsec * (1.0 + tol))});
      }
      if (req.hint.ra_deg && req.hint.dec_deg)
        argv.insert(argv.end(), {"--ra", fmt::format("{:.6f}", *req.hint.ra_deg), "--dec",
                                 fmt::format("{:.6f}", *req.hint.dec_deg), "--radius",
                                 fmt::format("{:.3f}", std::min(180.0, s_.search_radius_deg * widen))});
      const fs::path log = req.work_dir / fmt::format("solve-field_{}.log", attempt);
      const ProcessResult pr = run_process(argv, log, s_.time_limit_s * 2.0 + 20.0);
      if (auto h = read_wcs_sidecar(wcs_file)) {
        out.ok = true;
        out.wcs = std::move(*h);
        out.reason.clear();
        break;
      }
      out.reason = pr.timed_out ? fmt::format("solve-field timed out after {:.0f} s", s_.time_limit_s * 2 + 20)
                                : fmt::format("solve-field found no solution (exit {}): {}", pr.exit_code,
                                              file_tail(log, 200));
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

std::unique_ptr<AbsoluteSolver> make_astrometry_net(const SolverSettings& s, std::string& unavailable) {
  const auto program = find_program("solve-field");
  if (!program) {
    unavailable = std::string("astrometry.net's solve-field is not on PATH: ") + kInstallHint;
    return nullptr;
  }
  const fs::path config = fs::path(s.astrometry_config.empty() ? std::string("/etc/astrometry.cfg") : s.astrometry_config);
  std::error_code ec;
  const bool has_config = fs::exists(config, ec);
  // A non-default install may keep its config elsewhere: only a readable config with no index is an error.
  if (has_config && count_index_files(config) == 0) {
    unavailable = fmt::format("astrometry.net has no index files (none found via {}): {}", config.string(),
                              kInstallHint);
    return nullptr;
  }
  return std::make_unique<AstrometryNet>(*program, s);
}

}  // namespace solver_detail
}  // namespace zm
