#include "solve/wcs_compose.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace zm {
namespace {

constexpr int kMaxOrder = 9;

// Dense bivariate polynomial sum c[p][q] u^p v^q with p + q <= kMaxOrder.
struct Poly {
  std::array<std::array<double, kMaxOrder + 1>, kMaxOrder + 1> c{};

  Poly operator*(const Poly& o) const {
    Poly r;
    for (int p = 0; p <= kMaxOrder; ++p)
      for (int q = 0; p + q <= kMaxOrder; ++q) {
        if (c[p][q] == 0.0) continue;
        for (int s = 0; p + s <= kMaxOrder; ++s)
          for (int t = 0; p + s + q + t <= kMaxOrder; ++t) r.c[p + s][q + t] += c[p][q] * o.c[s][t];
      }
    return r;
  }
  void add_scaled(const Poly& o, double k) {
    for (int p = 0; p <= kMaxOrder; ++p)
      for (int q = 0; p + q <= kMaxOrder; ++q) c[p][q] += k * o.c[p][q];
  }
};

struct SipPair {
  Poly a, b;
  int order = -1;
};

// Reads "<prefix>_ORDER" and "<prefix>_p_q" cards for the two axes (A/B or AP/BP).
SipPair read_sip(const FitsHeader& h, const char* pa, const char* pb) {
  SipPair s;
  const auto oa = h.get_int(fmt::format("{}_ORDER", pa));
  const auto ob = h.get_int(fmt::format("{}_ORDER", pb));
  if (!oa || !ob) return s;
  s.order = static_cast<int>(std::min<long long>(std::max(*oa, *ob), kMaxOrder));
  for (int p = 0; p <= s.order; ++p)
    for (int q = 0; p + q <= s.order; ++q) {
      s.a.c[p][q] = h.get_double_or(fmt::format("{}_{}_{}", pa, p, q), 0.0);
      s.b.c[p][q] = h.get_double_or(fmt::format("{}_{}_{}", pb, p, q), 0.0);
    }
  return s;
}

// g(u) -> Minv * g(M u): the same distortion expressed in pixel axes related to the old ones by u_old = M u_new.
SipPair substitute(const SipPair& s, const double m[4], const double minv[4]) {
  SipPair out;
  out.order = s.order;
  if (s.order < 0) return out;
  Poly x, y;  // the old axes as linear forms of the new ones
  x.c[1][0] = m[0];
  x.c[0][1] = m[1];
  y.c[1][0] = m[2];
  y.c[0][1] = m[3];
  std::array<Poly, kMaxOrder + 1> xp, yp;
  xp[0].c[0][0] = 1.0;
  yp[0].c[0][0] = 1.0;
  for (int k = 1; k <= s.order; ++k) {
    xp[k] = xp[k - 1] * x;
    yp[k] = yp[k - 1] * y;
  }
  Poly ga, gb;
  for (int p = 0; p <= s.order; ++p)
    for (int q = 0; p + q <= s.order; ++q) {
      if (s.a.c[p][q] == 0.0 && s.b.c[p][q] == 0.0) continue;
      const Poly term = xp[p] * yp[q];
      ga.add_scaled(term, s.a.c[p][q]);
      gb.add_scaled(term, s.b.c[p][q]);
    }
  out.a.add_scaled(ga, minv[0]);
  out.a.add_scaled(gb, minv[1]);
  out.b.add_scaled(ga, minv[2]);
  out.b.add_scaled(gb, minv[3]);
  return out;
}

void write_sip(FitsHeader& h, const SipPair& s, const char* pa, const char* pb) {
  if (s.order < 0) return;
  h.set(fmt::format("{}_ORDER", pa), static_cast<long long>(s.order));
  for (int p = 0; p <= s.order; ++p)
    for (int q = 0; p + q <= s.order; ++q) h.set(fmt::format("{}_{}_{}", pa, p, q), s.a.c[p][q]);
  h.set(fmt::format("{}_ORDER", pb), static_cast<long long>(s.order));
  for (int p = 0; p <= s.order; ++p)
    for (int q = 0; p + q <= s.order; ++q) h.set(fmt::format("{}_{}_{}", pb, p, q), s.b.c[p][q]);
}

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

}  // namespace

std::optional<FitsHeader> compose_wcs(const FitsHeader& ref, const Affine2D& t, int width, int height,
                                      std::string* why) {
  const std::string ctype1 = ref.get_string("CTYPE1").value_or("");
  const std::string ctype2 = ref.get_string("CTYPE2").value_or("");
  auto is_tan = [](const std::string& c) { return c.size() >= 8 && c.compare(4, 4, "-TAN") == 0; };
  if (!is_tan(ctype1) || !is_tan(ctype2)) {
    fail(why, "reference WCS is not TAN/TAN-SIP (" + ctype1 + ")");
    return std::nullopt;
  }
  for (const auto& c : ref.cards())
    if (c.key.rfind("PV", 0) == 0 && c.key.find('_') != std::string::npos) {
      fail(why, "reference WCS has PV distortion terms");
      return std::nullopt;
    }
  const auto cd11 = ref.get_double("CD1_1"), cd12 = ref.get_double("CD1_2"), cd21 = ref.get_double("CD2_1"),
             cd22 = ref.get_double("CD2_2"), crpix1 = ref.get_double("CRPIX1"), crpix2 = ref.get_double("CRPIX2");
  if (!cd11 || !cd12 || !cd21 || !cd22 || !crpix1 || !crpix2) {
    fail(why, "reference WCS lacks CD/CRPIX cards");
    return std::nullopt;
  }
  const double m[4] = {t.a, t.b, t.d, t.e};
  const double det = t.determinant();
  if (!std::isfinite(det) || std::fabs(det) < 1e-12) {
    fail(why, "singular pixel transform");
    return std::nullopt;
  }
  const double minv[4] = {t.e / det, -t.b / det, -t.d / det, t.a / det};
  // crpix_new = T^-1(crpix_ref) in 0-based pixels.
  const Affine2D tinv = t.inverse();
  const Point2 crpix_new = tinv.apply({*crpix1 - 1.0, *crpix2 - 1.0});

  FitsHeader out;
  for (const auto& c : ref.cards()) {
    const std::string& k = c.key;
    const bool sip = k.rfind("A_", 0) == 0 || k.rfind("B_", 0) == 0 || k.rfind("AP_", 0) == 0 ||
                     k.rfind("BP_", 0) == 0;
    if (sip || k == "NAXIS1" || k == "NAXIS2" || k == "IMAGEW" || k == "IMAGEH") continue;
    out.set(k, c.value, c.comment);
  }
  out.set("CRPIX1", crpix_new.x + 1.0);
  out.set("CRPIX2", crpix_new.y + 1.0);
  out.set("CD1_1", *cd11 * m[0] + *cd12 * m[2]);
  out.set("CD1_2", *cd11 * m[1] + *cd12 * m[3]);
  out.set("CD2_1", *cd21 * m[0] + *cd22 * m[2]);
  out.set("CD2_2", *cd21 * m[1] + *cd22 * m[3]);
  write_sip(out, substitute(read_sip(ref, "A", "B"), m, minv), "A", "B");
  write_sip(out, substitute(read_sip(ref, "AP", "BP"), m, minv), "AP", "BP");
  out.set("IMAGEW", static_cast<long long>(width));
  out.set("IMAGEH", static_cast<long long>(height));
  return out;
}

}  // namespace zm
