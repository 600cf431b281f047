#include "solve/solve_hint.hpp"

#include <cmath>
#include <cstdio>

namespace zm {
namespace {

// "12 50 53.1" / "12:50:53.1" / "+41 07 12" -> degrees (times `unit`: 15 for hours); nullopt when malformed.
std::optional<double> sexagesimal(const std::string& text, double unit) {
  double a = 0, b = 0, c = 0;
  std::string s = text;
  for (char& ch : s)
    if (ch == ':') ch = ' ';
  const int n = std::sscanf(s.c_str(), "%lf %lf %lf", &a, &b, &c);
  if (n < 1) return std::nullopt;
  const bool negative = s.find('-') != std::string::npos;
  const double v = std::fabs(a) + b / 60.0 + c / 3600.0;
  return (negative ? -v : v) * unit;
}

}  // namespace

SolveHint solve_hint_from_header(const FitsHeader& h) {
  SolveHint hint;
  hint.ra_deg = h.get_double("RA");
  hint.dec_deg = h.get_double("DEC");
  if (!hint.ra_deg || !hint.dec_deg) {
    const auto ra = h.get_string("OBJCTRA"), dec = h.get_string("OBJCTDEC");
    if (ra && dec) {
      hint.ra_deg = sexagesimal(*ra, 15.0);
      hint.dec_deg = sexagesimal(*dec, 1.0);
    }
  }
  if (hint.dec_deg && std::fabs(*hint.dec_deg) > 90.0) hint.ra_deg = hint.dec_deg = std::nullopt;
  const auto focal = h.get_double("FOCALLEN");
  const auto pixel = h.get_double("XPIXSZ");
  if (focal && pixel && *focal > 0.0 && *pixel > 0.0) {
    hint.scale_arcsec = 206.264806 * *pixel / *focal;  // um / mm -> arcsec
  } else if (auto s = h.get_double("SCALE"); s && *s > 0.0) {
    hint.scale_arcsec = *s;
  } else if (auto p = h.get_double("PIXSCALE"); p && *p > 0.0) {
    hint.scale_arcsec = *p;
  }
  return hint;
}

}  // namespace zm
