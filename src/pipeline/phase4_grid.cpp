#include "pipeline/phase4_grid.hpp"

#include "io/atomic_file.hpp"
#include "io/fits_header.hpp"
#include "pipeline/pipeline_events.hpp"
#include "wcs/geometry.hpp"

namespace zm {

std::vector<std::string_view> phase4_config_keys() { return {"final_pixel_scale_arcsec", "final_grid_orientation"}; }

std::string grid_cards(const OutputGrid& grid) {
  FitsHeader h;
  h.set("NAXIS1", static_cast<long long>(grid.width));
  h.set("NAXIS2", static_cast<long long>(grid.height));
  grid.wcs.write_to_header(h);
  return h.to_card_string();
}

void report_output_grid(const RunContext& ctx, const OutputGrid& grid, std::size_t inputs, std::string_view route) {
  Wcs centre_wcs = grid.wcs;
  const SkyCoord c = image_centre(centre_wcs);
  // The routes without master tiles need their grid before their Phase 3 (mega-tiles): it is made in Phase 2.
  const nlohmann::json fields = {{"phase", route == "classic" ? "4" : "2"},
                                 {"route", route},
                                 {"width", grid.width},
                                 {"height", grid.height},
                                 {"pixel_scale_arcsec", grid.pixel_scale_arcsec},
                                 {"rotation_deg", grid.rotation_deg},
                                 {"centre_ra", c.ra},
                                 {"centre_dec", c.dec},
                                 {"tiles", inputs}};
  ctx.events().info(pipeline_keys::kOutputGrid, fields);
  nlohmann::json j = fields;
  j["cards"] = grid_cards(grid);
  write_text_atomic(ctx.cache_dir / "output_grid.json", j.dump(1));
}

OutputGrid run_phase4(const RunContext& ctx, const std::vector<TileInfo>& tiles) {
  PhaseScope scope(*ctx.progress, "4", "Output grid");
  std::vector<ImageFootprint> footprints;
  footprints.reserve(tiles.size());
  for (const auto& t : tiles) footprints.push_back({t.wcs, t.width, t.height});
  OptimalGridOptions o;
  o.pixel_scale_arcsec = ctx.config.get_double("final_pixel_scale_arcsec");
  o.north_up = ctx.config.get_string("final_grid_orientation") == "north_up";
  OutputGrid grid = find_optimal_grid(footprints, o);
  report_output_grid(ctx, grid, tiles.size(), "classic");
  return grid;
}

}  // namespace zm
