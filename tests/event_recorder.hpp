// An event sink that keeps every event of a run so tests can look at what the run said.
#pragma once

#include <algorithm>
#include <mutex>
#include <string_view>
#include <vector>

#include "events/event_stream.hpp"

namespace zm::test {

class Recorder : public EventSink {
 public:
  void on_event(const Event& e) override {
    std::lock_guard lock(m_);
    events_.push_back(e);
  }
  std::vector<Event> with_key(std::string_view key) const {
    std::lock_guard lock(m_);
    std::vector<Event> out;
    for (const auto& e : events_)
      if (e.key == key) out.push_back(e);
    return out;
  }
  int count(std::string_view key) const { return static_cast<int>(with_key(key).size()); }
  std::size_t size() const {
    std::lock_guard lock(m_);
    return events_.size();
  }

 private:
  mutable std::mutex m_;
  std::vector<Event> events_;
};

}  // namespace zm::test
