// A tiny Seestar-like folder for survey and CLI tests: 3 pointings x 4 GRBG frames, a sub-folder, a corrupt file.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/fits_header.hpp"
#include "io/fits_writer.hpp"

namespace zm::test {

inline constexpr int kSurveyWidth = 64;
inline constexpr int kSurveyHeight = 48;

inline void write_frame(const std::filesystem::path& path, double ra, double dec, bool with_position = true) {
  FitsHeader h;
  h.set("BAYERPAT", std::string("GRBG"));
  h.set("INSTRUME", std::string("Seestar S50"));
  h.set("XPIXSZ", 2.9);
  h.set("FOCALLEN", 250.0);
  if (with_position) {
    h.set("RA", ra);
    h.set("DEC", dec);
  }
  std::vector<std::uint16_t> px(static_cast<size_t>(kSurveyWidth * kSurveyHeight), 1000);
  write_fits_u16(path, kSurveyWidth, kSurveyHeight, px, h);
}

// 12 readable frames (pointings at RA 10.0, 10.5, 11.0, Dec 30, dithered by 0.01 deg), one in a sub-folder with
// an upper-case extension, plus `bad.fits` (not FITS) and `notes.txt` (ignored).
inline void write_survey_dataset(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "night2");
  int n = 0;
  for (int p = 0; p < 3; ++p) {
    for (int k = 0; k < 4; ++k) {
      const double ra = 10.0 + 0.5 * p + 0.01 * (k % 2), dec = 30.0 + 0.01 * (k / 2);
      const bool last = ++n == 12;
      std::string name = "Light_";
      name += std::to_string(n);
      name += last ? ".FIT" : ".fits";
      write_frame((last ? dir / "night2" : dir) / name, ra, dec);
    }
  }
  std::ofstream(dir / "bad.fits") << "this is not a FITS file";
  std::ofstream(dir / "notes.txt") << "ignored";
}

}  // namespace zm::test
