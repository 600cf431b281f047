// Phase 1 WCS acquisition for frames without a usable header WCS: group, solve one frame per group absolutely,
// propagate to the others by star matching, fall back to absolute solving per frame.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/fits_header.hpp"
#include "solve/absolute_solver.hpp"
#include "solve/propagate.hpp"
#include "solve/solve_hint.hpp"
#include "stars/star.hpp"
#include "wcs/wcs.hpp"

namespace zm {

struct WcsAcquireSettings {
  SolverSettings solver;
  double group_radius_deg = 1.0;   // hints/centres closer than this may share a solve
  double group_max_gap_s = 3600.0; // ... when taken within this time of a group member
  PropagationParams propagation;
  int workers = 1;                 // groups solved concurrently
  std::filesystem::path work_root; // scratch folders for the absolute solver (inside the output cache)
};

// One frame of the run. Frames with `wcs` are references only; the others are acquired.
struct AcquireItem {
  std::string path;
  int width = 0;
  int height = 0;
  std::optional<FitsHeader> wcs;     // known WCS (header / sidecar / cache), normalised CD form
  std::optional<SkyCoord> position;  // grouping position: WCS centre or RA/DEC hint
  SolveHint hint;
  double time_s = 0.0;
  std::vector<Star> stars;           // required for frames without WCS; references get theirs from `ref_stars`
};

struct AcquireOutcome {
  bool ok = false;
  FitsHeader wcs;
  std::string provenance;   // propagated | solved
  double residual_px = 0.0; // weighted RMS of the match (propagated), 0 for solved
  int matches = 0;
  std::string ref_path;     // the frame the WCS was propagated from
  double seconds = 0.0;
  std::string reason;       // why not, when !ok
};

struct AcquireSummary {
  int groups = 0;
  int absolute_solves = 0;     // successful
  int absolute_failures = 0;
  int propagated = 0;
  double solve_seconds = 0.0;  // summed over absolute solver calls
  std::string solver_unavailable;  // non-empty when some frame needed a solver that is not usable
};

// Acquires a WCS for every item without one; outcome i belongs to item i (refs get ok=false, reason empty).
// `ref_stars(i)` supplies the stars of a reference item on demand (called at most once per item, possibly from
// several threads). Deterministic: groups are independent and each is processed in a fixed order.
std::vector<AcquireOutcome> acquire_wcs(std::vector<AcquireItem>& items, const WcsAcquireSettings& settings,
                                        const std::function<std::vector<Star>(int)>& ref_stars,
                                        AcquireSummary& summary);

// A solver's WCS in the form the pipeline stores (Wcs::write_to_header cards), or nullopt with `why`.
std::optional<FitsHeader> normalise_wcs(const FitsHeader& h, const std::string& source, int width, int height,
                                        std::string* why = nullptr);

}  // namespace zm
