// The bounded scheduler: runs independent work items on the plan's workers under a memory budget and commits
// their results in submission order.
//
// Admission is in submission order. Item i starts when a worker is free, i is within `max_pending` of the next
// item to commit, and its declared footprint fits: in-flight + footprint <= budget, or nothing is in flight (an
// item larger than the budget then runs alone and must chunk itself). An item's bytes count as in flight from
// admission until its result is committed, so results waiting for an earlier item still count.
//
// Results are committed on the calling thread, one at a time, in submission order whatever the completion order:
// the committed items are always a prefix of the submission order, minus items that failed under
// OnItemError::skip. On cancellation (CancelToken) admission stops, running items finish (or throw Cancelled),
// completed items up to the first gap are committed, and the rest are discarded: nothing is half-committed and a
// resumed run can continue from the first uncommitted item.
//
// Items run inside one WorkerArena (worker_arena.hpp) of `workers` threads (cpu_workers), at most `max_in_flight`
// (tiles_in_flight) at once, so tbb::parallel_for inside an item uses the idle workers without oversubscribing the
// plan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "sched/cancel_token.hpp"
#include "sched/gpu_semaphore.hpp"

namespace zm {

// What an item's work function can see of the scheduler.
class WorkContext {
 public:
  WorkContext(std::size_t index, const CancelToken* cancel, GpuSemaphore* gpu)
      : index_(index), cancel_(cancel), gpu_(gpu) {}
  std::size_t index() const noexcept { return index_; }
  bool cancelled() const noexcept { return cancel_ != nullptr && cancel_->requested(); }
  void throw_if_cancelled() const {
    if (cancelled()) throw Cancelled();
  }
  // Waits for a GPU slot (the plan's gpu_concurrency); throws std::logic_error when the run has no GPU slots.
  GpuSemaphore::Slot acquire_gpu() const;

 private:
  std::size_t index_;
  const CancelToken* cancel_;
  GpuSemaphore* gpu_;
};

enum class OnItemError {
  stop,     // stop admitting, finish running items, commit the prefix before the failure, throw ItemFailedError
  skip,     // report the item in RunSummary::failed, commit the others
  rethrow,  // as stop, but throw the failed item's own exception (its type kept) instead of ItemFailedError
};

struct ItemFailure {
  std::size_t index = 0;
  std::string name;
  std::string message;
};

// A failed item under OnItemError::stop, with its identity.
class ItemFailedError : public std::runtime_error {
 public:
  explicit ItemFailedError(ItemFailure f);
  const ItemFailure& failure() const noexcept { return failure_; }

 private:
  ItemFailure failure_;
};

struct SchedOptions {
  int workers = 1;                        // threads of the arena: the plan's cpu_workers
  int max_in_flight = 0;                  // items running at once, at most `workers` (0 = workers): the plan's
                                          // tiles_in_flight; idle arena threads help items' nested tbb loops
  std::uint64_t memory_budget_bytes = 0;  // 0 = no memory admission
  int gpu_slots = 0;                      // the plan's gpu_concurrency (0 = no GPU)
  std::size_t max_pending = 0;            // admitted but uncommitted items at most (0 = 4 x max_in_flight)
  OnItemError on_error = OnItemError::stop;
  const CancelToken* cancel = nullptr;
  std::function<std::string(std::size_t)> item_name;        // for failures (default "item <index>")
  std::function<void(const ItemFailure&)> on_item_failed;    // skip mode: called on the committing thread
  std::function<void(std::size_t)> on_item_committed;        // progress hook, after each commit
};

struct RunSummary {
  std::size_t total = 0;
  std::size_t committed = 0;
  std::vector<ItemFailure> failed;  // skip mode, in submission order
  bool cancelled = false;
  std::size_t not_committed = 0;    // admitted-or-not items left uncommitted because of cancellation
  std::uint64_t peak_inflight_bytes = 0;
  int peak_running = 0;
  int peak_gpu_in_use = 0;
};

// The type-erased core. `work` stores its result wherever `commit` (called in order on the calling thread) or
// `discard` (results that will never be committed) find it.
struct IndexedItems {
  std::size_t count = 0;
  std::function<std::uint64_t(std::size_t)> footprint;
  std::function<void(std::size_t, WorkContext&)> work;
  std::function<void(std::size_t)> commit;
  std::function<void(std::size_t)> discard;
};
RunSummary run_indexed(const IndexedItems& items, const SchedOptions& options);

// run_items(items, footprint(item) -> bytes, work(item, ctx) -> Result, commit(item, Result&&), options).
// With a void work function, commit is commit(item).
template <class Item, class FootprintFn, class WorkFn, class CommitFn>
RunSummary run_items(std::span<const Item> items, FootprintFn footprint, WorkFn work, CommitFn commit,
                     const SchedOptions& options) {
  using Result = std::invoke_result_t<WorkFn&, const Item&, WorkContext&>;
  IndexedItems core;
  core.count = items.size();
  core.footprint = [&](std::size_t i) { return static_cast<std::uint64_t>(footprint(items[i])); };
  if constexpr (std::is_void_v<Result>) {
    core.work = [&](std::size_t i, WorkContext& ctx) { work(items[i], ctx); };
    core.commit = [&](std::size_t i) { commit(items[i]); };
    core.discard = [](std::size_t) {};
    return run_indexed(core, options);
  } else {
    std::vector<std::optional<Result>> results(items.size());
    core.work = [&](std::size_t i, WorkContext& ctx) { results[i].emplace(work(items[i], ctx)); };
    core.commit = [&](std::size_t i) {
      commit(items[i], std::move(*results[i]));
      results[i].reset();
    };
    core.discard = [&](std::size_t i) { results[i].reset(); };
    return run_indexed(core, options);
  }
}

}  // namespace zm
