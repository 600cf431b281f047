#include "core/option_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "core/error.hpp"

namespace zm {

OptionReader::OptionReader(const Config& config, OptionLog* log) : config_(config), log_(log) {}

OptionReader::Scope::Scope(OptionReader& r, std::string_view name) : r_(r), previous_(r.builder_) {
  r_.builder_ = std::string(name);
}

OptionReader::Scope::~Scope() { r_.builder_ = previous_; }

void OptionReader::note(std::string_view key) {
  const ConfigKey* k = find_config_key(key);
  if (k == nullptr) throw std::logic_error(fmt::format("options: '{}' is not a configuration key", key));
  if (builder_.empty()) throw std::logic_error(fmt::format("options: '{}' read outside an options builder", key));
  if (std::find(keys_.begin(), keys_.end(), k->name) == keys_.end()) keys_.push_back(k->name);
  if (log_ != nullptr) log_->builders_of[std::string(k->name)].insert(builder_);
}

bool OptionReader::flag(std::string_view key) {
  note(key);
  return config_.get_bool(key);
}

long long OptionReader::integer(std::string_view key) {
  note(key);
  return config_.get_int(key);
}

int OptionReader::small_int(std::string_view key) {
  const long long v = integer(key);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    reject(key, fmt::format("{} does not fit a 32-bit integer", v));
  return static_cast<int>(v);
}

double OptionReader::number(std::string_view key) {
  note(key);
  return config_.get_double(key);
}

std::string OptionReader::text(std::string_view key) {
  note(key);
  return config_.get_string(key);
}

std::vector<double> OptionReader::numbers(std::string_view key) {
  note(key);
  return config_.get_double_list(key);
}

void OptionReader::reject(std::string_view key, const std::string& why) const {
  throw InputError(InputErrorKind::BadConfig, config_.origin_of(key), fmt::format("config key '{}': {}", key, why));
}

std::string OptionReader::signature() const {
  std::vector<std::string_view> shaping;
  for (auto k : keys_)
    if (find_config_key(k)->affects_output) shaping.push_back(k);
  return config_.hash_of(shaping);
}

}  // namespace zm
