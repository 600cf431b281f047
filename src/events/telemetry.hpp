// The resource sampler: resource_telemetry.csv and STATS_UPDATE events every telemetry_interval_s.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "events/event_stream.hpp"
#include "sched/resource_usage.hpp"

namespace zm {

struct TelemetryOptions {
  double interval_s = 2.0;         // telemetry_interval_s; 0 = no sampling thread
  std::filesystem::path csv_path;  // empty = no CSV (events only)
  unsigned cores = 1;              // cpu_percent is process CPU time / (wall time x cores)
  bool sample_gpu = false;         // ask the CUDA runtime for used VRAM (only when the run uses the GPU)
};

// Column order of resource_telemetry.csv (GPU memory is empty when unknown).
inline constexpr const char* kTelemetryCsvHeader =
    "time_s,phase,phase_name,cpu_percent,rss_bytes,peak_rss_bytes,ram_available_bytes,gpu_used_bytes";

class TelemetrySampler {
 public:
  TelemetrySampler(EventStream& events, TelemetryOptions options);
  ~TelemetrySampler();  // stops the thread after a last sample
  TelemetrySampler(const TelemetrySampler&) = delete;
  TelemetrySampler& operator=(const TelemetrySampler&) = delete;

  // Takes one sample now: appends a CSV row and emits STATS_UPDATE. Returns the event's fields.
  nlohmann::json sample();
  void stop();

 private:
  void loop();

  EventStream& events_;
  TelemetryOptions options_;
  CpuPercentMeter cpu_;
  std::ofstream csv_;
  std::mutex sample_m_;
  std::mutex m_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zm
