// The run configuration: one JSON object validated against a declarative key table (config_schema).
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zm {

enum class ConfigType { Bool, Int, Double, String, DoubleList };

// One configuration key: name as in ZeMosaic's config where one exists, type, default, bounds, help.
struct ConfigKey {
  std::string_view name;
  ConfigType type;
  nlohmann::json default_value;
  std::string_view help;
  std::vector<std::string_view> choices = {};  // String keys: allowed values (empty = free text)
  double min = -1e300;                          // Int/Double keys: inclusive bounds
  double max = 1e300;
  // False for settings that change how a run is carried out (workers, memory, retention) but never its outputs:
  // they stay out of every resume signature.
  bool affects_output = true;
};

// Every key zemosaic-cpp understands; the single source for validation, --dump-config and the README table.
const std::vector<ConfigKey>& config_schema();
const ConfigKey* find_config_key(std::string_view name);
std::string_view to_string(ConfigType type);

class Config {
 public:
  Config();  // all defaults

  // Reads a JSON object file. Unknown keys are appended to `warnings` (and ignored); a wrong type,
  // an out-of-range value or a bad choice throws InputError(BadConfig) naming the file and the key.
  static Config load_file(const std::filesystem::path& path, std::vector<std::string>& warnings);

  // Merges a JSON object with the same rules (`origin` names it in errors, e.g. a file or "--set").
  void merge(const nlohmann::json& object, const std::string& origin, std::vector<std::string>& warnings);
  // Sets one known key (CLI overrides); throws InputError(BadConfig) on a bad value or unknown key.
  void set(std::string_view key, const nlohmann::json& value, const std::string& origin = "command line");

  bool get_bool(std::string_view key) const;
  long long get_int(std::string_view key) const;
  double get_double(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<double> get_double_list(std::string_view key) const;

  const nlohmann::json& values() const noexcept { return values_; }
  // Where the key's value came from (the config file, "command line", ...); "default" when never set.
  std::string origin_of(std::string_view key) const;
  // Stable hash of the given keys' values (resume manifests key phases on what affects them).
  std::string hash_of(std::span<const std::string_view> keys) const;

 private:
  const nlohmann::json& value_of(std::string_view key, ConfigType expected) const;
  nlohmann::json values_;
  std::map<std::string, std::string, std::less<>> origins_;
};

}  // namespace zm
