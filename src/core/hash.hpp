// Content hashes (XXH3-128) for resume manifests and solution caches.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace zm {

// Incremental hasher; hex() gives 32 lowercase hex digits.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void update(const void* data, std::size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  std::string hex() const;

 private:
  void* state_;
};

std::string hash_hex(std::string_view text);
// Hash of a file's bytes (streamed; never loads the whole file).
std::string file_content_hash(const std::filesystem::path& path);

}  // namespace zm
