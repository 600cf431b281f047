#include "io/cfitsio_handle.hpp"

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

}  // namespace zm
