#include "core/error.hpp"

namespace zm {

std::string_view to_string(InputErrorKind kind) {
  switch (kind) {
    case InputErrorKind::NotFound: return "not_found";
    case InputErrorKind::Empty: return "empty_file";
    case InputErrorKind::NotFits: return "not_fits";
    case InputErrorKind::Truncated: return "truncated";
    case InputErrorKind::BadNaxis: return "bad_naxis";
    case InputErrorKind::BadDimensions: return "bad_dimensions";
    case InputErrorKind::UnsupportedBitpix: return "unsupported_bitpix";
    case InputErrorKind::NoImage: return "no_image";
    case InputErrorKind::AllNan: return "all_nan";
    case InputErrorKind::NoWcs: return "no_wcs";
    case InputErrorKind::BadWcs: return "bad_wcs";
    case InputErrorKind::BadConfig: return "bad_config";
    case InputErrorKind::Io: return "io_error";
  }
  return "unknown";
}

InputError::InputError(InputErrorKind kind, std::string path, std::string reason)
    : std::runtime_error(path + ": " + reason), kind_(kind), path_(std::move(path)), reason_(std::move(reason)) {}

OutputError::OutputError(std::string path, std::string reason)
    : std::runtime_error(path + ": " + reason), path_(std::move(path)), reason_(std::move(reason)) {}

}  // namespace zm
