// The routes a run can take from its frames to the mosaic (names as in events, headers and the README).
#pragma once

#include <string_view>

namespace zm {

enum class Route { classic, mosaic_first, sds, grid };

constexpr std::string_view to_string(Route r) {
  switch (r) {
    case Route::classic: return "classic";
    case Route::mosaic_first: return "mosaic_first";
    case Route::sds: return "sds";
    case Route::grid: return "grid";
  }
  return "classic";
}

}  // namespace zm
