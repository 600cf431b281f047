#include "sched/cancel_token.hpp"

#include <csignal>

namespace zm {
namespace {

std::atomic<CancelToken*> g_token{nullptr};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};
bool g_installed = false;

extern "C" void on_cancel_signal(int sig) {
  CancelToken* token = g_token.load();
  if (token == nullptr || token->requested()) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  token->request(sig);
}

}  // namespace

void install_cancel_signal_handlers(CancelToken& token) {
  g_token.store(&token);
  if (g_installed) return;
  struct sigaction sa {};
  sa.sa_handler = on_cancel_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // interrupted reads/writes resume; the token is polled, not waited on
  sigaction(SIGINT, &sa, &g_previous_int);
  sigaction(SIGTERM, &sa, &g_previous_term);
  g_installed = true;
}

void remove_cancel_signal_handlers() {
  if (!g_installed) return;
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
  g_installed = false;
  g_token.store(nullptr);
}

}  // namespace zm
