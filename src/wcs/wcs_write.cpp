// Wcs::write_to_header: the set-up wcsprm written back as standard CD-matrix cards (+ SIP / TPV distortion).
//
// The linear part comes from wcslib's resolved PC/CDELT (so CROTA or PC+CDELT inputs come out as CD), and
// LONPOLE/LATPOLE are written as resolved so non-zenithal projections read back to the same solution.
// Distortions are rebuilt from wcslib's DPja/DQia records (wcspih translates A_p_q -> 'SIP.FWD.p_q' and TPV's
// PVi_m -> 'TPV.m'), so a copy made by wcssub writes the same cards as the instance parsed from the header.
#include <wcslib/wcsmath.h>

#include <algorithm>
#include <array>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "wcs/wcs.hpp"
#include "wcs/wcs_impl.hpp"
#include "wcs/wcs_keys.hpp"

namespace zm {
namespace {

using Cards = std::vector<std::pair<std::string, FitsCard::Value>>;

struct DistortionCards {
  std::string code;  // replaces the projection code in CTYPE ("TAN-SIP", "TPV"), empty = projection code
  Cards cards;
};

double dp_value(const dpkey& k) { return k.type == 0 ? static_cast<double>(k.value.i) : k.value.f; }

Cards sip_polynomial(const std::string& prefix, const std::map<std::pair<int, int>, double>& terms) {
  Cards out;
  if (terms.empty()) return out;
  long long order = 0;
  for (const auto& [pq, v] : terms) order = std::max<long long>(order, pq.first + pq.second);
  out.emplace_back(prefix + "ORDER", order);
  for (const auto& [pq, v] : terms)
    out.emplace_back(prefix + std::to_string(pq.first) + "_" + std::to_string(pq.second), v);
  return out;
}

DistortionCards sip_cards(const disprm& dis, const std::string& projection) {
  // terms[axis][FWD=0/REV=1]
  std::map<std::pair<int, int>, double> terms[2][2];
  for (int k = 0; k < dis.ndp; ++k) {
    // Records "DPj.SIP.FWD.p_q" / "DPj.SIP.REV.p_q"; the structural ones (NAXES, AXIS.n, OFFSET.n) are implied.
    auto f = wcskeys::split_dp_field(dis.dp[k].field);
    if (!f || f->axis < 1 || f->axis > 2) continue;
    if (!wcskeys::matches(f->rest, "SIP.FWD.#_#") && !wcskeys::matches(f->rest, "SIP.REV.#_#")) continue;
    auto pq = wcskeys::parse_pq(f->rest.substr(8));
    if (pq) terms[f->axis - 1][f->rest.substr(4, 3) == "REV" ? 1 : 0][*pq] = dp_value(dis.dp[k]);
  }
  DistortionCards out{projection + "-SIP", {}};
  for (const auto& [prefix, axis, rev] : {std::tuple{"A_", 0, 0}, std::tuple{"B_", 1, 0}, std::tuple{"AP_", 0, 1},
                                          std::tuple{"BP_", 1, 1}}) {
    Cards c = sip_polynomial(prefix, terms[axis][rev]);
    out.cards.insert(out.cards.end(), c.begin(), c.end());
  }
  return out;
}

DistortionCards tpv_cards(const disprm& dis) {
  DistortionCards out{"TPV", {}};
  for (int k = 0; k < dis.ndp; ++k) {
    // Records "DQi.TPV.m" are TPV's PVi_m.
    auto f = wcskeys::split_dp_field(dis.dp[k].field);
    if (!f || !wcskeys::matches(f->rest, "TPV.#")) continue;
    out.cards.emplace_back("PV" + std::to_string(f->axis) + "_" + std::string(f->rest.substr(4)), dp_value(dis.dp[k]));
  }
  return out;
}

std::string dtype(const disprm* dis, int axis) { return dis && dis->dtype ? std::string(dis->dtype[axis]) : ""; }

DistortionCards distortion_cards(const wcsprm& p) {
  const disprm* pre = p.lin.dispre;
  const disprm* seq = p.lin.disseq;
  std::string pre0 = dtype(pre, 0), pre1 = dtype(pre, 1), seq0 = dtype(seq, 0), seq1 = dtype(seq, 1);
  if (pre0.empty() && pre1.empty() && seq0.empty() && seq1.empty()) return {};
  if (pre0 == "SIP" && pre1 == "SIP" && seq0.empty() && seq1.empty()) return sip_cards(*pre, p.cel.prj.code);
  if (seq0 == "TPV" && seq1 == "TPV" && pre0.empty() && pre1.empty()) return tpv_cards(*seq);
  throw std::runtime_error("Wcs::write_to_header: cannot write distortion '" + (pre0.empty() ? seq0 : pre0) +
                           "' as FITS cards (only SIP and TPV are supported)");
}

// Every primary-representation card of the celestial axes that could contradict what we write (a stale PC
// matrix would win over our CD in wcslib, stale SIP terms would distort a plain TAN).
bool is_replaced_wcs_key(std::string_view key) {
  return wcskeys::matches_any(
      key, {"WCSAXES", "CTYPE@",  "CUNIT@",   "CRVAL@",   "CRPIX@",   "CDELT@",   "CROTA@",  "CD@_@",   "PC@_@",
            "PV@_#",   "PS@_#",   "LONPOLE",  "LATPOLE",  "RADESYS",  "RADECSYS", "EQUINOX", "CPDIS@",  "CQDIS@",
            "DP@",     "DQ@",     "CPERR@",   "CQERR@",   "A_ORDER",  "B_ORDER",  "AP_ORDER", "BP_ORDER", "A_DMAX",
            "B_DMAX",  "A_#_#",   "B_#_#",    "AP_#_#",   "BP_#_#"});
}

std::string axis_ctype(const wcsprm& p, int axis, const std::string& code) {
  std::string type = axis == p.lng ? p.lngtyp : p.lattyp;
  type.erase(std::find(type.begin(), type.end(), ' '), type.end());
  while (type.size() < 4) type += '-';
  return type + "-" + code;
}

}  // namespace

void Wcs::write_to_header(FitsHeader& header) const {
  const wcsprm& p = impl_->prm;
  DistortionCards dist = distortion_cards(p);
  const std::string code = dist.code.empty() ? projection_code() : dist.code;

  std::vector<std::string> stale;
  for (const FitsCard& c : header.cards())
    if (is_replaced_wcs_key(c.key)) stale.push_back(c.key);
  for (const std::string& k : stale) header.remove(k);

  header.set("WCSAXES", 2LL, "number of World Coordinate System axes");
  for (int i = 0; i < 2; ++i) header.set("CTYPE" + std::to_string(i + 1), axis_ctype(p, i, code));
  for (int i = 0; i < 2; ++i) header.set("CUNIT" + std::to_string(i + 1), std::string("deg"));
  for (int i = 0; i < 2; ++i) header.set("CRVAL" + std::to_string(i + 1), p.crval[i], "[deg] reference point");
  for (int i = 0; i < 2; ++i) header.set("CRPIX" + std::to_string(i + 1), p.crpix[i], "reference pixel (1-based)");
  const std::array<double, 4> m = cd();
  for (int k = 0; k < 4; ++k)
    header.set("CD" + std::to_string(k / 2 + 1) + "_" + std::to_string(k % 2 + 1), m[k], "[deg/px]");
  header.set("LONPOLE", p.lonpole, "[deg] native longitude of the celestial pole");
  header.set("LATPOLE", p.latpole, "[deg] native latitude of the celestial pole");
  if (p.radesys[0] != '\0' && p.radesys[0] != ' ') header.set("RADESYS", std::string(p.radesys));
  if (!undefined(p.equinox)) header.set("EQUINOX", p.equinox, "[yr] equinox of the coordinates");
  for (int k = 0; k < p.npv; ++k)
    header.set("PV" + std::to_string(p.pv[k].i) + "_" + std::to_string(p.pv[k].m), p.pv[k].value);
  for (auto& [key, value] : dist.cards) header.set(key, std::move(value));
}

}  // namespace zm
