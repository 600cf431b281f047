#include "events/progress.hpp"

#include <cmath>

#include "events/event_keys.hpp"

namespace zm {

RunProgress::RunProgress(EventStream& events, std::vector<PhaseWeight> phases, double min_interval_s)
    : events_(events), eta_(std::move(phases)), min_interval_(min_interval_s) {}

void RunProgress::begin_phase(std::string_view id, std::string_view name) {
  {
    std::lock_guard lk(m_);
    eta_.begin_phase(id, events_.elapsed());
    phase_ = std::string(id);
    last_stage_.clear();
  }
  events_.info(event_keys::kPhaseUpdate, {{"phase", std::string(id)}, {"name", std::string(name)}});
}

void RunProgress::end_phase() {
  std::lock_guard lk(m_);
  eta_.end_phase(events_.elapsed());
}

std::string RunProgress::current_phase() const {
  std::lock_guard lk(m_);
  return phase_;
}

void RunProgress::emit_eta(double, std::optional<double> eta) {
  if (!eta) return;
  events_.emit(EventLevel::Info, event_keys::kEtaUpdate,
               {{"eta_seconds", std::round(*eta * 10.0) / 10.0},
                {"eta_hms", format_hms(*eta)},
                {"fraction_done", std::round(eta_.fraction_done() * 10000.0) / 10000.0}});
}

void RunProgress::update(std::string_view stage, std::uint64_t done, std::uint64_t total, std::string_view count_key) {
  // One lock around the decision and the emission keeps STAGE_PROGRESS counts and ETAs in order in the file.
  std::lock_guard lk(m_);
  const double now = events_.elapsed();
  const bool new_stage = stage != last_stage_;
  if (!new_stage && done < last_done_) return;  // a concurrent advance() that lost the race: already superseded
  last_done_ = done;
  eta_.progress(done, total, now);
  const bool edge = done == 0 || done >= total || new_stage;
  if (!edge && now - last_emit_ < min_interval_) return;
  last_emit_ = now;
  last_stage_ = std::string(stage);
  // ETA first, so a renderer drawing the progress line already knows the new estimate.
  emit_eta(now, eta_.update(now));
  events_.info(event_keys::kStageProgress,
               {{"stage", std::string(stage)}, {"current", done}, {"total", total}, {"phase", phase_}});
  if (!count_key.empty()) events_.info(count_key, {{"done", done}, {"total", total}});
}

void RunProgress::finish() {
  std::lock_guard lk(m_);
  const double now = events_.elapsed();
  eta_.finish(now);
  emit_eta(now, 0.0);
  events_.emit(EventLevel::Success, event_keys::kProcessDone,
               {{"success", true}, {"elapsed_s", std::round(now * 1000.0) / 1000.0}});
}

void RunProgress::fail(std::string_view message) {
  std::lock_guard lk(m_);
  const double now = events_.elapsed();
  events_.error(event_keys::kProcessError, {{"message", std::string(message)}});
  events_.emit(EventLevel::Error, event_keys::kProcessDone,
               {{"success", false}, {"elapsed_s", std::round(now * 1000.0) / 1000.0}});
}

PhaseScope::PhaseScope(RunProgress& progress, std::string_view id, std::string_view name) : progress_(progress) {
  progress_.begin_phase(id, name);
}

PhaseScope::~PhaseScope() { progress_.end_phase(); }

ProgressCounter::ProgressCounter(RunProgress& progress, std::string stage, std::uint64_t total, std::string count_key)
    : progress_(progress), stage_(std::move(stage)), total_(total), count_key_(std::move(count_key)) {
  progress_.update(stage_, 0, total_, count_key_);
}

void ProgressCounter::advance(std::uint64_t n) {
  const std::uint64_t done = done_.fetch_add(n) + n;
  progress_.update(stage_, done, total_, count_key_);
}

}  // namespace zm
