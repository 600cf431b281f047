// What Phase 1 knows about one usable frame: where it came from, its geometry, its statistics, where its cache is.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/sensor_flat.hpp"
#include "io/fits_header.hpp"
#include "wcs/wcs.hpp"

namespace zm {

struct FrameRecord {
  int index = 0;                 // position in the sorted input list (stable across runs)
  std::string path;              // input file (never modified)
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  int width = 0;
  int height = 0;
  int channels = 0;              // after debayering
  std::string bayer_pattern;     // empty for colour or mono input
  double exptime_s = 0.0;
  std::string date_obs;
  double time_s = 0.0;           // seconds since 2000-01-01T00:00:00 (0 when DATE-OBS is missing)
  std::string wcs_cards;         // header cards of the WCS in use (FitsHeader::to_card_string)
  std::string wcs_provenance;    // header | sidecar | cache | propagated | solved
  double wcs_residual_px = 0.0;  // weighted star-match RMS of a propagated WCS (0 otherwise)
  SkyCoord centre;
  double position_angle_deg = 0.0;
  double scale_arcsec = 0.0;
  std::array<float, 3> sky_median{};  // per channel
  std::array<float, 3> sky_sigma{};   // per channel, robust (1.4826 MAD)
  std::vector<float> sky_mesh;        // green block medians over sky_median (image/sensor_flat.hpp), row-major
  SensorFlat flat{};                  // the run's vignetting profile, set after Phase 1 (not stored)
  std::uint64_t hot_pixels = 0;
  // The smallest rectangle holding every pixel with data (all channels finite): [x0, x1) x [y0, y1). Survey tiles
  // have NaN borders: the sky a frame saw is this box, not its whole pixel grid. x1 = 0 means the whole frame.
  std::array<int, 4> data_box{0, 0, 0, 0};
  std::string cache_file;        // raw float32 planes, relative to the cache folder
  std::string header_cards;      // a few metadata cards copied to master tiles (OBJECT, FILTER, ...)

  Wcs make_wcs() const;          // from wcs_cards
};

void to_json(nlohmann::json& j, const FrameRecord& r);
void from_json(const nlohmann::json& j, FrameRecord& r);

// Parses FITS DATE-OBS ("YYYY-MM-DDThh:mm:ss[.sss]" or "YYYY-MM-DD") to seconds since 2000-01-01; nullopt if malformed.
std::optional<double> parse_fits_date(const std::string& text);

}  // namespace zm
