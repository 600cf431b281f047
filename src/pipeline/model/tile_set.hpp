// What Phases 4-6 know about each master tile: file, WCS, size, frames, exposure and dates (read from its header).
#pragma once

#include <string>
#include <vector>

#include "wcs/wcs.hpp"

namespace zm {

// A master tile as Phase 3 leaves it (the file and its resume signature), before its header is read.
struct MasterTileInfo {
  int id = 0;
  std::string path;
  int frames = 0;
  std::string signature;  // of the group and every setting that shaped its pixels: the resume key
  bool reused = false;
};

struct TileInfo {
  int id = 0;
  std::string path;
  std::string signature;  // Phase 3 group signature: identifies the tile's content for resume keys
  Wcs wcs;
  int width = 0;
  int height = 0;
  int channels = 0;
  int frames = 0;
  double exposure_s = 0.0;
  std::string date_beg;
  std::string date_end;
};

// Reads each tile's header (no pixels). Throws InputError naming a tile that cannot be read.
std::vector<TileInfo> read_tile_infos(const std::vector<MasterTileInfo>& tiles);

// Hash of the tiles' signatures, in order: the part of every later phase's resume key that says "same tiles".
std::string tiles_signature(const std::vector<TileInfo>& tiles);

}  // namespace zm
