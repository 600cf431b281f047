// Groups are independent, so they run concurrently (absolute solves are external processes that mostly wait);
// inside a group the order is fixed (best-starred frame first, then input order), which keeps every outcome
// independent of the worker count.
#include "pipeline/ingest/wcs_acquire.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "solve/grouping.hpp"
#include "sched/worker_arena.hpp"

namespace zm {
namespace fs = std::filesystem;

std::optional<FitsHeader> normalise_wcs(const FitsHeader& h, const std::string& source, int width, int height,
                                        std::string* why) {
  try {
    Wcs wcs = Wcs::from_header(h, source, width, height);
    FitsHeader cards;
    wcs.write_to_header(cards);
    return cards;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return std::nullopt;
  }
}

namespace {

struct GroupCounts {
  int absolute_solves = 0;
  int absolute_failures = 0;
  int propagated = 0;
  double solve_seconds = 0.0;
  bool needed_solver = false;
};

struct Ref {
  int item;
  const FitsHeader* wcs;
  const std::vector<Star>* stars;
};

class GroupSolver {
 public:
  GroupSolver(std::vector<AcquireItem>& items, const WcsAcquireSettings& s, const AbsoluteSolver* solver,
              const std::function<std::vector<Star>(int)>& ref_stars, std::vector<AcquireOutcome>& out)
      : items_(items), s_(s), solver_(solver), ref_stars_(ref_stars), out_(out) {}

  GroupCounts run(const std::vector<int>& members) {
    std::vector<int> pending;
    for (int i : members) {
      if (items_[i].wcs) {
        known_.push_back(i);
      } else {
        pending.push_back(i);
      }
    }
    if (pending.empty()) return counts_;
    // The frame with the most stars is the best absolute-solve candidate; it goes first when nothing is known.
    if (known_.empty()) {
      auto best = std::max_element(pending.begin(), pending.end(), [&](int a, int b) {
        return items_[a].stars.size() < items_[b].stars.size();  // first of equals wins
      });
      std::rotate(pending.begin(), best, best + 1);
    }
    for (int i : pending) acquire(i);
    return counts_;
  }

 private:
  void acquire(int i) {
    const auto t0 = std::chrono::steady_clock::now();
    AcquireOutcome& o = out_[i];
    std::string reasons;
    for (const Ref& r : nearest_refs(i)) {
      const AcquireItem& it = items_[i];
      Propagation p = propagate_wcs(*r.stars, *r.wcs, it.stars, it.width, it.height, s_.propagation);
      std::string why;
      std::optional<FitsHeader> cards;
      if (p.ok) cards = normalise_wcs(p.wcs, it.path, it.width, it.height, &why);
      if (cards) {
        o.ok = true;
        o.wcs = std::move(*cards);
        o.provenance = "propagated";
        o.residual_px = p.weighted_rms_px;
        o.matches = p.matches;
        o.ref_path = items_[r.item].path;
        ++counts_.propagated;
        break;
      }
      reasons += fmt::format("from {}: {}; ", fs::path(items_[r.item].path).filename().string(),
                             p.ok ? why : p.reason);
    }
    if (!o.ok) absolute(i, reasons);
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  void absolute(int i, const std::string& propagation_reasons) {
    AcquireOutcome& o = out_[i];
    AcquireItem& it = items_[i];
    counts_.needed_solver = true;
    if (!solver_) {
      o.reason = propagation_reasons + "no plate solver available";
      return;
    }
    const fs::path work = s_.work_root / fmt::format("frame_{:06d}", i);
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    SolveRequest req;
    req.input = it.path;
    req.stars = it.stars;
    req.width = it.width;
    req.height = it.height;
    req.hint = it.hint;
    req.work_dir = work;
    SolveOutcome so;
    try {
      so = solver_->solve(req);
    } catch (const std::exception& e) {
      so.ok = false;
      so.reason = e.what();
    }
    counts_.solve_seconds += so.seconds;
    std::string why;
    std::optional<FitsHeader> cards;
    if (so.ok) cards = normalise_wcs(so.wcs, it.path, it.width, it.height, &why);
    if (!cards) {
      ++counts_.absolute_failures;
      o.reason = propagation_reasons + solver_->name() + ": " + (so.ok ? "unusable solution: " + why : so.reason);
      return;  // the scratch folder stays for diagnosis
    }
    fs::remove_all(work, ec);
    ++counts_.absolute_solves;
    o.ok = true;
    o.wcs = std::move(*cards);
    o.provenance = "solved";
    solved_.push_back(i);
  }

  // Solved references of the group, nearest in time first (at most three tries per frame).
  std::vector<Ref> nearest_refs(int i) {
    std::vector<int> cands = known_;
    cands.insert(cands.end(), solved_.begin(), solved_.end());
    std::stable_sort(cands.begin(), cands.end(), [&](int a, int b) {
      return std::fabs(items_[a].time_s - items_[i].time_s) < std::fabs(items_[b].time_s - items_[i].time_s);
    });
    if (cands.size() > 3) cands.resize(3);
    std::vector<Ref> refs;
    for (int c : cands) {
      const FitsHeader* w = items_[c].wcs ? &*items_[c].wcs : &out_[c].wcs;
      if (items_[c].wcs && items_[c].stars.empty()) items_[c].stars = ref_stars_(c);
      refs.push_back({c, w, &items_[c].stars});
    }
    return refs;
  }

  std::vector<AcquireItem>& items_;
  const WcsAcquireSettings& s_;
  const AbsoluteSolver* solver_;
  const std::function<std::vector<Star>(int)>& ref_stars_;
  std::vector<AcquireOutcome>& out_;
  std::vector<int> known_, solved_;
  GroupCounts counts_;
};

}  // namespace

std::vector<AcquireOutcome> acquire_wcs(std::vector<AcquireItem>& items, const WcsAcquireSettings& settings,
                                        const std::function<std::vector<Star>(int)>& ref_stars,
                                        AcquireSummary& summary) {
  std::vector<AcquireOutcome> out(items.size());
  summary = {};
  std::vector<SolveGroupItem> keys;
  for (const auto& it : items) keys.push_back({it.position, it.time_s});
  auto groups = group_for_solving(keys, settings.group_radius_deg, settings.group_max_gap_s);
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [&](const std::vector<int>& g) {
                                return std::none_of(g.begin(), g.end(), [&](int i) { return !items[i].wcs; });
                              }),
               groups.end());
  summary.groups = static_cast<int>(groups.size());
  if (groups.empty()) return out;

  std::string unavailable;
  const std::unique_ptr<AbsoluteSolver> solver = make_absolute_solver(settings.solver, unavailable);
  std::vector<GroupCounts> counts(groups.size());
  WorkerArena arena(settings.workers);
  arena.run([&] {
    tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t g) {
      GroupSolver gs(items, settings, solver.get(), ref_stars, out);
      counts[g] = gs.run(groups[g]);
    });
  });
  bool needed_solver = false;
  for (const auto& c : counts) {
    summary.absolute_solves += c.absolute_solves;
    summary.absolute_failures += c.absolute_failures;
    summary.propagated += c.propagated;
    summary.solve_seconds += c.solve_seconds;
    needed_solver = needed_solver || c.needed_solver;
  }
  if (needed_solver && !solver)
    summary.solver_unavailable = unavailable.empty() ? "solver is 'none'" : unavailable;
  return out;
}

}  // namespace zm
