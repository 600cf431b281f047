#include "pipeline/run_context.hpp"

namespace zm {

void RunContext::check() const {
  if (cancelled()) throw RunCancelled();
  if (const auto failure = events().write_error()) throw PipelineError(*failure);
}

RunContext make_run_context(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                            Config config, Capabilities caps, RunProgress& progress, const CancelToken* cancel) {
  RunContext ctx;
  ctx.input_dir = input_dir;
  ctx.output_dir = output_dir;
  ctx.cache = CacheLayout::under(output_dir);
  ctx.options = build_run_options(config);
  ctx.config = std::move(config);
  ctx.caps = std::move(caps);
  apply_assumptions(ctx.caps, ctx.options.machine);
  ctx.progress = &progress;
  ctx.cancel = cancel;
  return ctx;
}

}  // namespace zm
