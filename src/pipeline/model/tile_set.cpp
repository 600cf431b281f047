#include "pipeline/model/tile_set.hpp"

#include "core/hash.hpp"
#include "io/fits_reader.hpp"

namespace zm {

std::vector<TileInfo> read_tile_infos(const std::vector<MasterTileInfo>& tiles) {
  std::vector<TileInfo> out;
  out.reserve(tiles.size());
  for (const auto& t : tiles) {
    const FitsImageInfo info = read_fits_info(t.path);
    TileInfo ti{.id = t.id,
                .path = t.path,
                .signature = t.signature,
                .wcs = Wcs::from_header(info.header, t.path, info.width, info.height),
                .width = info.width,
                .height = info.height,
                .channels = info.channels,
                .frames = static_cast<int>(info.header.get_int("ZMT_NSTK").value_or(t.frames)),
                .exposure_s = info.header.get_double_or("EXPTOTAL", 0.0),
                .date_beg = info.header.get_string("DATE-BEG").value_or(""),
                .date_end = info.header.get_string("DATE-END").value_or("")};
    out.push_back(std::move(ti));
  }
  return out;
}

std::string tiles_signature(const std::vector<TileInfo>& tiles) {
  Hasher h;
  for (const auto& t : tiles) {
    h.update(t.signature);
    h.update(std::string_view("\n"));
  }
  return h.hex();
}

}  // namespace zm
