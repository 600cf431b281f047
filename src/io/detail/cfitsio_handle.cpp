#include "io/detail/cfitsio_handle.hpp"

namespace zm {

std::string cfitsio_error_text(int status) {
  char text[FLEN_STATUS] = {};
  fits_get_errstatus(status, text);
  std::string out = "cfitsio status " + std::to_string(status) + ": " + text;
  char msg[FLEN_ERRMSG] = {};
  std::string details;
  while (fits_read_errmsg(msg)) {
    if (!details.empty()) details += "; ";
    details += msg;
  }
  if (!details.empty()) out += " (" + details + ")";
  return out;
}

int close_fits(FitsFilePtr& f) {
  int status = 0;
  if (f) fits_close_file(f.release(), &status);
  return status;
}

void discard_fits(FitsFilePtr& f) noexcept {
  // A positive input status makes fits_close_file skip the HDU completion (END rewrite, data fill); only the
  // few dirty 2880-byte buffers are flushed. NO_CLOSE_ERROR also keeps cfitsio from queueing messages about it.
  int status = NO_CLOSE_ERROR;
  if (f) fits_close_file(f.release(), &status);
}

}  // namespace zm
