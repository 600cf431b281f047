// EventStream delivery: sinks run outside the lock (a sink may emit), one order for the file and every sink, emit
// returns once its event is delivered, and a failing events file is reported instead of losing events silently.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>

#include "events/event_keys.hpp"
#include "events/event_stream.hpp"
#include "events_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace ek = event_keys;
using namespace std::chrono_literals;

// Keeps every event it receives as its JSON line (what the file holds for it).
class LineSink : public EventSink {
 public:
  void on_event(const Event& e) override {
    std::lock_guard lock(m_);
    lines_.push_back(EventStream::to_line(e));
    keys_.push_back(e.key);
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(m_);
    return lines_;
  }
  std::vector<std::string> keys() const {
    std::lock_guard lock(m_);
    return keys_;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::string> lines_, keys_;
};

std::vector<std::string> file_lines(const std::filesystem::path& p) {
  std::vector<std::string> out;
  for (const auto& j : test::read_events(p)) out.push_back(j.dump());
  return out;
}

std::vector<std::string> reparsed(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(nlohmann::json::parse(l).dump());
  return out;
}

// Runs `body` on another thread; a body still running after `limit` is a deadlock: the test process stops there
// (a deadlocked thread cannot be joined).
void run_or_abort(const std::function<void()>& body, std::chrono::seconds limit) {
  auto done = std::async(std::launch::async, body);
  if (done.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "deadlock: the body did not finish within %lld s\n", static_cast<long long>(limit.count()));
    std::_Exit(1);
  }
  done.get();
}

TEST(EventStream, ASinkThatEmitsDoesNotDeadlockAndItsEventFollows) {
  test::TempDir dir("stream");
  const auto path = dir / "e.jsonl";
  auto before = std::make_shared<LineSink>();
  auto after = std::make_shared<LineSink>();
  struct Echo : EventSink {
    EventStream* events = nullptr;
    std::shared_ptr<LineSink> watched;
    bool echo_seen_inside = true;
    void on_event(const Event& e) override {
      if (e.key != "PING") return;
      events->info("ECHO", {{"of", e.t}});
      // Queued only: the sink after this one has not even got PING yet, nobody has got ECHO.
      echo_seen_inside = !watched->keys().empty();
    }
  };
  auto echo = std::make_shared<Echo>();
  run_or_abort(
      [&] {
        EventStreamOptions o;
        o.events_path = path;
        EventStream events(o);
        echo->events = &events;
        echo->watched = after;
        events.add_sink(before);
        events.add_sink(echo);
        events.add_sink(after);
        events.info("PING");
        EXPECT_EQ(after->keys(), (std::vector<std::string>{"PING", "ECHO"})) << "emit returns after the echo too";
        events.info("LAST");
      },
      30s);
  EXPECT_FALSE(echo->echo_seen_inside);
  const std::vector<std::string> order = {"PING", "ECHO", "LAST"};
  EXPECT_EQ(before->keys(), order);
  EXPECT_EQ(after->keys(), order);
  const auto file = test::read_events(path);
  ASSERT_EQ(file.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(file[i]["key"], order[i]);
  EXPECT_EQ(file_lines(path), reparsed(after->lines()));
}

TEST(EventStream, ManyThreadsGiveTheFileAndEverySinkOneOrder) {
  test::TempDir dir("stream");
  const auto path = dir / "e.jsonl";
  constexpr int kThreads = 8, kEach = 250;
  auto a = std::make_shared<LineSink>();
  auto b = std::make_shared<LineSink>();
  struct Chatty : EventSink {  // a slow sink that also emits now and then
    EventStream* events = nullptr;
    void on_event(const Event& e) override {
      if (e.key == "TICK" && e.fields.value("i", 0) % 50 == 0) events->debug("TICK_ECHO", {{"of", e.fields}});
      std::this_thread::yield();
    }
  };
  auto chatty = std::make_shared<Chatty>();
  std::atomic<double> now{0.0};
  run_or_abort(
      [&] {
        EventStreamOptions o;
        o.events_path = path;
        o.clock = [&] { return now.fetch_add(0.0005); };
        EventStream events(o);
        chatty->events = &events;
        events.add_sink(a);
        events.add_sink(chatty);
        events.add_sink(b);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
          threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) events.info("TICK", {{"thread", t}, {"i", i}});
          });
        for (auto& th : threads) th.join();
      },
      120s);
  const auto file = file_lines(path);
  EXPECT_EQ(file.size(), static_cast<std::size_t>(kThreads * kEach + kThreads * kEach / 50));
  EXPECT_EQ(reparsed(a->lines()), file);
  EXPECT_EQ(reparsed(b->lines()), file);
  const auto events = test::read_events(path);
  for (std::size_t i = 1; i < events.size(); ++i)
    ASSERT_GE(events[i]["t"].get<double>(), events[i - 1]["t"].get<double>()) << "line " << i;
}

TEST(EventStream, EmitReturnsOnceItsEventReachedTheSinks) {
  auto rec = std::make_shared<LineSink>();
  std::promise<void> slow_started;
  struct Slow : EventSink {
    std::promise<void>* started = nullptr;
    void on_event(const Event& e) override {
      if (e.key != "SLOW") return;
      started->set_value();
      std::this_thread::sleep_for(200ms);
    }
  };
  auto slow = std::make_shared<Slow>();
  slow->started = &slow_started;
  run_or_abort(
      [&] {
        EventStream events;
        events.add_sink(slow);
        events.add_sink(rec);
        std::thread drainer([&] { events.info("SLOW"); });
        slow_started.get_future().wait();  // SLOW is being delivered on the other thread
        events.info("FAST");
        EXPECT_EQ(rec->keys(), (std::vector<std::string>{"SLOW", "FAST"}));
        drainer.join();
      },
      30s);
}

TEST(EventStream, CloseClosesSinksAfterTheQueueAndLaterEmitsStillReachThem) {
  test::TempDir dir("stream");
  auto rec = std::make_shared<LineSink>();
  struct Bye : EventSink {
    EventStream* events = nullptr;
    int closed = 0;
    void on_event(const Event&) override {}
    void close() override {
      ++closed;
      events->info("BYE");
    }
  };
  auto bye = std::make_shared<Bye>();
  run_or_abort(
      [&] {
        EventStreamOptions o;
        o.events_path = dir / "e.jsonl";
        EventStream events(o);
        bye->events = &events;
        events.add_sink(rec);
        events.add_sink(bye);
        events.info("A");
        events.close();
        events.info("AFTER_CLOSE");
        EXPECT_EQ(rec->keys(), (std::vector<std::string>{"A", "BYE", "AFTER_CLOSE"}));
      },
      30s);
  EXPECT_EQ(bye->closed, 2) << "close() and the destructor";
  const auto file = test::read_events(dir / "e.jsonl");
  ASSERT_EQ(file.size(), 1u) << "the file ends at close()";
  EXPECT_EQ(file[0]["key"], "A");
}

TEST(EventStream, AFullDiskIsReportedNotLost) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto rec = std::make_shared<LineSink>();
  std::optional<std::string> error;
  run_or_abort(
      [&] {
        EventStreamOptions o;
        o.events_path = "/dev/full";  // opens fine; every write fails with ENOSPC
        EventStream events(o);
        events.add_sink(rec);
        EXPECT_FALSE(events.write_error());
        events.info("FIRST");
        error = events.write_error();
        for (int i = 0; i < 3; ++i) events.warn("LATER", {{"i", i}});
        events.close();
        EXPECT_EQ(events.write_error(), error) << "the first failure is kept";
      },
      30s);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("/dev/full"), std::string::npos) << *error;
  EXPECT_NE(error->find(std::strerror(ENOSPC)), std::string::npos) << *error;
  EXPECT_EQ(rec->keys(), (std::vector<std::string>{"FIRST", std::string(ek::kEventsWriteFailed), "LATER", "LATER",
                                                   "LATER"}));
  const auto failed = nlohmann::json::parse(rec->lines().at(1));
  EXPECT_EQ(failed["level"], "ERROR");
  EXPECT_EQ(failed["path"], "/dev/full");
  EXPECT_EQ(failed["reason"], std::strerror(ENOSPC));
  EXPECT_GE(failed["t"].get<double>(), nlohmann::json::parse(rec->lines().at(0))["t"].get<double>());
}

}  // namespace
}  // namespace zm
