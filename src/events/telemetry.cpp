#include "events/telemetry.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "events/event_keys.hpp"
#include "gpu/device_probe.hpp"
#include "plan/capabilities.hpp"

namespace zm {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

TelemetrySampler::TelemetrySampler(EventStream& events, TelemetryOptions options)
    : events_(events), options_(std::move(options)), cpu_(options_.cores) {
  if (!options_.csv_path.empty()) {
    csv_.open(options_.csv_path, std::ios::trunc);
    if (!csv_) throw InputError(InputErrorKind::Io, options_.csv_path.string(), "cannot create the telemetry CSV");
    csv_ << kTelemetryCsvHeader << "\n" << std::flush;
  }
  if (options_.interval_s > 0) thread_ = std::thread([this] { loop(); });
}

TelemetrySampler::~TelemetrySampler() { stop(); }

void TelemetrySampler::stop() {
  {
    std::lock_guard lk(m_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    sample();  // the run's last state, so short runs still get a row
  }
}

void TelemetrySampler::loop() {
  std::unique_lock lk(m_);
  const auto period = std::chrono::duration<double>(options_.interval_s);
  while (!cv_.wait_for(lk, period, [this] { return stopping_; })) {
    lk.unlock();
    sample();
    lk.lock();
  }
}

nlohmann::json TelemetrySampler::sample() {
  std::lock_guard sample_lock(sample_m_);  // the sampling thread and callers share the CPU meter and the CSV
  const double t = events_.elapsed();
  const std::string phase = events_.current_phase();
  const double cpu = cpu_.sample();
  const std::uint64_t rss = current_rss_bytes(), peak = peak_rss_bytes();
  const std::uint64_t available = read_available_ram_bytes();
  std::optional<std::uint64_t> gpu_used;
  if (options_.sample_gpu) {
    std::uint64_t free_b = 0, total_b = 0;
    if (gpu_memory_info(free_b, total_b)) gpu_used = total_b - free_b;
  }
  nlohmann::json f = {{"phase", phase},
                      {"cpu_percent", std::round(cpu * 10.0) / 10.0},
                      {"rss_bytes", rss},
                      {"peak_rss_bytes", peak},
                      {"ram_available_bytes", available}};
  if (gpu_used) f["gpu_used_bytes"] = *gpu_used;
  if (csv_.is_open()) {
    csv_ << fmt::format("{:.3f},{},{},{:.1f},{},{},{},{}\n", t, csv_field(phase), csv_field(events_.current_phase_name()),
                        cpu, rss, peak, available, gpu_used ? std::to_string(*gpu_used) : std::string())
         << std::flush;
  }
  events_.info(event_keys::kStatsUpdate, f);
  return f;
}

}  // namespace zm
