// Reads configuration keys for the typed options builders and records who read what: a stage's record is its
// resume signature, and the log proves that each key has exactly one builder.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace zm {

// Which builder read which key, over every reader that shares it (the key-coverage test reads it).
struct OptionLog {
  std::map<std::string, std::set<std::string>, std::less<>> builders_of;  // key -> names of the builders reading it
};

// One reader per stage (a phase or a run-level concern). Values are read only inside a named builder scope
// (`auto b = reader.builder("stack_rejection")`); a read outside one is a programming error (std::logic_error).
class OptionReader {
 public:
  explicit OptionReader(const Config& config, OptionLog* log = nullptr);

  // RAII: reads until it goes out of scope are attributed to `name`. Scopes nest (the innermost wins).
  class Scope {
   public:
    Scope(OptionReader& r, std::string_view name);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    OptionReader& r_;
    std::string previous_;
  };
  [[nodiscard]] Scope builder(std::string_view name) { return Scope(*this, name); }

  bool flag(std::string_view key);
  long long integer(std::string_view key);
  int small_int(std::string_view key);  // an Int key whose schema bounds fit an int
  double number(std::string_view key);
  std::string text(std::string_view key);
  std::vector<double> numbers(std::string_view key);

  // A value that passes the schema but not a rule across keys (e.g. gain limits [2, 0.5]): InputError(BadConfig)
  // naming where the key was set and why.
  [[noreturn]] void reject(std::string_view key, const std::string& why) const;

  // Keys read so far, in reading order, each once.
  const std::vector<std::string_view>& keys() const noexcept { return keys_; }
  // Hash of the values of the keys read that change outputs (ConfigKey::affects_output): the stage's settings in
  // every resume key.
  std::string signature() const;

 private:
  void note(std::string_view key);
  const Config& config_;
  OptionLog* log_;
  std::string builder_;
  std::vector<std::string_view> keys_;
};

}  // namespace zm
