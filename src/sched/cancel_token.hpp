// Cooperative cancellation of a run: SIGINT/SIGTERM set a token; schedulers stop admitting, items may poll it.
#pragma once

#include <atomic>
#include <stdexcept>

namespace zm {

class CancelToken {
 public:
  // Async-signal-safe: only lock-free atomic stores.
  void request(int signal_number = 0) noexcept {
    signal_.store(signal_number, std::memory_order_relaxed);
    flag_.store(true, std::memory_order_release);
  }
  bool requested() const noexcept { return flag_.load(std::memory_order_acquire); }
  int signal_number() const noexcept { return signal_.load(std::memory_order_relaxed); }
  void reset() noexcept {
    flag_.store(false, std::memory_order_release);
    signal_.store(0, std::memory_order_relaxed);
  }

 private:
  static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);
  std::atomic<bool> flag_{false};
  std::atomic<int> signal_{0};
};

// Thrown by a work item that observed the token and gave up: the item is "aborted", neither done nor failed.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

// Routes SIGINT and SIGTERM to `token` (the CLI installs this once per run). A second signal restores the default
// action and re-raises it, so a run that does not stop can still be killed. `token` must outlive the handlers.
void install_cancel_signal_handlers(CancelToken& token);
// Restores the handlers that were active before install_cancel_signal_handlers.
void remove_cancel_signal_handlers();

}  // namespace zm
