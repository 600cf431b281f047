// The bounded scheduler under stress: memory admission, in-order commits, cancellation, failures, GPU slots.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <tbb/parallel_reduce.h>
#include <tbb/blocked_range.h>
#include <tbb/task_arena.h>

#include "sched/scheduler.hpp"

namespace zm {
namespace {

struct Item {
  std::size_t index;
  std::uint64_t bytes;
  int sleep_us;
};

std::vector<Item> random_items(std::size_t n, std::uint64_t budget, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint64_t> size(1, budget / 3);
  std::uniform_int_distribution<int> sleep(0, 1500);
  std::bernoulli_distribution oversize(0.04);
  std::vector<Item> items;
  for (std::size_t i = 0; i < n; ++i) items.push_back({i, oversize(rng) ? budget + size(rng) : size(rng), sleep(rng)});
  return items;
}

// Independent view of the memory in use: added when an item starts working, removed when it is committed (a
// subset of the scheduler's accounting, which starts earlier and ends later).
class InflightProbe {
 public:
  void start(std::uint64_t bytes, std::uint64_t budget) {
    std::lock_guard lk(m_);
    bytes_ += bytes;
    ++running_;
    const bool alone_oversize = bytes > budget && bytes_ == bytes;
    if (bytes_ > budget && !alone_oversize) ++violations_;
    peak_ = std::max(peak_, bytes_);
  }
  void stop_running() {
    std::lock_guard lk(m_);
    --running_;
  }
  void release(std::uint64_t bytes) {
    std::lock_guard lk(m_);
    bytes_ -= bytes;
  }
  int violations() const { return violations_; }
  std::uint64_t peak() const { return peak_; }

 private:
  std::mutex m_;
  std::uint64_t bytes_ = 0;
  int running_ = 0;
  int violations_ = 0;
  std::uint64_t peak_ = 0;
};

void busy_sleep(int us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

TEST(Scheduler, StressRandomSizesStayWithinBudgetAndCommitInOrder) {
  constexpr std::uint64_t kBudget = 1000;
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto items = random_items(300, kBudget, seed);
    InflightProbe probe;
    std::vector<std::size_t> committed;
    std::vector<std::uint64_t> values;
    SchedOptions opt;
    opt.workers = 4;
    opt.memory_budget_bytes = kBudget;
    const RunSummary s = run_items<Item>(
        items, [](const Item& it) { return it.bytes; },
        [&](const Item& it, WorkContext& ctx) {
          EXPECT_EQ(ctx.index(), it.index);
          probe.start(it.bytes, kBudget);
          busy_sleep(it.sleep_us);
          probe.stop_running();
          return it.index * 7 + 1;
        },
        [&](const Item& it, std::uint64_t&& v) {
          committed.push_back(it.index);
          values.push_back(v);
          probe.release(it.bytes);
        },
        opt);
    EXPECT_EQ(probe.violations(), 0) << "seed " << seed;
    ASSERT_EQ(committed.size(), items.size());
    for (std::size_t i = 0; i < committed.size(); ++i) {
      ASSERT_EQ(committed[i], i) << "commits must follow submission order";
      ASSERT_EQ(values[i], i * 7 + 1);
    }
    std::uint64_t largest = 0;
    for (const auto& it : items) largest = std::max(largest, it.bytes);
    EXPECT_LE(s.peak_inflight_bytes, std::max(kBudget, largest));
    EXPECT_EQ(s.committed, items.size());
    EXPECT_FALSE(s.cancelled);
    EXPECT_TRUE(s.failed.empty());
    EXPECT_GE(s.peak_running, 2) << "items should overlap";
    EXPECT_LE(s.peak_running, 4);
  }
}

TEST(Scheduler, OversizeItemRunsAlone) {
  const std::vector<Item> items = {{0, 100, 2000}, {1, 100, 2000}, {2, 5000, 3000}, {3, 100, 2000}, {4, 100, 0}};
  std::atomic<int> running{0};
  std::atomic<bool> overlap{false};
  SchedOptions opt;
  opt.workers = 4;
  opt.memory_budget_bytes = 1000;
  const RunSummary s = run_items<Item>(
      items, [](const Item& it) { return it.bytes; },
      [&](const Item& it, WorkContext&) {
        const int now = ++running;
        if (it.bytes > 1000 && now != 1) overlap = true;
        busy_sleep(it.sleep_us);
        if (it.bytes > 1000 && running.load() != 1) overlap = true;
        --running;
      },
      [](const Item&) {}, opt);
  EXPECT_FALSE(overlap.load());
  EXPECT_EQ(s.committed, 5u);
  EXPECT_EQ(s.peak_inflight_bytes, 5000u);
}

TEST(Scheduler, ResultsDoNotDependOnWorkerCount) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 200; ++i) items.push_back({i, 1, static_cast<int>((i * 37) % 300)});
  auto run_with = [&](int workers) {
    float sum = 0.0f;  // float accumulation is order-sensitive: equal sums prove equal order
    SchedOptions opt;
    opt.workers = workers;
    run_items<Item>(
        items, [](const Item&) { return 1; },
        [](const Item& it, WorkContext&) {
          busy_sleep(it.sleep_us);
          return 1.0f / static_cast<float>(it.index + 3);
        },
        [&](const Item&, float&& v) { sum += v; }, opt);
    return sum;
  };
  const float one = run_with(1);
  EXPECT_EQ(one, run_with(3));
  EXPECT_EQ(one, run_with(8));
}

TEST(Scheduler, CancellationCommitsAPrefixAndNothingHalfway) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 400; ++i) items.push_back({i, 10, 500});
  CancelToken token;
  std::vector<int> state(items.size(), 0);  // 0 untouched, 1 commit started, 2 commit finished
  std::atomic<int> aborted{0};
  SchedOptions opt;
  opt.workers = 4;
  opt.memory_budget_bytes = 60;
  opt.cancel = &token;
  const RunSummary s = run_items<Item>(
      items, [](const Item& it) { return it.bytes; },
      [&](const Item& it, WorkContext& ctx) {
        if (it.index == 60) token.request();
        busy_sleep(it.sleep_us);
        if (ctx.cancelled() && it.index % 2 == 1) {
          ++aborted;
          throw Cancelled();  // some running items give up, others finish
        }
        return it.index;
      },
      [&](const Item& it, std::size_t&& v) {
        EXPECT_EQ(v, it.index);
        state[it.index] = 1;
        busy_sleep(50);
        state[it.index] = 2;
      },
      opt);
  EXPECT_TRUE(s.cancelled);
  EXPECT_GT(s.committed, 0u);
  EXPECT_LT(s.committed, items.size());
  EXPECT_EQ(s.not_committed, items.size() - s.committed);
  for (std::size_t i = 0; i < items.size(); ++i) {
    ASSERT_NE(state[i], 1) << "item " << i << " half-committed";
    ASSERT_EQ(state[i] == 2, i < s.committed) << "committed items must be a prefix, item " << i;
  }
}

TEST(Scheduler, SigintCancelsThroughTheInstalledHandler) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 100; ++i) items.push_back({i, 1, 300});
  CancelToken token;
  install_cancel_signal_handlers(token);
  SchedOptions opt;
  opt.workers = 2;
  opt.cancel = &token;
  std::size_t commits = 0;
  const RunSummary s = run_items<Item>(
      items, [](const Item&) { return 1; },
      [&](const Item& it, WorkContext&) {
        if (it.index == 10) std::raise(SIGINT);
        busy_sleep(it.sleep_us);
      },
      [&](const Item&) { ++commits; }, opt);
  remove_cancel_signal_handlers();
  EXPECT_TRUE(token.requested());
  EXPECT_EQ(token.signal_number(), SIGINT);
  EXPECT_TRUE(s.cancelled);
  EXPECT_EQ(commits, s.committed);
  EXPECT_GE(s.committed, 10u);
  EXPECT_LT(s.committed, items.size());
}

TEST(Scheduler, FailureStopsTheRunWithTheItemsIdentity) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 120; ++i) items.push_back({i, 1, 200});
  std::vector<std::size_t> committed;
  SchedOptions opt;
  opt.workers = 4;
  opt.item_name = [](std::size_t i) { return "frame_" + std::to_string(i) + ".fits"; };
  try {
    run_items<Item>(
        items, [](const Item&) { return 1; },
        [](const Item& it, WorkContext&) {
          busy_sleep(it.sleep_us);
          if (it.index == 37) throw std::runtime_error("truncated file");
          return it.index;
        },
        [&](const Item&, std::size_t&& v) { committed.push_back(v); }, opt);
    FAIL() << "expected ItemFailedError";
  } catch (const ItemFailedError& e) {
    EXPECT_EQ(e.failure().index, 37u);
    EXPECT_EQ(e.failure().name, "frame_37.fits");
    EXPECT_EQ(e.failure().message, "truncated file");
    EXPECT_NE(std::string(e.what()).find("frame_37.fits"), std::string::npos);
  }
  ASSERT_EQ(committed.size(), 37u);  // everything before the failure, nothing after
  for (std::size_t i = 0; i < committed.size(); ++i) EXPECT_EQ(committed[i], i);
}

TEST(Scheduler, SkipModeReportsFailuresAndCompletesTheOthers) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 60; ++i) items.push_back({i, 1, 100});
  std::vector<std::size_t> committed, reported;
  SchedOptions opt;
  opt.workers = 3;
  opt.on_error = OnItemError::skip;
  opt.on_item_failed = [&](const ItemFailure& f) { reported.push_back(f.index); };
  const RunSummary s = run_items<Item>(
      items, [](const Item&) { return 1; },
      [](const Item& it, WorkContext&) {
        busy_sleep(it.sleep_us);
        if (it.index == 5 || it.index == 17) throw std::runtime_error("bad pixels in " + std::to_string(it.index));
        return it.index;
      },
      [&](const Item&, std::size_t&& v) { committed.push_back(v); }, opt);
  ASSERT_EQ(s.failed.size(), 2u);
  EXPECT_EQ(s.failed[0].index, 5u);
  EXPECT_EQ(s.failed[0].name, "item 5");
  EXPECT_EQ(s.failed[0].message, "bad pixels in 5");
  EXPECT_EQ(s.failed[1].index, 17u);
  EXPECT_EQ(reported, (std::vector<std::size_t>{5, 17}));
  EXPECT_EQ(s.committed, 58u);
  ASSERT_EQ(committed.size(), 58u);
  for (std::size_t k = 1; k < committed.size(); ++k) EXPECT_LT(committed[k - 1], committed[k]);
}

TEST(Scheduler, CommitExceptionPropagatesAfterDraining) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 50; ++i) items.push_back({i, 1, 100});
  std::atomic<int> running{0};
  SchedOptions opt;
  opt.workers = 4;
  EXPECT_THROW(run_items<Item>(
                   items, [](const Item&) { return 1; },
                   [&](const Item& it, WorkContext&) {
                     ++running;
                     busy_sleep(it.sleep_us);
                     --running;
                   },
                   [](const Item& it) {
                     if (it.index == 9) throw std::runtime_error("disk full");
                   },
                   opt),
               std::runtime_error);
  EXPECT_EQ(running.load(), 0) << "no worker may outlive the run";
}

TEST(Scheduler, GpuSlotsBoundConcurrentGpuWork) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 40; ++i) items.push_back({i, 1, 300});
  std::atomic<int> on_gpu{0}, worst{0};
  SchedOptions opt;
  opt.workers = 4;
  opt.gpu_slots = 1;
  const RunSummary s = run_items<Item>(
      items, [](const Item&) { return 1; },
      [&](const Item& it, WorkContext& ctx) {
        busy_sleep(it.sleep_us);  // CPU part runs concurrently
        auto slot = ctx.acquire_gpu();
        const int now = ++on_gpu;
        int w = worst.load();
        while (now > w && !worst.compare_exchange_weak(w, now)) {
        }
        busy_sleep(200);
        --on_gpu;
      },
      [](const Item&) {}, opt);
  EXPECT_EQ(worst.load(), 1);
  EXPECT_EQ(s.peak_gpu_in_use, 1);
  EXPECT_GE(s.peak_running, 2);
}

TEST(Scheduler, GpuRequestWithoutSlotsIsAnItemFailure) {
  const std::vector<Item> items = {{0, 1, 0}};
  SchedOptions opt;
  opt.on_error = OnItemError::skip;
  const RunSummary s = run_items<Item>(
      items, [](const Item&) { return 1; }, [](const Item&, WorkContext& ctx) { auto slot = ctx.acquire_gpu(); },
      [](const Item&) {}, opt);
  ASSERT_EQ(s.failed.size(), 1u);
  EXPECT_NE(s.failed[0].message.find("gpu_concurrency 0"), std::string::npos);
}

TEST(Scheduler, PendingWindowBoundsUncommittedResults) {
  // Item 0 is slow: later items finish first but at most max_pending may wait for it.
  std::vector<Item> items;
  for (std::size_t i = 0; i < 40; ++i) items.push_back({i, 1, i == 0 ? 20000 : 100});
  std::atomic<int> started_while_0_runs{0};
  std::atomic<bool> zero_done{false};
  SchedOptions opt;
  opt.workers = 4;
  opt.max_pending = 6;
  run_items<Item>(
      items, [](const Item&) { return 1; },
      [&](const Item& it, WorkContext&) {
        if (it.index > 0 && !zero_done) ++started_while_0_runs;
        busy_sleep(it.sleep_us);
        if (it.index == 0) zero_done = true;
      },
      [](const Item&) {}, opt);
  EXPECT_LE(started_while_0_runs.load(), 5);
}

TEST(Scheduler, InFlightItemsAndArenaThreadsAreSeparateLimits) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < 12; ++i) items.push_back({i, 1, 1000});
  std::atomic<int> running{0}, worst{0}, arena_size{0};
  SchedOptions opt;
  opt.workers = 6;        // cpu_workers: the arena nested loops may use
  opt.max_in_flight = 2;  // tiles_in_flight
  std::vector<long> sums;
  const RunSummary s = run_items<Item>(
      items, [](const Item&) { return 1; },
      [&](const Item& it, WorkContext&) {
        const int now = ++running;
        int w = worst.load();
        while (now > w && !worst.compare_exchange_weak(w, now)) {
        }
        arena_size = tbb::this_task_arena::max_concurrency();
        const long sum = tbb::parallel_reduce(
            tbb::blocked_range<long>(0, 100000), 0L,
            [](const tbb::blocked_range<long>& r, long acc) {
              for (long k = r.begin(); k != r.end(); ++k) acc += k % 7;
              return acc;
            },
            std::plus<long>());
        busy_sleep(it.sleep_us);
        --running;
        return sum + static_cast<long>(it.index);
      },
      [&](const Item&, long&& v) { sums.push_back(v); }, opt);
  EXPECT_LE(worst.load(), 2);
  EXPECT_EQ(s.peak_running, worst.load());
  EXPECT_EQ(arena_size.load(), 6);
  ASSERT_EQ(sums.size(), 12u);
  for (std::size_t i = 0; i < sums.size(); ++i) EXPECT_EQ(sums[i], sums[0] + static_cast<long>(i));
}

// The failure of one item under OnItemError::rethrow: its own exception type comes out, and exactly the items before
// it are committed, in order, whatever order the items completed in.
struct DiskGone : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST(Scheduler, RethrowModeKeepsTheExceptionTypeAndCommitsThePrefixInOrder) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> sleep(0, 2000);
    const std::size_t bad = 10 + seed * 3;
    std::vector<int> sleeps(40);
    for (int& us : sleeps) us = sleep(rng);
    std::vector<std::size_t> committed;
    const std::thread::id caller = std::this_thread::get_id();
    bool commits_on_caller = true;
    IndexedItems items;
    items.count = sleeps.size();
    items.footprint = [](std::size_t) { return std::uint64_t{1}; };
    items.work = [&](std::size_t i, WorkContext&) {
      busy_sleep(sleeps[i]);
      if (i == bad) throw DiskGone("tile " + std::to_string(i));
    };
    items.commit = [&](std::size_t i) {
      commits_on_caller = commits_on_caller && std::this_thread::get_id() == caller;
      committed.push_back(i);
    };
    items.discard = [](std::size_t) {};
    SchedOptions opt;
    opt.workers = 4;
    opt.on_error = OnItemError::rethrow;
    EXPECT_THROW(run_indexed(items, opt), DiskGone);
    ASSERT_EQ(committed.size(), bad) << "seed " << seed;
    for (std::size_t k = 0; k < committed.size(); ++k) EXPECT_EQ(committed[k], k);
    EXPECT_TRUE(commits_on_caller);
  }
}

TEST(Scheduler, OrderedCommitsUnderRandomCompletionOrderAndABudget) {
  // The coadd's use: equal-sized items, a budget admitting three at a time, results committed in input order.
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> sleep(0, 1500);
  std::vector<int> sleeps(60);
  for (int& us : sleeps) us = sleep(rng);
  std::atomic<int> running{0}, worst{0};
  std::vector<int> results(sleeps.size(), -1);
  std::vector<std::size_t> committed;
  IndexedItems items;
  items.count = sleeps.size();
  items.footprint = [](std::size_t) { return std::uint64_t{100}; };
  items.work = [&](std::size_t i, WorkContext&) {
    const int now = ++running;
    int w = worst.load();
    while (now > w && !worst.compare_exchange_weak(w, now)) {
    }
    busy_sleep(sleeps[i]);
    results[i] = static_cast<int>(i) * 3;
    --running;
  };
  items.commit = [&](std::size_t i) {
    EXPECT_EQ(results[i], static_cast<int>(i) * 3);
    committed.push_back(i);
  };
  items.discard = [](std::size_t) {};
  SchedOptions opt;
  opt.workers = 8;
  opt.memory_budget_bytes = 350;
  opt.on_error = OnItemError::rethrow;
  const RunSummary s = run_indexed(items, opt);
  EXPECT_FALSE(s.cancelled);
  EXPECT_LE(worst.load(), 3);
  EXPECT_LE(s.peak_inflight_bytes, 300u);
  ASSERT_EQ(committed.size(), sleeps.size());
  for (std::size_t k = 0; k < committed.size(); ++k) EXPECT_EQ(committed[k], k);
}

TEST(Scheduler, EmptyAndSingle) {
  const std::vector<Item> none;
  EXPECT_EQ(run_items<Item>(none, [](const Item&) { return 1; }, [](const Item&, WorkContext&) {}, [](const Item&) {}, {})
                .committed,
            0u);
  const std::vector<Item> one = {{0, 1, 0}};
  EXPECT_EQ(run_items<Item>(one, [](const Item&) { return 1; }, [](const Item&, WorkContext&) {}, [](const Item&) {}, {})
                .committed,
            1u);
}

}  // namespace
}  // namespace zm
