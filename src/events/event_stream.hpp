// The run's single channel to the user: events as JSON lines (optional --events file) and a human renderer.
//
// Each event is {"t": seconds since the stream started, "level": "INFO|WARN|ERROR|SUCCESS|DEBUG", "key": ..., fields}
// on one line, flushed as it is written, so a GUI or `tail -f` sees it at once. emit() is thread-safe: under one
// lock it stamps t (never decreasing along the file), writes the line and queues the event; one thread at a time then
// delivers the queue to the sinks (the human renderer among them) outside the lock, so the file and every sink see
// the events in the same order, and a sink may itself emit (its event follows the one being delivered).
// A failing write (disk full) is not lost: the first one is kept (write_error()), the file is closed, and an
// EVENTS_WRITE_FAILED error event goes to the sinks; later events reach the sinks only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace zm {

enum class EventLevel { Debug, Info, Success, Warn, Error };
std::string_view to_string(EventLevel level);

enum class Verbosity { quiet, normal, verbose };

struct Event {
  double t = 0.0;
  EventLevel level = EventLevel::Info;
  std::string key;
  nlohmann::json fields;  // an object
};

// Receives every event after it was written to the file (renderers, tests, telemetry).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& event) = 0;
  virtual void close() {}
};

struct EventStreamOptions {
  std::filesystem::path events_path;     // empty: no JSON-lines file
  std::ostream* human = nullptr;         // where the human renderer writes (nullptr: no human output)
  bool tty = false;                      // progress bar (true) or plain log lines
  Verbosity verbosity = Verbosity::normal;
  std::function<double()> clock;         // seconds since start; default: a steady clock started by the stream
};

// True when stderr is a terminal (the CLI's default for EventStreamOptions::tty).
bool stderr_is_tty();

class EventStream {
 public:
  explicit EventStream(EventStreamOptions options = {});
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // Returns once the event has reached every sink; called from inside a sink, it only queues the event, which the
  // sinks receive after the one being delivered.
  void emit(EventLevel level, std::string_view key, nlohmann::json fields = nlohmann::json::object());
  void info(std::string_view key, nlohmann::json fields = nlohmann::json::object()) { emit(EventLevel::Info, key, std::move(fields)); }
  void warn(std::string_view key, nlohmann::json fields = nlohmann::json::object()) { emit(EventLevel::Warn, key, std::move(fields)); }
  void error(std::string_view key, nlohmann::json fields = nlohmann::json::object()) { emit(EventLevel::Error, key, std::move(fields)); }
  void debug(std::string_view key, nlohmann::json fields = nlohmann::json::object()) { emit(EventLevel::Debug, key, std::move(fields)); }

  double elapsed() const;
  // The phase of the last PHASE_UPDATE ("" before the first).
  std::string current_phase() const;
  std::string current_phase_name() const;

  void add_sink(std::shared_ptr<EventSink> sink);
  // Delivers what is still queued, closes the file, then the sinks (the human renderer ends its progress line);
  // later emits still reach sinks.
  void close();

  // "cannot write the events file <path>: <OS reason>" once a write to the events file failed (the file then holds
  // only the events before it); nullopt while every line made it. The pipeline checks it between phases and the CLI
  // fails the run on it.
  std::optional<std::string> write_error() const;

  // One event as its JSON line (without the newline): t, level, key first, then the fields.
  static std::string to_line(const Event& event);

 private:
  class DrainerRole;
  // Under m_: writes the event's line, queues it (and EVENTS_WRITE_FAILED after it when the write fails); returns the
  // sequence number of the last event queued.
  std::uint64_t append_locked(Event e);
  // Under m_: records the failure, closes the file and queues EVENTS_WRITE_FAILED.
  void file_failed_locked(int err);
  void close_file_locked();
  // Under m_ (released while sinks run), with no other drainer: delivers the queue in order until it is empty.
  void drain(std::unique_lock<std::mutex>& lk);

  EventStreamOptions options_;
  std::function<double()> clock_;
  mutable std::mutex m_;
  std::condition_variable delivered_cv_;  // signalled when an event was delivered or the drainer left
  std::FILE* file_ = nullptr;
  std::optional<std::string> write_error_;
  std::vector<std::shared_ptr<EventSink>> sinks_;
  std::deque<Event> pending_;          // written to the file, not yet delivered to the sinks
  std::uint64_t queued_ = 0;           // events queued so far (the last one's sequence number)
  std::uint64_t delivered_ = 0;        // events delivered so far, in queue order
  bool draining_ = false;
  std::thread::id drainer_;            // the thread delivering, while draining_
  std::string phase_, phase_name_;
};

// HH:MM:SS (hours may exceed 99); negative or non-finite values read "--:--:--".
std::string format_hms(double seconds);

}  // namespace zm
