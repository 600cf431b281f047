#include "plan/plan_table.hpp"

#include <fmt/format.h>

#include <functional>
#include <vector>

#include "plan/bytes_text.hpp"

namespace zm {

std::string render_capabilities(const Capabilities& c) {
  std::string out = "Capabilities\n";
  out += fmt::format("  cores      {} usable ({} logical, {} physical, affinity {}, cgroup quota {})\n", c.usable_cores,
                     c.logical_cores, c.physical_cores, c.affinity_cores,
                     c.cgroup_cpu_limit > 0 ? fmt::format("{:.2f}", c.cgroup_cpu_limit) : std::string("none"));
  out += fmt::format("  RAM        {} total, {} available{}\n", human_bytes(c.ram_total_bytes),
                     human_bytes(c.ram_available_bytes),
                     c.cgroup_memory_limit_bytes > 0 ? ", cgroup limit " + human_bytes(c.cgroup_memory_limit_bytes) : "");
  out += fmt::format("  scratch    {} ({} free)\n", c.scratch_dir,
                     c.disk_free_bytes > 0 ? human_bytes(c.disk_free_bytes) : std::string("unknown"));
  out += c.gpu.present ? fmt::format("  GPU        {}: {} total, {} free{}\n", c.gpu.name, human_bytes(c.gpu.vram_total),
                                     human_bytes(c.gpu.vram_free), c.cuda_built ? "" : " (binary without CUDA)")
                       : fmt::format("  GPU        none: {}\n", c.gpu.reason);
  for (const auto& n : c.notes) out += "  - " + n + "\n";
  return out;
}

std::string render_plan_table(std::span<const ParallelPlan> plans) {
  using Cell = std::function<std::string(const ParallelPlan&)>;
  auto bytes = [](std::uint64_t b) { return b > 0 ? human_bytes(b) : std::string("-"); };
  const std::vector<std::pair<const char*, Cell>> rows = {
      {"cpu_workers", [](const ParallelPlan& p) { return std::to_string(p.cpu_workers); }},
      {"io_workers", [](const ParallelPlan& p) { return std::to_string(p.io_workers); }},
      {"tiles_in_flight", [](const ParallelPlan& p) { return std::to_string(p.tiles_in_flight); }},
      {"ram_budget", [&](const ParallelPlan& p) { return bytes(p.ram_budget_bytes); }},
      {"max_chunk", [&](const ParallelPlan& p) { return bytes(p.max_chunk_bytes); }},
      {"rows_per_chunk", [](const ParallelPlan& p) { return std::to_string(p.rows_per_chunk); }},
      {"use_memmap", [](const ParallelPlan& p) { return std::string(p.use_memmap ? "yes" : "no"); }},
      {"use_gpu", [](const ParallelPlan& p) { return std::string(p.use_gpu ? "yes" : "no"); }},
      {"gpu_budget", [&](const ParallelPlan& p) { return bytes(p.gpu_budget_bytes); }},
      {"gpu_max_chunk", [&](const ParallelPlan& p) { return bytes(p.gpu_max_chunk_bytes); }},
      {"gpu_rows_per_chunk", [](const ParallelPlan& p) { return std::to_string(p.gpu_rows_per_chunk); }},
      {"gpu_concurrency", [](const ParallelPlan& p) { return std::to_string(p.gpu_concurrency); }},
  };
  std::string out = fmt::format("{:<20}", "plan");
  for (const auto& p : plans) out += fmt::format(" {:>14}", to_string(p.kind));
  out += "\n";
  for (const auto& [name, cell] : rows) {
    out += fmt::format("{:<20}", name);
    for (const auto& p : plans) out += fmt::format(" {:>14}", cell(p));
    out += "\n";
  }
  if (!plans.empty()) out += fmt::format("{:<20} {}\n", "memmap_dir", plans.front().memmap_dir);
  for (const auto& p : plans) {
    out += fmt::format("\nreasons for {}:\n", to_string(p.kind));
    for (const auto& r : p.reasons) out += "  - " + r + "\n";
  }
  return out;
}

}  // namespace zm
