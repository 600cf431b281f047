// validate_wcs_header: the cheap header checks first (so the reason names the card at fault), then wcslib, then
// the footprint. The scale check uses the linear matrix, in degrees, like ZeMosaic's proj_plane_pixel_scales.
#include "wcs/validate.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "wcs/geometry.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

constexpr double kMinAbsDet = 1e-16;
constexpr double kMaxAbsDec = 90.5;
constexpr double kDeg = std::numbers::pi / 180.0;

enum class AxisKind { None, Longitude, Latitude };

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// The axis type is the CTYPE up to its '-' padding: RA/DEC, xLON/xLAT (GLON, ELON, ...), xyLN/xyLT.
AxisKind axis_kind(const std::string& ctype) {
  std::string t = ctype.substr(0, 4);
  while (!t.empty() && (t.back() == '-' || t.back() == ' ')) t.pop_back();
  for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto ends = [&](const char* s) { return t.size() >= std::char_traits<char>::length(s) && t.ends_with(s); };
  if (t == "RA" || ends("LON") || (t.size() == 4 && ends("LN"))) return AxisKind::Longitude;
  if (t == "DEC" || ends("LAT") || (t.size() == 4 && ends("LT"))) return AxisKind::Latitude;
  return AxisKind::None;
}

// A finite number under `key`; otherwise the reason, with `required` deciding whether absence is a failure.
std::optional<std::string> read_number(const FitsHeader& h, const std::string& key, bool required, double& out) {
  if (!h.has(key)) return required ? std::optional<std::string>("no " + key) : std::nullopt;
  auto v = h.get_double(key);
  if (!v) return key + " is not numeric";
  if (!std::isfinite(*v)) return key + " is not finite (" + num(*v) + ")";
  out = *v;
  return std::nullopt;
}

std::optional<std::string> check_ctypes(const FitsHeader& h) {
  auto c1 = h.get_string("CTYPE1"), c2 = h.get_string("CTYPE2");
  if (!c1 && !c2) return "no CTYPE1/CTYPE2";
  if (!c1) return "no CTYPE1";
  if (!c2) return "no CTYPE2";
  AxisKind k1 = axis_kind(*c1), k2 = axis_kind(*c2);
  if (k1 == AxisKind::None) return "CTYPE1='" + *c1 + "' is not celestial";
  if (k2 == AxisKind::None) return "CTYPE2='" + *c2 + "' is not celestial";
  if (k1 == k2) return "CTYPE1='" + *c1 + "' and CTYPE2='" + *c2 + "' are not a longitude/latitude pair";
  return std::nullopt;
}

// The effective CD matrix (degrees/px), from CDi_j (absent elements 0, as in the standard), else
// diag(CDELT) * PC (PC defaulting to unity, or a CROTA2 rotation).
std::optional<std::string> linear_matrix(const FitsHeader& h, double cd[4]) {
  const char* cd_keys[4] = {"CD1_1", "CD1_2", "CD2_1", "CD2_2"};
  const char* pc_keys[4] = {"PC1_1", "PC1_2", "PC2_1", "PC2_2"};
  bool has_cd = false;
  for (const char* k : cd_keys) has_cd = has_cd || h.has(k);
  if (has_cd) {
    for (int i = 0; i < 4; ++i) {
      cd[i] = 0.0;
      if (auto r = read_number(h, cd_keys[i], false, cd[i])) return r;
    }
    return std::nullopt;
  }
  if (!h.has("CDELT1") && !h.has("CDELT2")) return "no CD matrix, PC+CDELT or CDELT";
  double cdelt[2] = {0.0, 0.0};
  for (int i = 0; i < 2; ++i)
    if (auto r = read_number(h, "CDELT" + std::to_string(i + 1), true, cdelt[i])) return r;
  double pc[4] = {1.0, 0.0, 0.0, 1.0};
  bool has_pc = false;
  for (const char* k : pc_keys) has_pc = has_pc || h.has(k);
  if (has_pc) {
    for (int i = 0; i < 4; ++i) {
      pc[i] = (i == 0 || i == 3) ? 1.0 : 0.0;
      if (auto r = read_number(h, pc_keys[i], false, pc[i])) return r;
    }
  } else if (h.has("CROTA2")) {
    double rot = 0.0;
    if (auto r = read_number(h, "CROTA2", true, rot)) return r;
    // Calabretta & Greisen 2002, eq. 189, multiplied out by CDELT.
    const double c = std::cos(rot * kDeg), s = std::sin(rot * kDeg);
    cd[0] = cdelt[0] * c;
    cd[1] = -cdelt[1] * s;
    cd[2] = cdelt[0] * s;
    cd[3] = cdelt[1] * c;
    return std::nullopt;
  }
  for (int i = 0; i < 4; ++i) cd[i] = cdelt[i / 2] * pc[i];
  return std::nullopt;
}

WcsValidation reject(std::string reason, double scale = 0.0) { return {false, std::move(reason), scale}; }

}  // namespace

WcsValidation validate_wcs_header(const FitsHeader& header, const WcsBounds& bounds, int width, int height) {
  if (auto r = check_ctypes(header)) return reject(*r);
  double value = 0.0;
  for (const char* key : {"CRVAL1", "CRVAL2", "CRPIX1", "CRPIX2"})
    if (auto r = read_number(header, key, true, value)) return reject(*r);

  double cd[4];
  if (auto r = linear_matrix(header, cd)) return reject(*r);
  const double det = cd[0] * cd[3] - cd[1] * cd[2];
  if (!std::isfinite(det)) return reject("CD matrix is not finite");
  if (std::fabs(det) < kMinAbsDet) return reject("CD matrix is singular (det=" + num(det) + ")");
  const double scale = std::sqrt(std::fabs(det)) * 3600.0;
  if (!(scale >= bounds.min_scale_arcsec && scale <= bounds.max_scale_arcsec))
    return reject("pixel scale " + num(scale) + " arcsec/px is outside [" + num(bounds.min_scale_arcsec) + ", " +
                      num(bounds.max_scale_arcsec) + "]",
                  scale);

  std::optional<Wcs> wcs;
  try {
    wcs.emplace(Wcs::from_header(header, "", width, height));
  } catch (const InputError& e) {
    return reject(e.reason(), scale);  // already specific: "wcslib rejected the WCS: <wcslib's message>"
  }
  if (wcs->width() <= 0 || wcs->height() <= 0)
    return reject("image size unknown (no NAXIS1/NAXIS2) for the footprint check", scale);
  for (const SkyCoord& c : footprint_corners(*wcs)) {
    if (!std::isfinite(c.ra) || !std::isfinite(c.dec)) return reject("footprint corner is not finite", scale);
    if (std::fabs(c.dec) > kMaxAbsDec) return reject("footprint corner Dec " + num(c.dec) + " is beyond +-90.5", scale);
  }
  return {true, {}, scale};
}

}  // namespace zm
