// Limits how many work items use the GPU at once (the plan's gpu_concurrency).
#pragma once

#include <condition_variable>
#include <mutex>

#include "sched/cancel_token.hpp"

namespace zm {

class GpuSemaphore {
 public:
  // Holds one GPU slot; releases it when destroyed.
  class Slot {
   public:
    Slot() = default;
    explicit Slot(GpuSemaphore* owner) : owner_(owner) {}
    Slot(Slot&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Slot& operator=(Slot&& o) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    void release();
    bool held() const noexcept { return owner_ != nullptr; }

   private:
    GpuSemaphore* owner_ = nullptr;
  };

  explicit GpuSemaphore(int slots) : free_(slots), slots_(slots) {}

  // Blocks until a slot is free. Throws std::logic_error when the semaphore has no slots (the plan has no GPU),
  // Cancelled when `cancel` is requested while waiting.
  Slot acquire(const CancelToken* cancel = nullptr);
  int slots() const noexcept { return slots_; }
  int in_use() const;
  int peak_in_use() const;

 private:
  void release_one();
  mutable std::mutex m_;
  std::condition_variable cv_;
  int free_;
  int slots_;
  int peak_ = 0;
};

}  // namespace zm
