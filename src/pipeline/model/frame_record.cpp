#include "pipeline/model/frame_record.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace zm {
namespace {

// Mesh values to 5 decimals (sky_mesh already rounds to them: the round trip is exact), NaN as null.
nlohmann::json rounded(const std::vector<float>& mesh) {
  nlohmann::json a = nlohmann::json::array();
  for (float v : mesh) {
    if (std::isfinite(v)) a.push_back(std::round(static_cast<double>(v) * 1e5) / 1e5);
    else a.push_back(nullptr);
  }
  return a;
}

}  // namespace

Wcs FrameRecord::make_wcs() const {
  return Wcs::from_header(FitsHeader::parse_cards(wcs_cards), path, width, height);
}

void to_json(nlohmann::json& j, const FrameRecord& r) {
  j = {{"index", r.index},
       {"path", r.path},
       {"size", r.size},
       {"mtime_ns", r.mtime_ns},
       {"width", r.width},
       {"height", r.height},
       {"channels", r.channels},
       {"bayer_pattern", r.bayer_pattern},
       {"exptime_s", r.exptime_s},
       {"date_obs", r.date_obs},
       {"time_s", r.time_s},
       {"wcs_cards", r.wcs_cards},
       {"wcs_provenance", r.wcs_provenance},
       {"wcs_residual_px", r.wcs_residual_px},
       {"centre", {r.centre.ra, r.centre.dec}},
       {"position_angle_deg", r.position_angle_deg},
       {"scale_arcsec", r.scale_arcsec},
       {"sky_median", r.sky_median},
       {"sky_sigma", r.sky_sigma},
       {"sky_mesh", rounded(r.sky_mesh)},
       {"hot_pixels", r.hot_pixels},
       {"data_box", r.data_box},
       {"cache_file", r.cache_file},
       {"header_cards", r.header_cards}};
}

void from_json(const nlohmann::json& j, FrameRecord& r) {
  j.at("index").get_to(r.index);
  j.at("path").get_to(r.path);
  j.at("size").get_to(r.size);
  j.at("mtime_ns").get_to(r.mtime_ns);
  j.at("width").get_to(r.width);
  j.at("height").get_to(r.height);
  j.at("channels").get_to(r.channels);
  j.at("bayer_pattern").get_to(r.bayer_pattern);
  j.at("exptime_s").get_to(r.exptime_s);
  j.at("date_obs").get_to(r.date_obs);
  j.at("time_s").get_to(r.time_s);
  j.at("wcs_cards").get_to(r.wcs_cards);
  j.at("wcs_provenance").get_to(r.wcs_provenance);
  r.wcs_residual_px = j.value("wcs_residual_px", 0.0);
  r.centre = {j.at("centre").at(0).get<double>(), j.at("centre").at(1).get<double>()};
  j.at("position_angle_deg").get_to(r.position_angle_deg);
  j.at("scale_arcsec").get_to(r.scale_arcsec);
  j.at("sky_median").get_to(r.sky_median);
  j.at("sky_sigma").get_to(r.sky_sigma);
  r.sky_mesh.clear();
  if (const auto it = j.find("sky_mesh"); it != j.end())  // older caches have none
    for (const auto& v : *it) r.sky_mesh.push_back(v.is_number() ? v.get<float>() : std::numeric_limits<float>::quiet_NaN());
  j.at("hot_pixels").get_to(r.hot_pixels);
  r.data_box = j.value("data_box", std::array<int, 4>{0, 0, 0, 0});
  j.at("cache_file").get_to(r.cache_file);
  j.at("header_cards").get_to(r.header_cards);
}

std::optional<double> parse_fits_date(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0.0;
  const int n = std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &s);
  if (n != 3 && n != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s >= 61)
    return std::nullopt;
  // Days from civil date (proleptic Gregorian), relative to 2000-01-01.
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + doe - 719468 - 10957;
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + s;
}

}  // namespace zm
