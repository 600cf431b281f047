#include "events/event_stream.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "core/error.hpp"
#include "events/event_keys.hpp"
#include "events/human_renderer.hpp"

namespace zm {

std::string_view to_string(EventLevel level) {
  switch (level) {
    case EventLevel::Debug: return "DEBUG";
    case EventLevel::Info: return "INFO";
    case EventLevel::Success: return "SUCCESS";
    case EventLevel::Warn: return "WARN";
    case EventLevel::Error: return "ERROR";
  }
  return "INFO";
}

bool stderr_is_tty() { return isatty(STDERR_FILENO) == 1; }

std::string format_hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
  const auto s = static_cast<long long>(std::llround(seconds));
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

EventStream::EventStream(EventStreamOptions options) : options_(std::move(options)) {
  if (options_.clock) {
    clock_ = options_.clock;
  } else {
    const auto start = std::chrono::steady_clock::now();
    clock_ = [start] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  }
  if (!options_.events_path.empty()) {
    file_ = std::fopen(options_.events_path.c_str(), "w");
    if (file_ == nullptr)
      throw InputError(InputErrorKind::Io, options_.events_path.string(),
                       std::string("cannot create the events file: ") + std::strerror(errno));
  }
  if (options_.human != nullptr)
    sinks_.push_back(std::make_shared<HumanRenderer>(*options_.human, options_.tty, options_.verbosity));
}

EventStream::~EventStream() { close(); }

void EventStream::close() {
  std::lock_guard lk(m_);
  for (auto& s : sinks_) s->close();
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

double EventStream::elapsed() const { return clock_(); }

std::string EventStream::current_phase() const {
  std::lock_guard lk(m_);
  return phase_;
}

std::string EventStream::current_phase_name() const {
  std::lock_guard lk(m_);
  return phase_name_;
}

void EventStream::add_sink(std::shared_ptr<EventSink> sink) {
  std::lock_guard lk(m_);
  sinks_.push_back(std::move(sink));
}

std::string EventStream::to_line(const Event& e) {
  nlohmann::ordered_json j;
  j["t"] = std::round(e.t * 1000.0) / 1000.0;
  j["level"] = std::string(to_string(e.level));
  j["key"] = e.key;
  if (e.fields.is_object())
    for (const auto& [k, v] : e.fields.items())
      if (k != "t" && k != "level" && k != "key") j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void EventStream::emit(EventLevel level, std::string_view key, nlohmann::json fields) {
  Event e;
  e.level = level;
  e.key = std::string(key);
  if (fields.is_null()) fields = nlohmann::json::object();
  e.fields = fields.is_object() ? std::move(fields) : nlohmann::json{{"value", std::move(fields)}};
  std::lock_guard lk(m_);
  e.t = clock_();  // read under the lock so "t" never decreases along the file
  if (e.key == event_keys::kPhaseUpdate) {
    phase_ = e.fields.value("phase", std::string());
    phase_name_ = e.fields.value("name", std::string());
  }
  if (file_ != nullptr) {
    const std::string line = to_line(e) + "\n";
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
  }
  for (auto& s : sinks_) s->on_event(e);
}

}  // namespace zm
