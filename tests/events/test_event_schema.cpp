// Every stable key is emitted by the helpers phases use, and every line parses back with its documented fields.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "events/event_keys.hpp"
#include "events/event_stream.hpp"
#include "events/plan_summary.hpp"
#include "events/progress.hpp"
#include "events/telemetry.hpp"
#include "events_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace ek = event_keys;

bool is_count(const nlohmann::json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0); }

// Checks one parsed line against the documented schema; returns what is wrong ("" when valid).
std::string schema_error(const nlohmann::json& e) {
  static const std::set<std::string> levels = {"INFO", "WARN", "ERROR", "SUCCESS", "DEBUG"};
  if (!e.contains("t") || !e["t"].is_number() || e["t"].get<double>() < 0) return "t";
  if (!e.contains("level") || !levels.count(e["level"].get<std::string>())) return "level";
  if (!e.contains("key") || !e["key"].is_string()) return "key";
  const std::string key = e["key"];
  auto str = [&](const char* f) { return e.contains(f) && e[f].is_string(); };
  auto cnt = [&](const char* f) { return e.contains(f) && is_count(e[f]); };
  if (key == ek::kPhaseUpdate) {
    bool known = false;
    for (auto id : ek::kPhaseIds) known = known || e.value("phase", std::string()) == id;
    return known && str("name") ? "" : "PHASE_UPDATE phase/name";
  }
  if (key == ek::kStageProgress)
    return str("stage") && cnt("current") && cnt("total") && e["current"] <= e["total"] ? "" : "STAGE_PROGRESS";
  if (key == ek::kRawFileCountUpdate || key == ek::kMasterTileCountUpdate)
    return cnt("done") && cnt("total") && e["done"] <= e["total"] ? "" : key;
  if (key == ek::kEtaUpdate) {
    static const std::regex hms(R"(^\d{2,}:\d{2}:\d{2}$)");
    return e.contains("eta_seconds") && e["eta_seconds"].is_number() && e["eta_seconds"].get<double>() >= 0 &&
                   str("eta_hms") && std::regex_match(e["eta_hms"].get<std::string>(), hms)
               ? ""
               : "ETA_UPDATE";
  }
  if (key == ek::kStatsUpdate) {
    const bool cpu = e.contains("cpu_percent") && e["cpu_percent"].is_number() && e["cpu_percent"].get<double>() >= 0 &&
                     e["cpu_percent"].get<double>() <= 100;
    const bool gpu_ok = !e.contains("gpu_used_bytes") || cnt("gpu_used_bytes");
    return cpu && cnt("rss_bytes") && cnt("peak_rss_bytes") && cnt("ram_available_bytes") && gpu_ok && str("phase")
               ? ""
               : "STATS_UPDATE";
  }
  if (key == ek::kParallelPlanSummary) {
    for (const char* f : {"cpu_workers", "io_workers", "ram_budget_bytes", "max_chunk_bytes", "rows_per_chunk",
                          "gpu_budget_bytes", "gpu_max_chunk_bytes", "gpu_rows_per_chunk", "gpu_concurrency",
                          "tiles_in_flight"})
      if (!cnt(f)) return std::string("parallel_plan_summary ") + f;
    for (const char* f : {"use_memmap", "use_gpu"})
      if (!e.contains(f) || !e[f].is_boolean()) return std::string("parallel_plan_summary ") + f;
    return str("phase") && str("kind") && str("memmap_dir") && e.contains("reasons") && e["reasons"].is_array()
               ? ""
               : "parallel_plan_summary";
  }
  if (key == ek::kItemFailed) return cnt("index") && str("name") && str("message") ? "" : "ITEM_FAILED";
  if (key == ek::kProcessDone)
    return e.contains("success") && e["success"].is_boolean() && e.contains("elapsed_s") ? "" : "PROCESS_DONE";
  if (key == ek::kProcessError) return str("message") ? "" : "PROCESS_ERROR";
  if (key == ek::kEventsWriteFailed)
    return str("path") && str("reason") && e["level"] == "ERROR" ? "" : "EVENTS_WRITE_FAILED";
  return "";
}

ParallelPlan sample_plan() {
  ParallelPlan p;
  p.kind = PlanKind::master_tiles;
  p.cpu_workers = 14;
  p.ram_budget_bytes = 1ULL << 34;
  p.max_chunk_bytes = 1ULL << 30;
  p.rows_per_chunk = 128;
  p.memmap_dir = "/scratch";
  p.tiles_in_flight = 14;
  p.reasons = {"cpu_workers 14 = round(16 x 0.9)"};
  return p;
}

TEST(EventSchema, EveryKeyIsEmittedAndValid) {
  test::TempDir dir("events");
  const auto path = dir / "events.jsonl";
  double now = 0.0;
  {
    EventStreamOptions o;
    o.events_path = path;
    o.clock = [&] { return now; };
    EventStream events(o);
    RunProgress progress(events, default_phase_weights(), 0.0);
    for (auto id : ek::kPhaseIds) {
      PhaseScope phase(progress, id, "Phase " + std::string(id));
      if (id == "1") {
        ProgressCounter files(progress, "phase1_scan", 10, std::string(ek::kRawFileCountUpdate));
        for (int i = 0; i < 10; ++i) {
          now += 0.5;
          files.advance();
        }
      } else if (id == "3") {
        emit_plan_summary(events, "3", sample_plan());
        ProgressCounter tiles(progress, "phase3_master_tiles", 4, std::string(ek::kMasterTileCountUpdate));
        for (int i = 0; i < 4; ++i) {
          now += 2.0;
          tiles.advance();
        }
        events.warn(ek::kItemFailed, {{"index", 2}, {"name", "group 2"}, {"message", "no frame aligned"}});
      } else {
        now += 1.0;
        ProgressCounter one(progress, "phase" + std::string(id), 1);
        one.advance();
      }
    }
    TelemetrySampler telemetry(events, {0.0, dir / "resource_telemetry.csv", 1, false});
    telemetry.sample();
    progress.finish();
  }
  {
    EventStreamOptions o;
    o.events_path = dir / "failed.jsonl";
    EventStream events(o);
    RunProgress progress(events);
    progress.fail("output folder is read-only");
  }
  auto all = test::read_events(path);
  const auto failed = test::read_events(dir / "failed.jsonl");
  all.insert(all.end(), failed.begin(), failed.end());
  {
    // A full disk: the events file cannot take the line, the sinks get EVENTS_WRITE_FAILED.
    struct Lines : EventSink {
      std::vector<nlohmann::json>* out = nullptr;
      void on_event(const Event& e) override { out->push_back(nlohmann::json::parse(EventStream::to_line(e))); }
    };
    auto sink = std::make_shared<Lines>();
    sink->out = &all;
    EventStreamOptions o;
    o.events_path = "/dev/full";
    EventStream events(o);
    events.add_sink(sink);
    events.info("DISK_PROBE");
  }

  std::set<std::string> seen;
  for (const auto& e : all) {
    EXPECT_EQ(schema_error(e), "") << e.dump();
    seen.insert(e["key"].get<std::string>());
  }
  for (auto key : ek::kAll) EXPECT_TRUE(seen.count(std::string(key))) << key << " never emitted";

  const auto events = test::read_events(path);
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GE(events[i]["t"].get<double>(), events[i - 1]["t"].get<double>());
  EXPECT_EQ(events.back()["key"], ek::kProcessDone);
  EXPECT_EQ(events.back()["level"], "SUCCESS");
  const auto etas = test::with_key(events, std::string(ek::kEtaUpdate));
  ASSERT_FALSE(etas.empty());
  EXPECT_EQ(etas.back()["eta_seconds"].get<double>(), 0.0);
  EXPECT_EQ(etas.back()["eta_hms"], "00:00:00");
  EXPECT_EQ(failed.back()["key"], ek::kProcessDone);
  EXPECT_FALSE(failed.back()["success"].get<bool>());
  EXPECT_EQ(failed.front()["key"], ek::kProcessError);
  // The line starts with t, level, key.
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("{\"t\":", 0), 0u) << first;
}

TEST(EventSchema, PlanSummaryCarriesEveryPlanField) {
  test::TempDir dir("events");
  {
    EventStreamOptions o;
    o.events_path = dir / "e.jsonl";
    EventStream events(o);
    emit_plan_summary(events, "5", sample_plan());
  }
  const auto e = test::read_events(dir / "e.jsonl").at(0);
  EXPECT_EQ(e["phase"], "5");
  EXPECT_EQ(e["kind"], "master_tiles");
  EXPECT_EQ(e["level"], "INFO");  // INFO so that it reaches a GUI (ZeMosaic hid it at a debug level)
  const nlohmann::json plan = to_json(sample_plan());
  for (const auto& [k, v] : plan.items()) {
    EXPECT_EQ(e[k], v) << k;
  }
}

TEST(EventSchema, ConcurrentEmittersWriteWholeLines) {
  test::TempDir dir("events");
  constexpr int kThreads = 8, kEach = 300;
  {
    EventStreamOptions o;
    o.events_path = dir / "e.jsonl";
    EventStream events(o);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) events.debug("WORKER_TICK", {{"thread", t}, {"i", i}, {"pad", std::string(200, 'x')}});
      });
    for (auto& th : threads) th.join();
  }
  const auto all = test::read_events(dir / "e.jsonl");  // throws on a torn line
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < all.size(); ++i) {
    const int t = all[i]["thread"];
    EXPECT_EQ(all[i]["i"].get<int>(), next[static_cast<size_t>(t)]++) << "per-thread order";
    if (i > 0) {
      EXPECT_GE(all[i]["t"].get<double>(), all[i - 1]["t"].get<double>());
    }
  }
}

TEST(EventSchema, ProgressIsRateLimitedButKeepsEdges) {
  test::TempDir dir("events");
  double now = 0;
  {
    EventStreamOptions o;
    o.events_path = dir / "e.jsonl";
    o.clock = [&] { return now; };
    EventStream events(o);
    RunProgress progress(events, default_phase_weights(), 0.2);
    PhaseScope phase(progress, "1", "Preprocessing");
    ProgressCounter c(progress, "phase1_scan", 1000, std::string(ek::kRawFileCountUpdate));
    for (int i = 0; i < 1000; ++i) {
      now += 0.001;
      c.advance();
    }
  }
  const auto stages = test::with_key(test::read_events(dir / "e.jsonl"), std::string(ek::kStageProgress));
  EXPECT_LE(stages.size(), 8u);  // 1 s at one per 0.2 s, plus the first and the last
  EXPECT_GE(stages.size(), 3u);
  EXPECT_EQ(stages.front()["current"], 0);
  EXPECT_EQ(stages.back()["current"], 1000);
}

TEST(EventSchema, FormatHms) {
  EXPECT_EQ(format_hms(0), "00:00:00");
  EXPECT_EQ(format_hms(3661.4), "01:01:01");
  EXPECT_EQ(format_hms(100 * 3600), "100:00:00");
  EXPECT_EQ(format_hms(-1), "--:--:--");
}

TEST(EventSchema, UnwritableEventsFileIsAnInputError) {
  EventStreamOptions o;
  o.events_path = "/nonexistent/folder/events.jsonl";
  EXPECT_THROW(EventStream{o}, InputError);
}

}  // namespace
}  // namespace zm
