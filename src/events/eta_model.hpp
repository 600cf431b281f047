// Time left for a whole run: phase weights as the prior, measured rates as soon as work completes, smoothed.
//
// Raw estimate. Seconds per unit of weight (spw) = elapsed run time / weight done so far (completed phases that
// ran + current phase weight x its fraction done). The current phase's remaining time comes from its own
// measured per-item rate once an item is done (else weight x (1 - fraction) x spw); later phases cost their
// weight x spw. Phases that never start (skipped) count as done and cost nothing.
// Smoothing. The previous ETA counts down with the clock; the new value moves a fraction kAlpha towards the raw
// estimate, and once kCapFromFraction of the work is done it may not exceed kMaxRise x the previous ETA. At the end
// it is exactly 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zm {

struct PhaseWeight {
  std::string id;
  double weight = 0.0;
};

// ZeMosaic's weights: P1 30, P2 5, P3 35, P4 5, P4.5 6, P5 9, P6 8, P7 2.
const std::vector<PhaseWeight>& default_phase_weights();

class EtaModel {
 public:
  static constexpr double kAlpha = 0.3;             // share of a new raw estimate taken at each update
  static constexpr double kMaxRise = 1.2;           // ETA may rise by at most 20 % between updates ...
  static constexpr double kCapFromFraction = 0.10;  // ... once 10 % of the work is done

  explicit EtaModel(std::vector<PhaseWeight> phases = default_phase_weights());

  void begin_phase(std::string_view id, double now);
  void progress(std::uint64_t done, std::uint64_t total, double now);  // of the current phase
  void end_phase(double now);
  void finish(double now);

  // Smoothed seconds left, or nullopt while nothing has been measured. Call once per emitted update.
  std::optional<double> update(double now);
  // The unsmoothed estimate (tests, diagnostics).
  std::optional<double> raw_estimate(double now) const;
  // Weighted fraction of the run done, in [0, 1].
  double fraction_done() const;

 private:
  int index_of(std::string_view id) const;
  double total_weight() const;

  std::vector<PhaseWeight> phases_;
  std::vector<bool> completed_;
  std::vector<bool> ran_;
  int current_ = -1;
  double run_start_ = -1.0;
  double phase_start_ = 0.0;
  std::uint64_t done_ = 0, total_ = 0;
  bool finished_ = false;
  std::optional<double> last_eta_;
  double last_time_ = 0.0;
};

}  // namespace zm
