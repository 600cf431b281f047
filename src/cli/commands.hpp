// Sub-command registration: each cmd_*.cpp adds one sub-command to the zemosaic CLI.
#pragma once

#include <CLI/CLI.hpp>

namespace zm::cli {

void add_info_command(CLI::App& app);
void add_simulate_command(CLI::App& app);
void add_plan_command(CLI::App& app);
void add_config_command(CLI::App& app);
void add_run_command(CLI::App& app);

}  // namespace zm::cli
