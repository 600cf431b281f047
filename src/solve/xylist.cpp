#include "solve/xylist.hpp"

#include <fitsio.h>
#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace zm {

void write_xylist(const std::filesystem::path& path, std::span<const Star> stars) {
  fitsfile* f = nullptr;
  int status = 0;
  std::string name(1, '!');
  name.append(path.string());
  fits_create_file(&f, name.c_str(), &status);
  char c_x[] = "X", c_y[] = "Y", c_f[] = "FLUX";
  char f_d[] = "1D";
  char* ttype[] = {c_x, c_y, c_f};
  char* tform[] = {f_d, f_d, f_d};
  fits_create_tbl(f, BINARY_TBL, 0, 3, ttype, tform, nullptr, nullptr, &status);
  std::vector<double> x, y, flux;
  for (const Star& s : stars) {
    x.push_back(s.x + 1.0);
    y.push_back(s.y + 1.0);
    flux.push_back(s.flux);
  }
  if (!stars.empty()) {
    fits_write_col(f, TDOUBLE, 1, 1, 1, static_cast<LONGLONG>(x.size()), x.data(), &status);
    fits_write_col(f, TDOUBLE, 2, 1, 1, static_cast<LONGLONG>(y.size()), y.data(), &status);
    fits_write_col(f, TDOUBLE, 3, 1, 1, static_cast<LONGLONG>(flux.size()), flux.data(), &status);
  }
  int close_status = 0;
  if (f) fits_close_file(f, &close_status);
  if (status || close_status) {
    char msg[FLEN_STATUS] = {};
    fits_get_errstatus(status ? status : close_status, msg);
    throw std::runtime_error(fmt::format("cannot write star list {}: {}", path.string(), msg));
  }
}

}  // namespace zm
