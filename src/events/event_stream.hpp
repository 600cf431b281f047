// The run's single channel to the user: events as JSON lines (optional --events file) and a human renderer.
//
// Each event is {"t": seconds since the stream started, "level": "INFO|WARN|ERROR|SUCCESS|DEBUG", "key": ..., fields}
// on one line, flushed as it is written, so a GUI or `tail -f` sees it at once. emit() is thread-safe; the file
// line and the human output of one event are produced under one lock, in the order emit() was called.
#pragma once

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
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
  // Ends the human renderer's progress line and closes the file; later emits still reach sinks.
  void close();

  // One event as its JSON line (without the newline): t, level, key first, then the fields.
  static std::string to_line(const Event& event);

 private:
  EventStreamOptions options_;
  std::function<double()> clock_;
  mutable std::mutex m_;
  std::FILE* file_ = nullptr;
  std::vector<std::shared_ptr<EventSink>> sinks_;
  std::string phase_, phase_name_;
};

// HH:MM:SS (hours may exceed 99); negative or non-finite values read "--:--:--".
std::string format_hms(double seconds);

}  // namespace zm
