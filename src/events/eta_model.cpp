#include "events/eta_model.hpp"

#include <algorithm>

namespace zm {

const std::vector<PhaseWeight>& default_phase_weights() {
  static const std::vector<PhaseWeight> w = {{"1", 30}, {"2", 5}, {"3", 35}, {"4", 5},
                                             {"4.5", 6}, {"5", 9}, {"6", 8},  {"7", 2}};
  return w;
}

EtaModel::EtaModel(std::vector<PhaseWeight> phases)
    : phases_(std::move(phases)), completed_(phases_.size(), false), ran_(phases_.size(), false) {}

int EtaModel::index_of(std::string_view id) const {
  for (size_t i = 0; i < phases_.size(); ++i)
    if (phases_[i].id == id) return static_cast<int>(i);
  return -1;
}

double EtaModel::total_weight() const {
  double w = 0;
  for (const auto& p : phases_) w += p.weight;
  return w;
}

void EtaModel::begin_phase(std::string_view id, double now) {
  if (run_start_ < 0) run_start_ = now;
  int i = index_of(id);
  if (i < 0) {  // an unplanned phase: it has no prior weight, only its measured rate counts
    phases_.push_back({std::string(id), 0.0});
    completed_.push_back(false);
    ran_.push_back(false);
    i = static_cast<int>(phases_.size()) - 1;
  }
  if (current_ >= 0 && current_ != i) completed_[static_cast<size_t>(current_)] = true;
  for (int k = 0; k < i; ++k) completed_[static_cast<size_t>(k)] = true;  // skipped phases are done
  current_ = i;
  ran_[static_cast<size_t>(i)] = true;
  completed_[static_cast<size_t>(i)] = false;
  phase_start_ = now;
  done_ = total_ = 0;
}

void EtaModel::progress(std::uint64_t done, std::uint64_t total, double now) {
  if (run_start_ < 0) run_start_ = now;
  done_ = std::min(done, total);
  total_ = total;
}

void EtaModel::end_phase(double) {
  if (current_ >= 0) completed_[static_cast<size_t>(current_)] = true;
  done_ = total_ = 0;
}

void EtaModel::finish(double now) {
  finished_ = true;
  std::fill(completed_.begin(), completed_.end(), true);
  last_eta_ = 0.0;
  last_time_ = now;
}

double EtaModel::fraction_done() const {
  if (finished_) return 1.0;
  const double total = total_weight();
  if (total <= 0) return 0.0;
  double done = 0;
  for (size_t i = 0; i < phases_.size(); ++i)
    if (completed_[i]) done += phases_[i].weight;
  if (current_ >= 0 && !completed_[static_cast<size_t>(current_)] && total_ > 0)
    done += phases_[static_cast<size_t>(current_)].weight * static_cast<double>(done_) / static_cast<double>(total_);
  return std::clamp(done / total, 0.0, 1.0);
}

std::optional<double> EtaModel::raw_estimate(double now) const {
  if (finished_) return 0.0;
  if (run_start_ < 0 || current_ < 0) return std::nullopt;
  const auto cur = static_cast<size_t>(current_);
  const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 0.0;
  double measured_weight = 0, future_weight = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    if (i == cur) continue;
    if (completed_[i] && ran_[i]) measured_weight += phases_[i].weight;
    if (!completed_[i]) future_weight += phases_[i].weight;
  }
  const bool in_phase = !completed_[cur];
  if (in_phase) measured_weight += phases_[cur].weight * frac;
  const double elapsed = now - run_start_;
  const double spw = measured_weight > 0 && elapsed > 0 ? elapsed / measured_weight : -1.0;

  double current_left = 0;
  if (in_phase) {
    const double phase_elapsed = now - phase_start_;
    if (done_ > 0 && phase_elapsed > 0) {
      current_left = static_cast<double>(total_ - done_) * phase_elapsed / static_cast<double>(done_);
    } else if (spw > 0) {
      current_left = std::max(0.0, phases_[cur].weight * (1.0 - frac) * spw - phase_elapsed);
    } else {
      return std::nullopt;
    }
  }
  if (future_weight > 0 && spw <= 0) return std::nullopt;
  return current_left + future_weight * std::max(0.0, spw);
}

std::optional<double> EtaModel::update(double now) {
  if (finished_) return 0.0;
  const auto raw = raw_estimate(now);
  if (!raw) return last_eta_ ? std::optional<double>(std::max(0.0, *last_eta_ - (now - last_time_))) : std::nullopt;
  double eta = *raw;
  if (last_eta_) {
    const double predicted = std::max(0.0, *last_eta_ - (now - last_time_));
    eta = predicted + kAlpha * (*raw - predicted);
    if (fraction_done() >= kCapFromFraction) eta = std::min(eta, *last_eta_ * kMaxRise);
  }
  eta = std::max(0.0, eta);
  last_eta_ = eta;
  last_time_ = now;
  return eta;
}

}  // namespace zm
