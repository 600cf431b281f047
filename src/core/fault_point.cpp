#include "core/fault_point.hpp"

#include <atomic>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>

namespace zm {
namespace {

std::atomic<bool> g_armed{false};
std::mutex g_mutex;
std::string g_point;
FaultKind g_kind = FaultKind::none;

}  // namespace

void arm_fault(std::string_view point, FaultKind kind) {
  std::lock_guard lk(g_mutex);
  g_point = std::string(point);
  g_kind = kind;
  g_armed.store(kind != FaultKind::none, std::memory_order_relaxed);
}

void disarm_faults() { arm_fault({}, FaultKind::none); }

void fault_point(std::string_view point) {
  if (!g_armed.load(std::memory_order_relaxed)) return;
  FaultKind kind;
  {
    std::lock_guard lk(g_mutex);
    if (g_kind == FaultKind::none || g_point != point) return;
    kind = g_kind;
    g_kind = FaultKind::none;
    g_armed.store(false, std::memory_order_relaxed);
  }
  const std::string what = "injected fault at " + std::string(point);
  switch (kind) {
    case FaultKind::logic_error: throw std::logic_error(what);
    case FaultKind::bad_alloc: throw std::bad_alloc();
    case FaultKind::runtime_error: throw std::runtime_error(what);
    case FaultKind::none: return;
  }
}

}  // namespace zm
