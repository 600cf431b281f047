// WorkerArena / with_workers: the thread cap holds for nested TBB loops, results come back, exceptions propagate.
#include <gtest/gtest.h>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include "sched/worker_arena.hpp"

namespace zm {
namespace {

// Most threads seen at once inside a parallel_for of sleeping iterations run in the current arena.
int peak_concurrency() {
  std::atomic<int> running{0}, worst{0};
  tbb::parallel_for(0, 48, [&](int) {
    const int now = ++running;
    int w = worst.load();
    while (now > w && !worst.compare_exchange_weak(w, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --running;
  });
  return worst.load();
}

TEST(WorkerArena, CapsTheThreadsOfNestedLoops) {
  for (int cap : {1, 2, 3}) {
    WorkerArena arena(cap);
    EXPECT_EQ(arena.workers(), cap);
    const int seen = arena.run(peak_concurrency);
    EXPECT_GE(seen, 1);
    EXPECT_LE(seen, cap) << "cap " << cap;
    EXPECT_EQ(arena.run([] { return tbb::this_task_arena::max_concurrency(); }), cap);
  }
  EXPECT_EQ(with_workers(1, peak_concurrency), 1);
}

TEST(WorkerArena, AtLeastOneWorker) {
  EXPECT_EQ(WorkerArena(0).workers(), 1);
  EXPECT_EQ(WorkerArena(-4).workers(), 1);
  EXPECT_EQ(with_workers(0, [] { return tbb::this_task_arena::max_concurrency(); }), 1);
}

TEST(WorkerArena, ReturnsResultsAndRunsRepeatedly) {
  WorkerArena arena(2);
  for (int k = 0; k < 3; ++k) {
    const long sum = arena.run([] {
      return tbb::parallel_reduce(
          tbb::blocked_range<long>(0, 10000), 0L,
          [](const tbb::blocked_range<long>& r, long acc) {
            for (long i = r.begin(); i != r.end(); ++i) acc += i;
            return acc;
          },
          std::plus<long>());
    });
    EXPECT_EQ(sum, 10000L * 9999 / 2);
  }
  int side = 0;
  arena.run([&] { side = 7; });
  EXPECT_EQ(side, 7);
}

TEST(WorkerArena, ExceptionsPropagateWithTheirType) {
  EXPECT_THROW(with_workers(2, []() -> int { throw std::out_of_range("direct"); }), std::out_of_range);
  WorkerArena arena(2);
  EXPECT_THROW(arena.run([] {
                 tbb::parallel_for(0, 100, [](int i) {
                   if (i == 37) throw std::invalid_argument("from a nested loop");
                 });
               }),
               std::invalid_argument);
  EXPECT_EQ(arena.run([] { return 5; }), 5) << "the arena stays usable after an exception";
}

}  // namespace
}  // namespace zm
