#include "core/config.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

#include "core/error.hpp"
#include "core/hash.hpp"

namespace zm {

std::string_view to_string(ConfigType type) {
  switch (type) {
    case ConfigType::Bool: return "boolean";
    case ConfigType::Int: return "integer";
    case ConfigType::Double: return "number";
    case ConfigType::String: return "string";
    case ConfigType::DoubleList: return "list of numbers";
  }
  return "?";
}

const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& key : config_schema()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

namespace {

// Returns the value converted to the key's canonical JSON type, or throws with a specific reason.
nlohmann::json checked_value(const ConfigKey& key, const nlohmann::json& v, const std::string& origin) {
  auto fail = [&](const std::string& why) {
    throw InputError(InputErrorKind::BadConfig, origin, fmt::format("config key '{}': {}", key.name, why));
  };
  auto check_range = [&](double x) {
    if (!std::isfinite(x)) fail("value is not finite");
    if (x < key.min || x > key.max) fail(fmt::format("value {} is outside [{}, {}]", x, key.min, key.max));
  };
  switch (key.type) {
    case ConfigType::Bool:
      if (!v.is_boolean()) fail(fmt::format("expected a boolean, got {}", v.dump()));
      return v;
    case ConfigType::Int: {
      if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
        fail(fmt::format("expected an integer, got {}", v.dump()));
      const auto x = v.is_number_integer() ? v.get<long long>() : static_cast<long long>(v.get<double>());
      check_range(static_cast<double>(x));
      return x;
    }
    case ConfigType::Double: {
      if (!v.is_number()) fail(fmt::format("expected a number, got {}", v.dump()));
      check_range(v.get<double>());
      return v.get<double>();
    }
    case ConfigType::String: {
      if (!v.is_string()) fail(fmt::format("expected a string, got {}", v.dump()));
      const auto s = v.get<std::string>();
      if (!key.choices.empty()) {
        bool ok = false;
        std::string list;
        for (auto c : key.choices) {
          ok = ok || c == s;
          list += (list.empty() ? "" : ", ") + std::string(c);
        }
        if (!ok) fail(fmt::format("'{}' is not one of: {}", s, list));
      }
      return s;
    }
    case ConfigType::DoubleList: {
      if (!v.is_array()) fail(fmt::format("expected a list of numbers, got {}", v.dump()));
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : v) {
        if (!e.is_number()) fail(fmt::format("expected a list of numbers, got {}", v.dump()));
        out.push_back(e.get<double>());
      }
      return out;
    }
  }
  return v;
}

}  // namespace

Config::Config() : values_(nlohmann::json::object()) {
  for (const auto& key : config_schema()) values_[std::string(key.name)] = key.default_value;
}

Config Config::load_file(const std::filesystem::path& path, std::vector<std::string>& warnings) {
  std::ifstream in(path);
  if (!in) throw InputError(InputErrorKind::NotFound, path.string(), "cannot open config file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(InputErrorKind::BadConfig, path.string(), fmt::format("not valid JSON: {}", e.what()));
  }
  Config cfg;
  cfg.merge(doc, path.string(), warnings);
  return cfg;
}

void Config::merge(const nlohmann::json& object, const std::string& origin, std::vector<std::string>& warnings) {
  if (!object.is_object())
    throw InputError(InputErrorKind::BadConfig, origin, "the configuration must be a JSON object");
  for (const auto& [name, value] : object.items()) {
    const ConfigKey* key = find_config_key(name);
    if (key == nullptr) {
      warnings.push_back(fmt::format("{}: unknown config key '{}' ignored", origin, name));
      continue;
    }
    values_[name] = checked_value(*key, value, origin);
    origins_[name] = origin;
  }
}

void Config::set(std::string_view name, const nlohmann::json& value, const std::string& origin) {
  const ConfigKey* key = find_config_key(name);
  if (key == nullptr)
    throw InputError(InputErrorKind::BadConfig, origin, fmt::format("unknown config key '{}'", name));
  values_[std::string(name)] = checked_value(*key, value, origin);
  origins_[std::string(name)] = origin;
}

std::string Config::origin_of(std::string_view key) const {
  const auto it = origins_.find(key);
  return it == origins_.end() ? std::string("default") : it->second;
}

const nlohmann::json& Config::value_of(std::string_view name, ConfigType expected) const {
  const ConfigKey* key = find_config_key(name);
  if (key == nullptr || key->type != expected)
    throw std::logic_error(fmt::format("config key '{}' is not a registered {}", name, to_string(expected)));
  return values_.at(std::string(name));
}

bool Config::get_bool(std::string_view key) const { return value_of(key, ConfigType::Bool).get<bool>(); }
long long Config::get_int(std::string_view key) const { return value_of(key, ConfigType::Int).get<long long>(); }
double Config::get_double(std::string_view key) const { return value_of(key, ConfigType::Double).get<double>(); }
std::string Config::get_string(std::string_view key) const {
  return value_of(key, ConfigType::String).get<std::string>();
}
std::vector<double> Config::get_double_list(std::string_view key) const {
  return value_of(key, ConfigType::DoubleList).get<std::vector<double>>();
}

std::string Config::hash_of(std::span<const std::string_view> keys) const {
  nlohmann::json subset = nlohmann::json::object();
  for (auto k : keys) {
    if (find_config_key(k) == nullptr) throw std::logic_error(fmt::format("hash_of: unknown key '{}'", k));
    subset[std::string(k)] = values_.at(std::string(k));
  }
  return hash_hex(subset.dump());
}

}  // namespace zm
