// Reading an events file back for the event-stream tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zm::test {

inline std::vector<nlohmann::json> read_events(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline std::vector<nlohmann::json> with_key(const std::vector<nlohmann::json>& events, const std::string& key) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events)
    if (e["key"] == key) out.push_back(e);
  return out;
}

}  // namespace zm::test
