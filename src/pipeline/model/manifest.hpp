// Resume manifests: small JSON files that say which inputs and settings an artifact was made from. Written
// atomically; read back only when whole and of the expected form. A damaged one is reported (RESUME_DISCARDED)
// and its work redone, never trusted.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "events/event_stream.hpp"

namespace zm {

void write_manifest(const std::filesystem::path& path, const nlohmann::json& content);

// The manifest parsed by `read` (which throws on a field it does not find); nullopt when the file does not exist,
// and nullopt plus a RESUME_DISCARDED warning {"file", "reason"} when it cannot be parsed or read.
template <class T>
std::optional<T> read_manifest(const std::filesystem::path& path, EventStream& events,
                               const std::function<T(const nlohmann::json&)>& read);

// The manifest exists, parses and records "key" = key (a damaged one is reported as above).
bool manifest_has_key(const std::filesystem::path& path, const std::string& key, EventStream& events);

// Implementation detail of read_manifest: the file's JSON, or nullopt (reporting damage).
std::optional<nlohmann::json> load_manifest_json(const std::filesystem::path& path, EventStream& events);
void report_discarded_manifest(const std::filesystem::path& path, const std::string& reason, EventStream& events);

template <class T>
std::optional<T> read_manifest(const std::filesystem::path& path, EventStream& events,
                               const std::function<T(const nlohmann::json&)>& read) {
  const auto j = load_manifest_json(path, events);
  if (!j) return std::nullopt;
  try {
    return read(*j);
  } catch (const nlohmann::json::exception& e) {
    report_discarded_manifest(path, e.what(), events);
    return std::nullopt;
  }
}

}  // namespace zm
