// The ETA model: prior from the phase weights, measured rates, smoothing bounds and the final 0.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "events/eta_model.hpp"
#include "events/event_keys.hpp"
#include "events/progress.hpp"
#include "events_test_util.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

struct SyntheticPhase {
  std::string id;
  int items;
  double seconds_per_item;
};

// About 100 s of work shaped like the phase weights, but each phase off the prior by a different factor (the
// prior is never exact), with per-item jitter.
std::vector<SyntheticPhase> synthetic_run(double skew) {
  return {{"1", 100, 0.30 * skew}, {"2", 1, 5.0},  {"3", 35, 1.0 / skew}, {"4", 1, 5.0},
          {"4.5", 6, 1.0},         {"5", 3, 3.0 * skew}, {"6", 1, 8.0}, {"7", 1, 2.0}};
}

struct EtaSample {
  double t, eta, fraction;
};

std::vector<EtaSample> run_synthetic(const std::vector<SyntheticPhase>& phases, test::TempDir& dir, double& total) {
  double now = 0;
  {
    EventStreamOptions o;
    o.events_path = dir / "eta.jsonl";
    o.clock = [&] { return now; };
    EventStream events(o);
    RunProgress progress(events, default_phase_weights(), 0.0);
    unsigned jitter = 12345;
    for (const auto& ph : phases) {
      PhaseScope scope(progress, ph.id, "phase " + ph.id);
      ProgressCounter counter(progress, "stage" + ph.id, static_cast<std::uint64_t>(ph.items));
      for (int i = 0; i < ph.items; ++i) {
        jitter = jitter * 1103515245u + 12345u;
        now += ph.seconds_per_item * (0.7 + 0.6 * ((jitter >> 16) % 1000) / 1000.0);
        counter.advance();
      }
    }
    progress.finish();
  }
  total = now;
  std::vector<EtaSample> out;
  for (const auto& e : test::with_key(test::read_events(dir / "eta.jsonl"), std::string(event_keys::kEtaUpdate)))
    out.push_back({e["t"].get<double>(), e["eta_seconds"].get<double>(), e["fraction_done"].get<double>()});
  return out;
}

void expect_monotone_ish(const std::vector<EtaSample>& s) {
  ASSERT_GT(s.size(), 20u);
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].fraction < EtaModel::kCapFromFraction) continue;
    // eta_seconds is rounded to 0.1 s in the event.
    EXPECT_LE(s[i].eta, s[i - 1].eta * EtaModel::kMaxRise + 0.1)
        << "update " << i << " at fraction " << s[i].fraction << ": " << s[i - 1].eta << " -> " << s[i].eta;
  }
  EXPECT_EQ(s.back().eta, 0.0);
  EXPECT_EQ(s.back().fraction, 1.0);
}

TEST(Eta, MonotoneIshOnASyntheticWorkloadAndZeroAtTheEnd) {
  for (double skew : {0.6, 1.0, 1.7}) {
    SCOPED_TRACE(skew);
    test::TempDir dir("eta");
    double total = 0;
    const auto samples = run_synthetic(synthetic_run(skew), dir, total);
    expect_monotone_ish(samples);
    // Once a third of the work is measured the estimate is within a factor 2.5 of the truth.
    for (const auto& s : samples) {
      if (s.fraction < 0.33 || s.fraction > 0.95) continue;
      const double truth = total - s.t;
      EXPECT_LT(s.eta, 2.5 * truth + 5) << "at t=" << s.t;
      EXPECT_GT(s.eta, truth / 2.5 - 5) << "at t=" << s.t;
    }
  }
}

TEST(Eta, MeasuredRateReplacesThePrior) {
  EtaModel m;
  m.begin_phase("1", 0.0);
  EXPECT_FALSE(m.update(0.0).has_value()) << "nothing measured yet";
  m.progress(50, 100, 50.0);  // 1 s per item: 50 s left in P1
  const double raw = *m.raw_estimate(50.0);
  // P1 is 30 % of the prior: 50 % of it took 50 s, so spw = 50 / 15 and the other 70 weight units cost 233 s.
  EXPECT_NEAR(raw, 50.0 + 70.0 * 50.0 / 15.0, 1e-9);
  EXPECT_NEAR(m.fraction_done(), 0.15, 1e-12);
}

TEST(Eta, SkippedPhasesCostNothing) {
  EtaModel m;
  m.begin_phase("1", 0.0);
  m.progress(10, 10, 30.0);
  m.end_phase(30.0);
  m.begin_phase("5", 30.0);  // 2, 3, 4, 4.5 skipped: done, and their weights are not charged
  m.progress(1, 2, 39.0);
  EXPECT_NEAR(m.fraction_done(), (30 + 5 + 35 + 5 + 6 + 4.5) / 100.0, 1e-12);
  // Remaining: the other P5 item at 9 s, then P6 + P7 (10 weight units) at spw = 39 / 34.5.
  EXPECT_NEAR(*m.raw_estimate(39.0), 9.0 + 10.0 * 39.0 / 34.5, 1e-9);
}

TEST(Eta, RisesAreBoundedAfterTenPercent) {
  EtaModel m;
  m.begin_phase("1", 0.0);
  m.progress(40, 100, 12.0);  // fraction 0.12
  const double first = *m.update(12.0);
  m.progress(41, 100, 100.0);  // a sudden 88 s stall: the raw estimate jumps
  EXPECT_GT(*m.raw_estimate(100.0), first * 2);
  EXPECT_LE(*m.update(100.0), first * EtaModel::kMaxRise + 1e-9);
  m.finish(101.0);
  EXPECT_EQ(*m.update(101.0), 0.0);
}

TEST(Eta, DefaultWeightsMatchZeMosaic) {
  const auto& w = default_phase_weights();
  ASSERT_EQ(w.size(), event_keys::kPhaseIds.size());
  const double expected[] = {30, 5, 35, 5, 6, 9, 8, 2};
  double sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_EQ(w[i].id, event_keys::kPhaseIds[i]);
    EXPECT_EQ(w[i].weight, expected[i]);
    sum += w[i].weight;
  }
  EXPECT_EQ(sum, 100.0);
}

}  // namespace
}  // namespace zm
