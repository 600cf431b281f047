#include "sched/worker_arena.hpp"

#include <tbb/info.h>

#include <algorithm>

namespace zm {
namespace {

// TBB's own worker threads never exceed the machine's concurrency minus one; asking an arena for more of them makes
// TBB print a warning. The slots TBB workers cannot fill are therefore reserved for threads that call run() (the
// scheduler's item threads join that way); a single caller then gets what the machine can give, as before.
unsigned reserved_for_callers(int workers) {
  const int tbb_workers = std::max(0, tbb::info::default_concurrency() - 1);
  return static_cast<unsigned>(std::clamp(workers - tbb_workers, 1, workers));
}

}  // namespace

WorkerArena::WorkerArena(int workers)
    : workers_(std::max(1, workers)), arena_(workers_, reserved_for_callers(workers_)) {}

}  // namespace zm
