#include "solve/xylist.hpp"

#include <array>
#include <vector>

#include "io/fits_writer.hpp"

namespace zm {

void write_xylist(const std::filesystem::path& path, std::span<const Star> stars) {
  std::vector<double> x, y, flux;
  x.reserve(stars.size());
  y.reserve(stars.size());
  flux.reserve(stars.size());
  for (const Star& s : stars) {
    x.push_back(s.x + 1.0);
    y.push_back(s.y + 1.0);
    flux.push_back(s.flux);
  }
  const std::array<FitsTableColumn, 3> columns = {{{"X", x}, {"Y", y}, {"FLUX", flux}}};
  write_fits_table(path, columns);
}

}  // namespace zm
