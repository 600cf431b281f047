#include "sched/gpu_semaphore.hpp"

#include <chrono>
#include <stdexcept>

namespace zm {

GpuSemaphore::Slot& GpuSemaphore::Slot::operator=(Slot&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

void GpuSemaphore::Slot::release() {
  if (owner_ != nullptr) owner_->release_one();
  owner_ = nullptr;
}

GpuSemaphore::Slot GpuSemaphore::acquire(const CancelToken* cancel) {
  if (slots_ <= 0) throw std::logic_error("GPU slot requested but the plan allows no GPU job (gpu_concurrency 0)");
  std::unique_lock lk(m_);
  // The token is set from a signal handler, which cannot notify: poll it.
  while (!cv_.wait_for(lk, std::chrono::milliseconds(50), [&] { return free_ > 0; })) {
    if (cancel != nullptr && cancel->requested()) throw Cancelled();
  }
  if (cancel != nullptr && cancel->requested()) throw Cancelled();
  --free_;
  peak_ = std::max(peak_, slots_ - free_);
  return Slot(this);
}

void GpuSemaphore::release_one() {
  {
    std::lock_guard lk(m_);
    ++free_;
  }
  cv_.notify_one();
}

int GpuSemaphore::in_use() const {
  std::lock_guard lk(m_);
  return slots_ - free_;
}

int GpuSemaphore::peak_in_use() const {
  std::lock_guard lk(m_);
  return peak_;
}

}  // namespace zm
