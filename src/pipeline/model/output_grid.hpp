// The mosaic's output grid as the phases pass it on: its cards (part of later resume keys) and its report.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "events/event_stream.hpp"
#include "pipeline/model/route.hpp"
#include "wcs/optimal_grid.hpp"

namespace zm {

// The grid as FITS header cards (WCS + NAXIS sizes).
std::string grid_cards(const OutputGrid& grid);

// OUTPUT_GRID {"phase": "4" (classic) | "2" (the frame routes make their grid before their Phase 3), "route",
// "width", "height", "pixel_scale_arcsec", "rotation_deg", "centre_ra", "centre_dec", "tiles" = `inputs`} and the
// same plus the cards in `json_path` (for tools and resume checks).
void report_output_grid(EventStream& events, const std::filesystem::path& json_path, const OutputGrid& grid,
                        std::size_t inputs, Route route);

}  // namespace zm
