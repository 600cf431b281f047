// Errors raised for bad input: each names the file and the specific problem.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace zm {

// What went wrong with an input, so callers can react (skip the file, abort, retry) without parsing text.
enum class InputErrorKind {
  NotFound,
  Empty,
  NotFits,
  Truncated,
  BadNaxis,
  BadDimensions,
  UnsupportedBitpix,
  NoImage,
  AllNan,
  NoWcs,
  BadWcs,
  BadConfig,
  Io,
};

std::string_view to_string(InputErrorKind kind);

// An input file (or config) that cannot be used; what() reads "<path>: <reason>".
class InputError : public std::runtime_error {
 public:
  InputError(InputErrorKind kind, std::string path, std::string reason);

  InputErrorKind kind() const noexcept { return kind_; }
  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  InputErrorKind kind_;
  std::string path_;
  std::string reason_;
};

// A file the run writes (cache, tile, mosaic, manifest) could not be written: a full disk, a missing permission.
// Never a reason to set an input aside: the run stops and says which file and why. what() reads "<path>: <reason>".
class OutputError : public std::runtime_error {
 public:
  OutputError(std::string path, std::string reason);

  const std::string& path() const noexcept { return path_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

}  // namespace zm
