// The human view of the event stream: a progress bar on a terminal, plain log lines elsewhere.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "events/event_stream.hpp"

namespace zm {

class HumanRenderer : public EventSink {
 public:
  HumanRenderer(std::ostream& out, bool tty, Verbosity verbosity);
  void on_event(const Event& event) override;
  void close() override;

  // A terminal bar is redrawn at most this often; plain progress lines at most every kPlainProgressInterval.
  static constexpr double kRedrawInterval = 0.1;
  static constexpr double kPlainProgressInterval = 5.0;

 private:
  bool shown(const Event& e) const;
  void log_line(const Event& e, const std::string& text);
  void draw_bar(double t);
  double rate(double t) const;  // items per second since the stage started
  void clear_bar();
  void on_progress(const Event& e);
  std::string describe(const Event& e) const;

  std::ostream& out_;
  bool tty_;
  Verbosity verbosity_;
  bool bar_visible_ = false;
  double last_draw_ = -1e9;
  double last_plain_ = -1e9;
  std::string phase_, phase_name_, stage_;
  std::uint64_t current_ = 0, total_ = 0;
  double stage_start_t_ = 0.0;
  std::uint64_t stage_start_count_ = 0;
  std::string eta_ = "--:--:--";
};

}  // namespace zm
