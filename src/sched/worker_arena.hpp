// Parallel work on at most N threads: the one wrapper around tbb::task_arena that the layers use instead of making
// arenas of their own. TBB loops (parallel_for, parallel_reduce, parallel_sort, ...) started inside run() use at most
// workers() threads, the calling thread included, whatever the machine has; exceptions thrown inside propagate out
// of run() unchanged.
#pragma once

#include <tbb/task_arena.h>

#include <utility>

namespace zm {

class WorkerArena {
 public:
  // An arena of max(1, workers) threads. Several threads may call run() at once (each takes one of the slots).
  explicit WorkerArena(int workers);
  WorkerArena(const WorkerArena&) = delete;
  WorkerArena& operator=(const WorkerArena&) = delete;

  // The thread cap: at most this many threads run the arena's work at once.
  int workers() const noexcept { return workers_; }

  // Runs f() on the calling thread inside the arena and returns its result (its nested TBB loops are capped).
  template <class F>
  decltype(auto) run(F&& f) {
    return arena_.execute(std::forward<F>(f));
  }

 private:
  int workers_;
  tbb::task_arena arena_;
};

// Runs f() with its parallel work on at most `workers` threads (a one-shot WorkerArena) and returns its result.
template <class F>
decltype(auto) with_workers(int workers, F&& f) {
  WorkerArena arena(workers);
  return arena.run(std::forward<F>(f));
}

}  // namespace zm
