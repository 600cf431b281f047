// How phases report progress: PHASE_UPDATE on entry, rate-limited STAGE_PROGRESS + ETA_UPDATE while working.
//
// A phase never prints: it opens a PhaseScope and advances a ProgressCounter; RunProgress turns that into events
// (at most one progress event per min_interval_s, plus the first and the last of each stage) and keeps the ETA.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "events/eta_model.hpp"
#include "events/event_stream.hpp"

namespace zm {

class RunProgress {
 public:
  static constexpr double kDefaultMinInterval = 0.2;  // seconds between progress events of one stage

  explicit RunProgress(EventStream& events, std::vector<PhaseWeight> phases = default_phase_weights(),
                       double min_interval_s = kDefaultMinInterval);

  // Emits PHASE_UPDATE {phase, name}.
  void begin_phase(std::string_view id, std::string_view name);
  void end_phase();
  // Thread-safe. Emits STAGE_PROGRESS {stage, current, total, phase}, the count key ({done, total}) when given,
  // and ETA_UPDATE, unless the previous emission was less than min_interval_s ago (first and last always pass).
  void update(std::string_view stage, std::uint64_t done, std::uint64_t total, std::string_view count_key = {});
  // ETA_UPDATE 0, then PROCESS_DONE {success: true, elapsed_s}.
  void finish();
  // PROCESS_ERROR {message}, then PROCESS_DONE {success: false, elapsed_s}.
  void fail(std::string_view message);

  EventStream& events() noexcept { return events_; }
  std::string current_phase() const;

 private:
  void emit_eta(double now, std::optional<double> eta);

  EventStream& events_;
  EtaModel eta_;
  double min_interval_;
  mutable std::mutex m_;
  std::string phase_;
  std::string last_stage_;
  std::uint64_t last_done_ = 0;
  double last_emit_ = -1e300;
};

// PHASE_UPDATE on construction; marks the phase done in the ETA model on destruction.
class PhaseScope {
 public:
  PhaseScope(RunProgress& progress, std::string_view id, std::string_view name);
  ~PhaseScope();
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  RunProgress& progress_;
};

// A thread-safe item counter for one stage; each advance() reports through RunProgress::update.
class ProgressCounter {
 public:
  ProgressCounter(RunProgress& progress, std::string stage, std::uint64_t total, std::string count_key = {});
  void advance(std::uint64_t n = 1);
  std::uint64_t done() const noexcept { return done_.load(); }
  std::uint64_t total() const noexcept { return total_; }

 private:
  RunProgress& progress_;
  std::string stage_;
  std::uint64_t total_;
  std::string count_key_;
  std::atomic<std::uint64_t> done_{0};
};

}  // namespace zm
