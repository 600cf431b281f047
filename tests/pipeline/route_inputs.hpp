// Test helpers shared by the route corpus tests: a folder's input frames, its grid-mode twin, a mosaic read back.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "image/image.hpp"
#include "io/fits_reader.hpp"
#include "wcs/wcs.hpp"

namespace zm::test {

// The input frames of a folder (FITS files, recursively), sorted.
inline std::vector<std::filesystem::path> fits_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".fit" || ext == ".fits")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The same frames (symbolic links) with a stack_plan.csv listing them: grid mode.
inline std::filesystem::path grid_folder(const std::filesystem::path& lights, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream csv(dir / "stack_plan.csv");
  csv << "file_path\n";
  for (const auto& f : fits_in(lights)) {
    std::filesystem::create_symlink(std::filesystem::absolute(f), dir / f.filename());
    csv << f.filename().string() << "\n";
  }
  return dir;
}

struct MosaicImage {
  ImageF image;
  Wcs wcs;
};

// A science FITS with its celestial WCS.
inline MosaicImage read_mosaic_image(const std::string& path) {
  FitsImageReader r(path);
  ImageF img = r.read_all(false);
  Wcs w = Wcs::from_header(r.info().header, path, img.width, img.height);
  return {std::move(img), std::move(w)};
}

}  // namespace zm::test
