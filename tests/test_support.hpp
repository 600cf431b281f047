// Helpers shared by the tests: scratch folders and the location of the shared real data.
#pragma once

#include <filesystem>
#include <optional>
#include <random>
#include <string>

namespace zm::test {

// A fresh folder under the build tree, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t") {
    std::random_device rd;
    path_ = std::filesystem::path(ZM_BINARY_DIR) / "test_tmp" / (tag + "_" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// ../shared/data when present (it is beside the checkout in CI), else nullopt (tests then skip).
inline std::optional<std::filesystem::path> shared_data_dir() {
  std::filesystem::path p = std::filesystem::path(ZM_SHARED_DIR) / "data";
  if (std::filesystem::is_directory(p)) return p;
  return std::nullopt;
}

}  // namespace zm::test
