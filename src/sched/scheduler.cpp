#include "sched/scheduler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "sched/worker_arena.hpp"

namespace zm {

ItemFailedError::ItemFailedError(ItemFailure f)
    : std::runtime_error(fmt::format("{} (#{}) failed: {}", f.name, f.index, f.message)), failure_(std::move(f)) {}

GpuSemaphore::Slot WorkContext::acquire_gpu() const {
  if (gpu_ == nullptr) throw std::logic_error("GPU slot requested but the plan allows no GPU job (gpu_concurrency 0)");
  return gpu_->acquire(cancel_);
}

namespace {

// A signal handler cannot notify a condition variable, so waiting threads poll the cancel token this often.
constexpr auto kCancelPoll = std::chrono::milliseconds(20);

enum class State { waiting, running, done, failed, aborted };

class Run {
 public:
  Run(const IndexedItems& items, const SchedOptions& opt)
      : items_(items),
        opt_(opt),
        workers_(std::max(1, opt.workers)),
        in_flight_(opt.max_in_flight > 0 ? std::min(opt.max_in_flight, workers_) : workers_),
        max_pending_(opt.max_pending > 0 ? opt.max_pending : 4 * static_cast<std::size_t>(in_flight_)),
        state_(items.count, State::waiting),
        footprint_(items.count),
        messages_(items.count),
        errors_(items.count),
        gpu_(std::max(0, opt.gpu_slots)),
        // Our item threads join the arena through run() and may take any slot; TBB's own workers only help nested
        // parallelism.
        arena_(workers_) {
    for (std::size_t i = 0; i < items.count; ++i) footprint_[i] = items.footprint ? items.footprint(i) : 0;
    summary_.total = items.count;
  }

  RunSummary execute() {
    std::vector<std::thread> threads;
    const int n_threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(in_flight_), items_.count));
    for (int t = 0; t < n_threads; ++t) threads.emplace_back([this] { worker_loop(); });
    commit_loop();
    for (auto& t : threads) t.join();
    summary_.peak_gpu_in_use = gpu_.peak_in_use();
    summary_.not_committed = items_.count - summary_.committed - summary_.failed.size();
    if (commit_error_) std::rethrow_exception(commit_error_);
    if (fatal_ && opt_.on_error == OnItemError::rethrow) std::rethrow_exception(errors_[fatal_->index]);
    if (fatal_) throw ItemFailedError(*fatal_);
    return summary_;
  }

 private:
  std::string name_of(std::size_t i) const {
    if (opt_.item_name) {
      try {
        return opt_.item_name(i);
      } catch (...) {
      }
    }
    return fmt::format("item {}", i);
  }

  bool cancel_requested() const { return opt_.cancel != nullptr && opt_.cancel->requested(); }

  // Under the lock.
  void observe_cancel() {
    if (!stop_ && cancel_requested()) {
      stop_ = true;
      summary_.cancelled = true;
    }
  }

  // Under the lock: may the next item start now?
  bool admissible() const {
    const std::size_t i = next_admit_;
    if (i >= items_.count || i >= next_commit_ + max_pending_) return false;
    const std::uint64_t budget = opt_.memory_budget_bytes;
    return budget == 0 || inflight_ == 0 || inflight_ + footprint_[i] <= budget;
  }

  void worker_loop() {
    std::unique_lock lk(m_);
    for (;;) {
      while (!stop_ && next_admit_ < items_.count && !admissible()) {
        admit_cv_.wait_for(lk, kCancelPoll);
        observe_cancel();
      }
      observe_cancel();
      if (stop_ || next_admit_ >= items_.count) return;
      const std::size_t i = next_admit_++;
      inflight_ += footprint_[i];
      ++running_;
      state_[i] = State::running;
      summary_.peak_inflight_bytes = std::max(summary_.peak_inflight_bytes, inflight_);
      summary_.peak_running = std::max(summary_.peak_running, running_);
      lk.unlock();
      std::string message;
      std::exception_ptr error;
      const State outcome = run_one(i, message, error);
      lk.lock();
      state_[i] = outcome;
      messages_[i] = std::move(message);
      errors_[i] = std::move(error);
      --running_;
      if (outcome == State::failed && opt_.on_error != OnItemError::skip) stop_ = true;
      commit_cv_.notify_one();
      if (stop_) admit_cv_.notify_all();
    }
  }

  State run_one(std::size_t i, std::string& message, std::exception_ptr& error) {
    try {
      WorkContext ctx(i, opt_.cancel, opt_.gpu_slots > 0 ? &gpu_ : nullptr);
      arena_.run([&] { items_.work(i, ctx); });
      return State::done;
    } catch (const Cancelled&) {
      return State::aborted;
    } catch (const std::exception& e) {
      message = e.what();
      error = std::current_exception();
    } catch (...) {
      message = "unknown exception";
      error = std::current_exception();
    }
    return State::failed;
  }

  bool finished(State s) const { return s == State::done || s == State::failed || s == State::aborted; }

  void commit_loop() {
    std::unique_lock lk(m_);
    while (next_commit_ < items_.count) {
      const std::size_t i = next_commit_;
      if (!finished(state_[i])) {
        if (stop_ && i >= next_admit_) break;  // never admitted and never will be
        commit_cv_.wait_for(lk, kCancelPoll);
        if (!stop_ && cancel_requested()) {
          observe_cancel();
          admit_cv_.notify_all();
        }
        continue;
      }
      handle_finished(i, lk);
      inflight_ -= footprint_[i];
      ++next_commit_;
      admit_cv_.notify_all();
    }
    stop_ = true;  // a break above leaves workers waiting for admission: release them
    admit_cv_.notify_all();
    // Items still running past a gap finish before their results are dropped.
    while (running_ > 0) commit_cv_.wait_for(lk, kCancelPoll);
    for (std::size_t i = next_commit_; i < items_.count; ++i)
      if (state_[i] == State::done) items_.discard(i);
  }

  // Under the lock (released around user callbacks).
  void handle_finished(std::size_t i, std::unique_lock<std::mutex>& lk) {
    const State s = state_[i];
    if (s == State::done && !halted_) {
      lk.unlock();
      try {
        items_.commit(i);
        if (opt_.on_item_committed) opt_.on_item_committed(i);
      } catch (...) {
        lk.lock();
        commit_error_ = std::current_exception();
        halted_ = stop_ = true;
        return;
      }
      lk.lock();
      ++summary_.committed;
    } else if (s == State::done) {
      items_.discard(i);
    } else if (s == State::failed && !halted_) {
      ItemFailure f{i, name_of(i), messages_[i]};
      if (opt_.on_error == OnItemError::skip) {
        lk.unlock();
        if (opt_.on_item_failed) opt_.on_item_failed(f);
        lk.lock();
        summary_.failed.push_back(std::move(f));
      } else {
        fatal_ = std::move(f);
        halted_ = stop_ = true;
      }
    } else if (s == State::aborted) {
      halted_ = true;  // later results would be committed out of order: drop them
    }
  }

  const IndexedItems& items_;
  const SchedOptions& opt_;
  const int workers_;
  const int in_flight_;
  const std::size_t max_pending_;

  std::mutex m_;
  std::condition_variable admit_cv_, commit_cv_;
  std::vector<State> state_;
  std::vector<std::uint64_t> footprint_;
  std::vector<std::string> messages_;
  std::vector<std::exception_ptr> errors_;  // the failed items' own exceptions (rethrown in rethrow mode)
  std::size_t next_admit_ = 0, next_commit_ = 0;
  std::uint64_t inflight_ = 0;
  int running_ = 0;
  bool stop_ = false;    // no more admissions
  bool halted_ = false;  // no more commits
  std::optional<ItemFailure> fatal_;
  std::exception_ptr commit_error_;
  RunSummary summary_;
  GpuSemaphore gpu_;
  WorkerArena arena_;
};

}  // namespace

RunSummary run_indexed(const IndexedItems& items, const SchedOptions& options) {
  if (items.count == 0) return RunSummary{};
  Run run(items, options);
  return run.execute();
}

}  // namespace zm
