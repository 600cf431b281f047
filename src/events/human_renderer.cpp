#include "events/human_renderer.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "events/event_keys.hpp"

namespace zm {
namespace {

constexpr int kBarWidth = 28;

std::string plan_line(const nlohmann::json& f) {
  auto bytes = [&](const char* k) {
    const double b = f.value(k, 0.0);
    return b >= 1073741824.0 ? fmt::format("{:.2f} GiB", b / 1073741824.0) : fmt::format("{:.0f} MiB", b / 1048576.0);
  };
  return fmt::format("plan {} (phase {}): {} workers, {} in flight, {} rows/chunk, RAM budget {}, memmap {}, GPU {}",
                     f.value("kind", std::string("?")), f.value("phase", std::string("?")), f.value("cpu_workers", 0),
                     f.value("tiles_in_flight", 0), f.value("rows_per_chunk", 0), bytes("ram_budget_bytes"),
                     f.value("use_memmap", false) ? "yes" : "no",
                     f.value("use_gpu", false) ? fmt::format("yes ({} chunks)", bytes("gpu_max_chunk_bytes")) : "no");
}

}  // namespace

HumanRenderer::HumanRenderer(std::ostream& out, bool tty, Verbosity verbosity)
    : out_(out), tty_(tty), verbosity_(verbosity) {}

bool HumanRenderer::shown(const Event& e) const {
  if (e.key == event_keys::kProcessError || e.key == event_keys::kProcessDone) return true;
  switch (verbosity_) {
    case Verbosity::quiet: return e.level == EventLevel::Warn || e.level == EventLevel::Error;
    case Verbosity::normal: return e.level != EventLevel::Debug;
    case Verbosity::verbose: return true;
  }
  return true;
}

std::string HumanRenderer::describe(const Event& e) const {
  const auto& f = e.fields;
  if (e.key == event_keys::kPhaseUpdate)
    return fmt::format("Phase {}: {}", f.value("phase", std::string("?")), f.value("name", std::string()));
  if (e.key == event_keys::kParallelPlanSummary) return plan_line(f);
  if (e.key == event_keys::kProcessError) return "error: " + f.value("message", std::string("unknown error"));
  if (e.key == event_keys::kEventsWriteFailed)
    return fmt::format("error: cannot write the events file {}: {} (it ends here)", f.value("path", std::string()),
                       f.value("reason", std::string()));
  if (e.key == event_keys::kItemFailed)
    return fmt::format("{} (#{}) failed and was skipped: {}", f.value("name", std::string("item")),
                       f.value("index", std::uint64_t{0}), f.value("message", std::string()));
  if (e.key == event_keys::kProcessDone)
    return fmt::format("{} in {:.1f} s", f.value("success", true) ? "done" : "stopped", f.value("elapsed_s", e.t));
  if (f.contains("message") && f["message"].is_string()) return e.key + ": " + f["message"].get<std::string>();
  return f.empty() ? e.key : e.key + " " + f.dump();
}

void HumanRenderer::on_event(const Event& e) {
  const std::string& k = e.key;
  if (k == event_keys::kPhaseUpdate) {
    phase_ = e.fields.value("phase", std::string());
    phase_name_ = e.fields.value("name", std::string());
    stage_.clear();
    current_ = total_ = 0;
    eta_ = "--:--:--";
  }
  if (k == event_keys::kStageProgress || k == event_keys::kEtaUpdate || k == event_keys::kRawFileCountUpdate ||
      k == event_keys::kMasterTileCountUpdate || (k == event_keys::kStatsUpdate && verbosity_ != Verbosity::verbose)) {
    on_progress(e);
    return;
  }
  if (!shown(e)) return;
  std::string text = describe(e);
  if (k == event_keys::kParallelPlanSummary && verbosity_ == Verbosity::verbose && e.fields.contains("reasons"))
    for (const auto& r : e.fields["reasons"]) text += "\n    - " + r.get<std::string>();
  log_line(e, text);
  if (k == event_keys::kPhaseUpdate) last_draw_ = -1e9;  // show the new phase's bar at once
}

void HumanRenderer::on_progress(const Event& e) {
  const auto& f = e.fields;
  if (e.key == event_keys::kEtaUpdate) {
    eta_ = f.value("eta_hms", std::string("--:--:--"));
  } else if (e.key == event_keys::kStageProgress) {
    const std::string stage = f.value("stage", std::string());
    const auto cur = f.value("current", std::uint64_t{0});
    if (stage != stage_ || cur < current_) {
      stage_ = stage;
      stage_start_t_ = e.t;
      stage_start_count_ = cur;
    }
    current_ = cur;
    total_ = f.value("total", std::uint64_t{0});
  } else {
    return;  // counts duplicate STAGE_PROGRESS; stats only show in verbose mode
  }
  if (verbosity_ == Verbosity::quiet) return;
  const bool last = total_ > 0 && current_ >= total_;
  if (tty_) {
    if (last || e.t - last_draw_ >= kRedrawInterval) draw_bar(e.t);
  } else if (e.key == event_keys::kStageProgress &&
             (last || verbosity_ == Verbosity::verbose || e.t - last_plain_ >= kPlainProgressInterval)) {
    last_plain_ = e.t;
    out_ << fmt::format("[{:8.1f}s] {:<7} {} {}/{} {:.1f}/s ETA {}\n", e.t, "", stage_, current_, total_, rate(e.t), eta_)
         << std::flush;
  }
}

double HumanRenderer::rate(double t) const {
  const double dt = t - stage_start_t_;
  return dt > 0 ? static_cast<double>(current_ - std::min(current_, stage_start_count_)) / dt : 0.0;
}

void HumanRenderer::draw_bar(double t) {
  last_draw_ = t;
  const double frac = total_ > 0 ? std::min(1.0, static_cast<double>(current_) / static_cast<double>(total_)) : 0.0;
  const int filled = static_cast<int>(frac * kBarWidth);
  out_ << "\r\033[K"
       << fmt::format("P{} {} [{}{}] {}/{} {:.1f}/s ETA {}", phase_, phase_name_.empty() ? stage_ : phase_name_,
                      std::string(static_cast<size_t>(filled), '#'), std::string(static_cast<size_t>(kBarWidth - filled), '-'),
                      current_, total_, rate(t), eta_)
       << std::flush;
  bar_visible_ = true;
}

void HumanRenderer::clear_bar() {
  if (bar_visible_) out_ << "\r\033[K";
  bar_visible_ = false;
}

void HumanRenderer::log_line(const Event& e, const std::string& text) {
  if (tty_) clear_bar();
  out_ << fmt::format("[{:8.1f}s] {:<7} {}\n", e.t, to_string(e.level), text);
  if (tty_ && total_ > 0) draw_bar(e.t);
  out_ << std::flush;
}

void HumanRenderer::close() {
  if (bar_visible_) out_ << "\n" << std::flush;
  bar_visible_ = false;
}

}  // namespace zm
