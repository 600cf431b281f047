// The human renderer: a bounded-rate progress bar on a terminal, plain lines otherwise, quiet/verbose levels.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <string>

#include "events/event_keys.hpp"
#include "events/event_stream.hpp"
#include "events/progress.hpp"
#include "events/telemetry.hpp"
#include "events_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

std::string render(bool tty, Verbosity v, int updates, double seconds) {
  std::ostringstream out;
  double now = 0;
  {
    EventStreamOptions o;
    o.human = &out;
    o.tty = tty;
    o.verbosity = v;
    o.clock = [&] { return now; };
    EventStream events(o);
    RunProgress progress(events, default_phase_weights(), 0.0);
    PhaseScope phase(progress, "3", "Master tiles");
    ProgressCounter c(progress, "phase3_master_tiles", static_cast<std::uint64_t>(updates),
                      std::string(event_keys::kMasterTileCountUpdate));
    for (int i = 0; i < updates; ++i) {
      now += seconds / updates;
      c.advance();
      if (i == updates / 2) events.warn("stack_warning", {{"message", "group 7: 3 frames rejected"}});
    }
    events.debug("DEBUG_DETAIL", {{"message", "only in verbose"}});
    progress.finish();
  }
  return out.str();
}

TEST(Renderer, TerminalBarIsRedrawnAtABoundedRate) {
  const std::string s = render(true, Verbosity::normal, 2000, 2.0);
  EXPECT_NE(s.find("P3 Master tiles ["), std::string::npos);
  EXPECT_NE(s.find("ETA"), std::string::npos);
  EXPECT_NE(s.find("/s"), std::string::npos);  // throughput
  EXPECT_NE(s.find("2000/2000"), std::string::npos) << "the last state is always drawn";
  // 2 s at 10 redraws per second, plus edges and the redraws after log lines.
  EXPECT_LE(count(s, "] ") , 40u);
  EXPECT_LE(count(s, "\r\033[K"), 40u);
  EXPECT_NE(s.find("group 7: 3 frames rejected"), std::string::npos);
  EXPECT_EQ(s.find("only in verbose"), std::string::npos);
}

TEST(Renderer, PlainLinesWithoutATerminal) {
  const std::string s = render(false, Verbosity::normal, 2000, 20.0);
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_EQ(s.find("\033["), std::string::npos);
  EXPECT_NE(s.find("Phase 3: Master tiles"), std::string::npos);
  // 20 s of progress at one line per 5 s, plus first and last.
  EXPECT_LE(count(s, "phase3_master_tiles "), 7u);
  EXPECT_NE(s.find("phase3_master_tiles 2000/2000"), std::string::npos);
  EXPECT_NE(s.find("done in"), std::string::npos);
}

TEST(Renderer, QuietShowsOnlyProblemsAndTheEnd) {
  const std::string s = render(false, Verbosity::quiet, 100, 1.0);
  EXPECT_EQ(s.find("Phase 3"), std::string::npos);
  EXPECT_EQ(s.find("phase3_master_tiles"), std::string::npos);
  EXPECT_NE(s.find("group 7: 3 frames rejected"), std::string::npos);
  EXPECT_NE(s.find("done in"), std::string::npos);
}

TEST(Renderer, VerboseShowsDebugAndEveryProgressLine) {
  const std::string s = render(false, Verbosity::verbose, 50, 1.0);
  EXPECT_NE(s.find("only in verbose"), std::string::npos);
  EXPECT_GE(count(s, "phase3_master_tiles "), 50u);
}

TEST(Telemetry, SamplerWritesCsvAndStatsEvents) {
  test::TempDir dir("telemetry");
  {
    EventStreamOptions o;
    o.events_path = dir / "events.jsonl";
    EventStream events(o);
    events.info(event_keys::kPhaseUpdate, {{"phase", "1"}, {"name", "Preprocessing"}});
    TelemetrySampler sampler(events, {0.05, dir / "resource_telemetry.csv", 2, false});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  std::ifstream csv(dir / "resource_telemetry.csv");
  std::string header, line;
  std::getline(csv, header);
  EXPECT_EQ(header, kTelemetryCsvHeader);
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    EXPECT_EQ(count(line, ","), 7u) << line;
    EXPECT_NE(line.find(",1,Preprocessing,"), std::string::npos) << line;
  }
  EXPECT_GE(rows, 3);
  const auto stats = test::with_key(test::read_events(dir / "events.jsonl"), std::string(event_keys::kStatsUpdate));
  EXPECT_EQ(static_cast<int>(stats.size()), rows);
  EXPECT_GT(stats.back()["rss_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_GE(stats.back()["peak_rss_bytes"].get<std::uint64_t>(), stats.back()["rss_bytes"].get<std::uint64_t>());
  EXPECT_FALSE(stats.back().contains("gpu_used_bytes"));
}

}  // namespace
}  // namespace zm
