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

// The drainer role for the calling thread while in scope; leaving it (normally or by an exception from a sink, with
// m_ held) wakes the emitters waiting for their events, one of which then drains what is left.
class EventStream::DrainerRole {
 public:
  explicit DrainerRole(EventStream& s) : s_(s) {
    s_.draining_ = true;
    s_.drainer_ = std::this_thread::get_id();
  }
  ~DrainerRole() {
    s_.draining_ = false;
    s_.drainer_ = {};
    s_.delivered_cv_.notify_all();
  }
  DrainerRole(const DrainerRole&) = delete;
  DrainerRole& operator=(const DrainerRole&) = delete;

 private:
  EventStream& s_;
};

void EventStream::drain(std::unique_lock<std::mutex>& lk) {
  DrainerRole role(*this);
  while (!pending_.empty()) {
    const Event e = std::move(pending_.front());
    pending_.pop_front();
    const std::vector<std::shared_ptr<EventSink>> sinks = sinks_;
    lk.unlock();
    try {
      for (const auto& s : sinks) s->on_event(e);
    } catch (...) {
      lk.lock();
      ++delivered_;
      throw;
    }
    lk.lock();
    ++delivered_;
    delivered_cv_.notify_all();
  }
}

void EventStream::close() {
  std::unique_lock lk(m_);
  if (drainer_ == std::this_thread::get_id()) {  // from inside a sink: the drain under way delivers the rest
    close_file_locked();
    return;
  }
  delivered_cv_.wait(lk, [&] { return !draining_; });
  close_file_locked();
  drain(lk);
  {
    DrainerRole role(*this);  // sinks close one at a time, in order after every queued event
    const std::vector<std::shared_ptr<EventSink>> sinks = sinks_;
    lk.unlock();
    try {
      for (const auto& s : sinks) s->close();
    } catch (...) {
      lk.lock();
      throw;
    }
    lk.lock();
  }
  drain(lk);  // what the sinks emitted while closing
}

std::optional<std::string> EventStream::write_error() const {
  std::lock_guard lk(m_);
  return write_error_;
}

void EventStream::file_failed_locked(int err) {
  const std::string path = options_.events_path.string();
  const std::string reason = err != 0 ? std::strerror(err) : "unknown write error";
  if (!write_error_) write_error_ = "cannot write the events file " + path + ": " + reason;
  if (file_ != nullptr) std::fclose(file_);  // fails too (the buffered rest cannot go out); nothing more to write
  file_ = nullptr;
  Event failed;
  failed.t = clock_();
  failed.level = EventLevel::Error;
  failed.key = std::string(event_keys::kEventsWriteFailed);
  failed.fields = {{"path", path}, {"reason", reason}};
  pending_.push_back(std::move(failed));
  ++queued_;
}

void EventStream::close_file_locked() {
  if (file_ == nullptr) return;
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) file_failed_locked(errno);
}

std::uint64_t EventStream::append_locked(Event e) {
  int err = -1;
  if (file_ != nullptr) {
    const std::string line = to_line(e) + "\n";
    errno = 0;
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) err = errno;
  }
  pending_.push_back(std::move(e));
  ++queued_;
  if (err >= 0) file_failed_locked(err);
  return queued_;
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
  std::unique_lock lk(m_);
  e.t = clock_();  // read under the lock so "t" never decreases along the file
  if (e.key == event_keys::kPhaseUpdate) {
    phase_ = e.fields.value("phase", std::string());
    phase_name_ = e.fields.value("name", std::string());
  }
  const std::uint64_t seq = append_locked(std::move(e));
  if (drainer_ == std::this_thread::get_id()) return;  // from inside a sink: the drain under way delivers it
  while (delivered_ < seq) {
    if (draining_)
      delivered_cv_.wait(lk);
    else
      drain(lk);
  }
}

}  // namespace zm
