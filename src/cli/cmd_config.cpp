// `zemosaic config`: prints every configuration key with its default (JSON) or as the README's markdown table.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.hpp"
#include "core/config.hpp"
#include "pipeline/options/run_options.hpp"

namespace zm::cli {
namespace {

std::string describe_range(const ConfigKey& k) {
  if (!k.choices.empty()) {
    std::string s;
    for (auto c : k.choices) s += (s.empty() ? "" : " \\| ") + std::string(c);
    return s;
  }
  if ((k.type == ConfigType::Int || k.type == ConfigType::Double) && (k.min > -1e299 || k.max < 1e299))
    return fmt::format("[{}, {}]", k.min, k.max);
  return "";
}

void print_markdown() {
  std::cout << "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const auto& k : config_schema())
    std::cout << fmt::format("| `{}` | {} | `{}` | {} | {} |\n", k.name, to_string(k.type), k.default_value.dump(),
                             describe_range(k), k.help);
}

}  // namespace

void add_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("config", "Print every configuration key with its default value");
  static bool markdown = false;
  static std::string file;
  cmd->add_flag("--markdown", markdown, "print the key table as markdown (as in the README)");
  cmd->add_option("--check", file, "validate a config file: prints the effective configuration, warnings on stderr");
  cmd->callback([] {
    if (markdown) {
      print_markdown();
      return;
    }
    std::vector<std::string> warnings;
    Config cfg = file.empty() ? Config() : Config::load_file(file, warnings);
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
    build_run_options(cfg);  // the rules across keys (e.g. gain limits [min, max]) as a run applies them
    std::cout << cfg.values().dump(2) << "\n";
  });
}

}  // namespace zm::cli
