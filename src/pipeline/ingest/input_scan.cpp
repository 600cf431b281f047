#include "pipeline/ingest/input_scan.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "core/error.hpp"

namespace zm {
namespace fs = std::filesystem;

bool has_fits_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".fit" || ext == ".fits" || ext == ".fts";
}

std::vector<InputFile> scan_input_folder(const fs::path& input_dir, const fs::path& exclude_dir) {
  std::error_code ec;
  if (!fs::is_directory(input_dir, ec))
    throw InputError(InputErrorKind::NotFound, input_dir.string(), "input folder does not exist or is not a folder");
  const fs::path excluded = exclude_dir.empty() ? fs::path() : fs::weakly_canonical(exclude_dir, ec);
  std::vector<InputFile> files;
  fs::recursive_directory_iterator it(input_dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::directory_entry& e = *it;
    if (e.is_directory(ec)) {
      if (!excluded.empty() && fs::weakly_canonical(e.path(), ec) == excluded) it.disable_recursion_pending();
      continue;
    }
    if (!e.is_regular_file(ec) || !has_fits_extension(e.path())) continue;
    InputFile f;
    f.path = e.path();
    f.size = e.file_size(ec);
    f.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(e.last_write_time(ec).time_since_epoch()).count();
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(), [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace zm
