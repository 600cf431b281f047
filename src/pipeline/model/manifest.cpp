#include "pipeline/model/manifest.hpp"

#include <fstream>

#include "io/atomic_file.hpp"
#include "pipeline/pipeline_events.hpp"

namespace zm {

void write_manifest(const std::filesystem::path& path, const nlohmann::json& content) {
  write_text_atomic(path, content.dump(1));
}

void report_discarded_manifest(const std::filesystem::path& path, const std::string& reason, EventStream& events) {
  events.warn(pipeline_keys::kResumeDiscarded, {{"file", path.string()}, {"reason", reason}});
}

std::optional<nlohmann::json> load_manifest_json(const std::filesystem::path& path, EventStream& events) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  std::ifstream in(path);
  if (!in) {
    report_discarded_manifest(path, "cannot be opened", events);
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    report_discarded_manifest(path, e.what(), events);
    return std::nullopt;
  }
}

bool manifest_has_key(const std::filesystem::path& path, const std::string& key, EventStream& events) {
  const auto stored = read_manifest<std::string>(
      path, events, [](const nlohmann::json& j) { return j.at("key").get<std::string>(); });
  return stored && *stored == key;
}

}  // namespace zm
