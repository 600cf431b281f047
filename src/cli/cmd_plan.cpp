// `zemosaic plan --input DIR`: the machine's capabilities and every kind's parallel plan, from FITS headers only.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "pipeline/options/run_options.hpp"
#include "plan/capabilities.hpp"
#include "plan/input_survey.hpp"
#include "plan/parallel_plan.hpp"
#include "plan/plan_table.hpp"

namespace zm::cli {
namespace {

// Clustering radius when cluster_panel_threshold is 0 (ZeMosaic's worker fallback).
constexpr double kDefaultClusterThresholdDeg = 0.05;

constexpr long long kNotGivenInt = std::numeric_limits<long long>::min();
constexpr double kNotGiven = std::numeric_limits<double>::quiet_NaN();

struct PlanArgs {
  std::string input;
  std::string config;
  std::string scratch;
  bool json = false;
  // "Not given" sentinels: any given value goes through Config::set, which rejects out-of-range ones.
  long long assume_cores = kNotGivenInt;
  double assume_ram_gb = kNotGiven;
  double assume_vram_gb = kNotGiven;
  double assume_disk_gb = kNotGiven;
};

Config load_config(const PlanArgs& a) {
  std::vector<std::string> warnings;
  Config cfg = a.config.empty() ? Config() : Config::load_file(a.config, warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
  if (a.assume_cores != kNotGivenInt) cfg.set("assume_cores", a.assume_cores, "--assume-cores");
  if (!std::isnan(a.assume_ram_gb)) cfg.set("assume_ram_gb", a.assume_ram_gb, "--assume-ram-gb");
  if (!std::isnan(a.assume_vram_gb)) cfg.set("assume_vram_gb", a.assume_vram_gb, "--assume-vram-gb");
  if (!std::isnan(a.assume_disk_gb)) cfg.set("assume_disk_gb", a.assume_disk_gb, "--assume-disk-gb");
  return cfg;
}

std::filesystem::path scratch_folder(const PlanArgs& a, const RunOptions& options) {
  std::string dir = a.scratch.empty() ? options.plan.memmap_dir : a.scratch;
  if (dir.empty()) dir = ".";
  std::error_code ec;
  const auto abs = std::filesystem::absolute(dir, ec);
  return ec ? std::filesystem::path(dir) : abs.lexically_normal();
}

void run(const PlanArgs& a) {
  const RunOptions options = build_run_options(load_config(a));
  const InputSurvey survey = survey_input_folder(a.input);
  for (const auto& s : survey.skipped) std::cerr << "skipped " << s << "\n";
  if (survey.frames.empty()) std::cerr << "warning: no readable FITS frame under " << a.input << "\n";
  const double threshold = options.cluster.params.threshold_deg;
  const JobSizes job = job_sizes_from_survey(survey, threshold > 0 ? threshold : kDefaultClusterThresholdDeg);
  Capabilities caps = probe_capabilities(scratch_folder(a, options));
  apply_assumptions(caps, options.machine);
  const std::vector<ParallelPlan> plans = make_all_plans(caps, options.plan, job);

  if (a.json) {
    nlohmann::json j;
    j["capabilities"] = to_json(caps);
    j["job"] = to_json(job);
    j["plans"] = nlohmann::json::object();
    for (const auto& p : plans) j["plans"][std::string(to_string(p.kind))] = to_json(p);
    j["skipped"] = survey.skipped;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << render_capabilities(caps) << "\nJob\n";
  for (const auto& n : job.notes) std::cout << "  - " << n << "\n";
  std::cout << "\n" << render_plan_table(plans);
}

}  // namespace

void add_plan_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("plan", "Capabilities and the parallel plan of every kind for a folder (headers only)");
  static PlanArgs a;
  cmd->add_option("--input", a.input, "folder of FITS frames (searched recursively)")->required();
  cmd->add_option("--config", a.config, "JSON config file");
  cmd->add_flag("--json", a.json, "print JSON with top-level keys capabilities, job, plans");
  cmd->add_option("--assume-cores", a.assume_cores, "plan as if the machine had N logical cores");
  cmd->add_option("--assume-ram-gb", a.assume_ram_gb, "plan as if the machine had G GiB of RAM (all available)");
  cmd->add_option("--assume-vram-gb", a.assume_vram_gb, "plan as if the GPU had V GiB (0 = no GPU)");
  cmd->add_option("--assume-disk-gb", a.assume_disk_gb, "plan as if the scratch disk had D GiB free");
  cmd->add_option("--scratch", a.scratch, "scratch folder for memmap files (default: memmap_dir, else the current folder)");
  cmd->callback([] { run(a); });
}

}  // namespace zm::cli
