// Temp-file-then-rename output so a reader never sees a half-written file and a killed run leaves no debris.
#pragma once

#include <filesystem>
#include <string>

namespace zm {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::filesystem::path final_path);
  ~AtomicOutput();  // removes the temp file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // A unique path in the same folder (same filesystem, so rename is atomic).
  const std::filesystem::path& temp_path() const noexcept { return temp_; }
  const std::filesystem::path& final_path() const noexcept { return final_; }
  // fsync the temp file, rename it over the final path, fsync the folder.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Atomically replaces `path` with `text` (manifests, JSON, CSV).
void write_text_atomic(const std::filesystem::path& path, const std::string& text);

}  // namespace zm
