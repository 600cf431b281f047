// `zemosaic run --input DIR --output DIR [--config FILE]`: the mosaic pipeline, reporting through the event stream.
#include <fmt/format.h>

#include <iostream>
#include <stdexcept>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "events/event_stream.hpp"
#include "events/progress.hpp"
#include "events/telemetry.hpp"
#include "pipeline/run.hpp"
#include "plan/capabilities.hpp"
#include "sched/cancel_token.hpp"

namespace zm::cli {
namespace {

struct RunArgs {
  std::string input, output, config_file, events_file;
  bool quiet = false, verbose = false;
  double assume_cores = -1, assume_ram_gb = -1, assume_vram_gb = -2, assume_disk_gb = -1;
  int workers = 0;
};

Config build_config(const RunArgs& a, EventStream* events) {
  std::vector<std::string> warnings;
  Config cfg = a.config_file.empty() ? Config() : Config::load_file(a.config_file, warnings);
  if (a.assume_cores >= 0) cfg.set("assume_cores", static_cast<long long>(a.assume_cores));
  if (a.assume_ram_gb >= 0) cfg.set("assume_ram_gb", a.assume_ram_gb);
  if (a.assume_vram_gb >= -1) cfg.set("assume_vram_gb", a.assume_vram_gb);
  if (a.assume_disk_gb >= 0) cfg.set("assume_disk_gb", a.assume_disk_gb);
  if (a.workers > 0) cfg.set("parallel_max_cpu_workers", a.workers);
  for (const auto& w : warnings)
    if (events) events->warn("CONFIG_WARNING", {{"message", w}});
  return cfg;
}

int execute(const RunArgs& a) {
  namespace fs = std::filesystem;
  EventStreamOptions eo;
  eo.events_path = a.events_file;
  eo.human = &std::cerr;
  eo.tty = stderr_is_tty();
  eo.verbosity = a.quiet ? Verbosity::quiet : (a.verbose ? Verbosity::verbose : Verbosity::normal);
  if (!a.events_file.empty() && fs::path(a.events_file).has_parent_path())
    fs::create_directories(fs::path(a.events_file).parent_path());
  EventStream events(eo);
  RunProgress progress(events);
  CancelToken cancel;
  install_cancel_signal_handlers(cancel);
  int code = 0;
  try {
    fs::create_directories(a.output);
    RunContext ctx = make_run_context(a.input, a.output, build_config(a, &events), probe_capabilities(a.output),
                                      progress, &cancel);
    TelemetryOptions to;
    to.interval_s = ctx.options.run.telemetry_interval_s;
    to.csv_path = ctx.output_dir / "resource_telemetry.csv";
    to.cores = ctx.caps.usable_cores;
    TelemetrySampler telemetry(events, to);
    const RunOutcome out = run_pipeline(ctx);
    telemetry.stop();
    // A GUI following the events file would wait forever on a file that stopped mid-run: such a run fails.
    if (const auto lost = events.write_error()) throw std::runtime_error(*lost + " (the events file is incomplete)");
    events.emit(EventLevel::Success, "RUN_SUMMARY",
                {{"frames_used", out.frames_used},
                 {"inputs_set_aside", out.inputs_set_aside},
                 {"groups", out.groups},
                 {"master_tiles", out.master_tiles},
                 {"science", out.science},
                 {"aesthetic", out.aesthetic},
                 {"coverage", out.coverage},
                 {"preview", out.preview},
                 {"reused_complete_run", out.reused_complete_run},
                 {"sky_kept_fraction", out.sky_kept_fraction},
                 {"output", fs::absolute(ctx.output_dir).string()}});
    progress.finish();
  } catch (const RunCancelled& e) {
    progress.fail(e.what());
    code = 130;
  } catch (const InputError& e) {
    progress.fail(e.what());
    code = 2;
  } catch (const std::exception& e) {
    progress.fail(e.what());
    code = 1;
  }
  remove_cancel_signal_handlers();
  events.close();
  if (const auto lost = events.write_error(); lost && code == 0) {  // the last lines (or the close) failed
    std::cerr << "error: " << *lost << "; the run's events file is incomplete, so the run counts as failed\n";
    code = 1;
  }
  return code;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run the mosaic pipeline on a folder of FITS frames");
  static RunArgs a;
  cmd->add_option("--input", a.input, "folder of input frames (searched recursively; never modified)")->required();
  cmd->add_option("--output", a.output, "output folder (created)")->required();
  cmd->add_option("--config", a.config_file, "JSON configuration file (see `zemosaic config`)");
  cmd->add_option("--events", a.events_file, "write the event stream as JSON lines to this file");
  cmd->add_flag("--quiet", a.quiet, "only warnings and errors on the terminal");
  cmd->add_flag("--verbose", a.verbose, "debug events on the terminal too");
  cmd->add_option("-j,--workers", a.workers, "cap the CPU workers (parallel_max_cpu_workers)");
  cmd->add_option("--assume-cores", a.assume_cores, "plan as if the machine had N logical cores");
  cmd->add_option("--assume-ram-gb", a.assume_ram_gb, "plan as if the machine had G GiB of RAM");
  cmd->add_option("--assume-vram-gb", a.assume_vram_gb, "plan as if the GPU had V GiB (0 = no GPU)");
  cmd->add_option("--assume-disk-gb", a.assume_disk_gb, "plan as if the scratch disk had D GiB free");
  cmd->callback([] {
    const int code = execute(a);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace zm::cli
