#include "pipeline/run_marker.hpp"

#include <fstream>

#include "core/hash.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/routes/grid/stack_plan_csv.hpp"

namespace zm {
namespace fs = std::filesystem;

std::string run_signature(const RunContext& ctx) {
  Hasher h;
  for (const auto& f : scan_input_folder(ctx.input_dir, ctx.output_dir)) {
    const std::string line = f.path.string() + '|' + std::to_string(f.size) + '|' + std::to_string(f.mtime_ns) + '\n';
    h.update(line);
  }
  if (const auto plan = find_stack_plan(ctx.input_dir)) {  // grid mode: the plan's content is an input too
    std::ifstream in(*plan, std::ios::binary);
    h.update(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  }
  std::vector<std::string_view> keys;
  for (const auto& k : config_schema())
    if (k.affects_output) keys.push_back(k.name);
  h.update(ctx.config.hash_of(keys));
  return h.hex();
}

std::optional<RunOutcome> load_complete_run(const RunContext& ctx, const std::string& signature) {
  const auto out = read_manifest<std::optional<RunOutcome>>(
      ctx.cache.run_complete(), ctx.events(), [&](const nlohmann::json& j) -> std::optional<RunOutcome> {
        if (j.at("signature") != signature) return std::nullopt;
        for (const char* k : {"science", "coverage", "preview"})
          if (!fs::exists(j.at(k).get<std::string>())) return std::nullopt;
        if (!j.at("aesthetic").get<std::string>().empty() && !fs::exists(j.at("aesthetic").get<std::string>()))
          return std::nullopt;
        RunOutcome o;
        o.frames_found = j.at("frames_found");
        o.frames_used = j.at("frames_used");
        o.inputs_set_aside = j.at("inputs_set_aside");
        o.groups = j.at("groups");
        o.master_tiles = j.at("master_tiles").get<std::vector<std::string>>();
        o.science = j.at("science");
        o.aesthetic = j.at("aesthetic");
        o.coverage = j.at("coverage");
        o.preview = j.at("preview");
        o.sky_kept_fraction = j.at("sky_kept_fraction");
        o.reused_complete_run = true;
        return o;
      });
  return out ? *out : std::nullopt;
}

void save_complete_run(const RunContext& ctx, const std::string& signature, const RunOutcome& o) {
  write_manifest(ctx.cache.run_complete(), {{"signature", signature},
                                            {"frames_found", o.frames_found},
                                            {"frames_used", o.frames_used},
                                            {"inputs_set_aside", o.inputs_set_aside},
                                            {"groups", o.groups},
                                            {"master_tiles", o.master_tiles},
                                            {"science", o.science},
                                            {"aesthetic", o.aesthetic},
                                            {"coverage", o.coverage},
                                            {"preview", o.preview},
                                            {"sky_kept_fraction", o.sky_kept_fraction}});
}

void clear_resume_state(const RunContext& ctx) {
  std::error_code ec;
  for (const fs::path& p : ctx.cache.resume_state()) fs::remove_all(p, ec);
}

}  // namespace zm
