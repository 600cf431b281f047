#include "pipeline/model/output_grid.hpp"

#include "io/atomic_file.hpp"
#include "io/fits_header.hpp"
#include "pipeline/pipeline_events.hpp"
#include "wcs/geometry.hpp"

namespace zm {

std::string grid_cards(const OutputGrid& grid) {
  FitsHeader h;
  h.set("NAXIS1", static_cast<long long>(grid.width));
  h.set("NAXIS2", static_cast<long long>(grid.height));
  grid.wcs.write_to_header(h);
  return h.to_card_string();
}

void report_output_grid(EventStream& events, const std::filesystem::path& json_path, const OutputGrid& grid,
                        std::size_t inputs, Route route) {
  Wcs centre_wcs = grid.wcs;
  const SkyCoord c = image_centre(centre_wcs);
  const nlohmann::json fields = {{"phase", route == Route::classic ? "4" : "2"},
                                 {"route", to_string(route)},
                                 {"width", grid.width},
                                 {"height", grid.height},
                                 {"pixel_scale_arcsec", grid.pixel_scale_arcsec},
                                 {"rotation_deg", grid.rotation_deg},
                                 {"centre_ra", c.ra},
                                 {"centre_dec", c.dec},
                                 {"tiles", inputs}};
  events.info(pipeline_keys::kOutputGrid, fields);
  nlohmann::json j = fields;
  j["cards"] = grid_cards(grid);
  write_text_atomic(json_path, j.dump(1));
}

}  // namespace zm
