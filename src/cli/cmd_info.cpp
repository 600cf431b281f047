// `zemosaic info FILE...`: what a FITS file holds (size, BITPIX, Bayer pattern, WCS summary or why it is invalid).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "image/debayer.hpp"
#include "io/fits_reader.hpp"
#include "wcs/geometry.hpp"
#include "wcs/validate.hpp"
#include "wcs/wcs.hpp"

namespace zm::cli {
namespace {

nlohmann::json describe(const std::string& path) {
  nlohmann::json j;
  j["file"] = path;
  const FitsImageInfo info = read_fits_info(path);
  j["hdu"] = info.hdu;
  j["width"] = info.width;
  j["height"] = info.height;
  j["channels"] = info.channels;
  j["bitpix"] = info.bitpix;
  j["bzero"] = info.bzero;
  j["bscale"] = info.bscale;
  if (info.channels == 1 && (info.header.has("BAYERPAT") || info.header.has("CFAIMAGE")))
    j["bayer_pattern"] = std::string(to_string(bayer_pattern_from_header(info.header)));
  for (const char* key : {"OBJECT", "INSTRUME", "DATE-OBS", "EXPTIME", "RA", "DEC"}) {
    if (const FitsCard* c = info.header.find(key)) {
      std::visit([&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (!std::is_same_v<V, std::monostate>) j["header"][key] = v;
      }, c->value);
    }
  }
  const WcsValidation v = validate_wcs_header(info.header, {}, info.width, info.height);
  if (!v.ok) {
    j["wcs"] = {{"valid", false}, {"reason", v.reason}};
    return j;
  }
  Wcs wcs = Wcs::from_header(info.header, path, info.width, info.height);
  const SkyCoord c = image_centre(wcs);
  const double scale = pixel_scale_arcsec(wcs);
  j["wcs"] = {{"valid", true},
              {"projection", wcs.projection_code()},
              {"distortion", wcs.has_distortion()},
              {"centre_ra_deg", c.ra},
              {"centre_dec_deg", c.dec},
              {"pixel_scale_arcsec", scale},
              {"position_angle_deg", position_angle_deg(wcs)},
              {"flipped", is_flipped(wcs)},
              {"field_deg", {info.width * scale / 3600.0, info.height * scale / 3600.0}}};
  return j;
}

void print_human(const nlohmann::json& j) {
  std::cout << j["file"].get<std::string>() << "\n";
  if (j.contains("error")) {
    std::cout << "  error: " << j["error"].get<std::string>() << "\n";
    return;
  }
  std::cout << fmt::format("  image: {} x {} x {} (HDU {}), BITPIX {}, BZERO {}, BSCALE {}\n", j["width"].get<int>(),
                           j["height"].get<int>(), j["channels"].get<int>(), j["hdu"].get<int>(),
                           j["bitpix"].get<int>(), j["bzero"].get<double>(), j["bscale"].get<double>());
  if (j.contains("bayer_pattern")) std::cout << "  CFA: Bayer " << j["bayer_pattern"].get<std::string>() << "\n";
  if (j.contains("header"))
    for (const auto& [k, v] : j["header"].items()) std::cout << fmt::format("  {:<9}{}\n", k, v.dump());
  const auto& w = j["wcs"];
  if (!w["valid"].get<bool>()) {
    std::cout << "  WCS: invalid: " << w["reason"].get<std::string>() << "\n";
    return;
  }
  std::cout << fmt::format(
      "  WCS: {}{}, centre RA {:.6f} Dec {:+.6f} deg, scale {:.4f}\"/px, PA {:.3f} deg{}, field {:.3f} x {:.3f} deg\n",
      w["projection"].get<std::string>(), w["distortion"].get<bool>() ? " (with distortion)" : "",
      w["centre_ra_deg"].get<double>(), w["centre_dec_deg"].get<double>(), w["pixel_scale_arcsec"].get<double>(),
      w["position_angle_deg"].get<double>(), w["flipped"].get<bool>() ? " (flipped)" : "",
      w["field_deg"][0].get<double>(), w["field_deg"][1].get<double>());
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe FITS files: size, BITPIX, Bayer pattern, WCS");
  static std::vector<std::string> files;
  static bool as_json = false;
  cmd->add_option("files", files, "FITS files")->required();
  cmd->add_flag("--json", as_json, "one JSON object per file");
  cmd->callback([] {
    int failures = 0;
    for (const auto& f : files) {
      nlohmann::json j;
      try {
        j = describe(f);
      } catch (const InputError& e) {
        j = {{"file", f}, {"error", e.reason()}, {"error_kind", std::string(to_string(e.kind()))}};
        ++failures;
      }
      if (as_json) std::cout << j.dump() << "\n";
      else print_human(j);
    }
    if (failures > 0) throw CLI::RuntimeError(2);
  });
}

}  // namespace zm::cli
