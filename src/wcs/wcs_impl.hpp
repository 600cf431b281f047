// Internal state of zm::Wcs (wcslib struct + transform scratch); included only by the wcs layer's sources.
#pragma once

#include <wcslib/dis.h>
#include <wcslib/wcs.h>

#include <optional>
#include <string>
#include <vector>

#include "wcs/tan_sip.hpp"
#include "wcs/wcs.hpp"

namespace zm {

struct Wcs::Impl {
  // The wcsprm lives inside the heap-allocated Impl and never moves: wcslib keeps pointers into it.
  wcsprm prm{};
  bool owns_prm = false;
  // Scratch for batched transforms, grown on demand and reused, so a row costs no allocation once warm.
  std::vector<double> scratch;
  std::vector<int> stat;
  // Closed-form TAN/TAN-SIP model, present when it reproduces prm exactly; used unless disabled.
  std::optional<TanSipModel> closed_form;
  bool closed_form_enabled = true;

  Impl() { prm.flag = -1; }
  // wcsset, then the closed-form model when the WCS allows it. Returns wcslib's status.
  int set_up();
  ~Impl() {
    if (owns_prm) wcsfree(&prm);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

namespace wcsdetail {

// wcslib's detailed message for the last failure on `prm`, else its generic text for `status`.
std::string wcslib_message(const wcsprm& prm, int status);

}  // namespace wcsdetail
}  // namespace zm
