// zemosaic: command-line entry point. Parses options and dispatches to sub-commands; no pipeline logic here.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"zemosaic-cpp: mosaics of overlapping astronomical FITS frames"};
  app.set_version_flag("--version", std::string("zemosaic-cpp ") + ZM_VERSION);
  app.require_subcommand(1);
  zm::cli::add_info_command(app);
  zm::cli::add_config_command(app);
  zm::cli::add_run_command(app);
  // sub-commands register here (one line each)
  zm::cli::add_plan_command(app);
  zm::cli::add_simulate_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const zm::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
