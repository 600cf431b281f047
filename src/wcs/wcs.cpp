// Wcs on top of wcslib: header parsing (wcspih), reduction to the celestial pair (wcssub), batched transforms.
//
// Pixel convention: our pixel coordinates are 0-based, wcslib's (FITS) are 1-based; the +-1 happens only here
// (and in the closed-form TAN/TAN-SIP model, tan_sip.hpp, which serves those projections when it applies).
// Batched wcslib transforms go through fixed-size chunks of per-instance scratch: a warm instance never allocates.
// wcslib reports bad points through stat[] (WCSERR_BAD_PIX / WCSERR_BAD_WORLD); those become NaN. Any other
// failure of a whole chunk is retried point by point so that one pathological point cannot blank a row.
#include "wcs/wcs.hpp"

#include <wcslib/wcserr.h>
#include <wcslib/wcshdr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <variant>

#include "core/error.hpp"
#include "wcs/wcs_impl.hpp"
#include "wcs/wcs_keys.hpp"

namespace zm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Points per wcslib call: one Seestar row (1920) in one call, scratch (8 doubles/point) stays in L2.
constexpr std::size_t kChunk = 2048;

void enable_wcslib_messages() {
  static std::once_flag once;
  std::call_once(once, [] { wcserr_enable(1); });
}

double normalize_ra(double ra) {
  double a = std::fmod(ra, 360.0);
  if (a < 0.0) a += 360.0;
  return a >= 360.0 ? a - 360.0 : a;
}

// The array wcspih allocates, freed on every exit path.
struct ParsedReps {
  int nwcs = 0;
  wcsprm* reps = nullptr;
  ~ParsedReps() {
    if (reps) wcsvfree(&nwcs, &reps);
  }
};

bool is_numeric_wcs_key(std::string_view key) {
  auto numeric = [](std::string_view k) {
    return wcskeys::matches_any(k, {"WCSAXES", "CRVAL#", "CRPIX#", "CDELT#", "CROTA#", "CD#_#", "PC#_#", "PV#_#",
                                    "LONPOLE", "LATPOLE", "EQUINOX", "EPOCH", "A_#_#", "B_#_#", "AP_#_#", "BP_#_#",
                                    "A_ORDER", "B_ORDER", "AP_ORDER", "BP_ORDER", "A_DMAX", "B_DMAX"});
  };
  // Alternate representations carry a trailing letter (CRVAL1A).
  const bool alt = !key.empty() && key.back() >= 'A' && key.back() <= 'Z';
  return numeric(key) || (alt && numeric(key.substr(0, key.size() - 1)));
}

// The header as wcspih reads it. Some writers quote numbers (CRVAL1 = '150.0'); wcspih would drop such a card and
// silently use a default (CRVAL 0), so numeric strings under numeric WCS keywords are handed over as numbers.
std::string wcspih_cards(const FitsHeader& header) {
  std::optional<FitsHeader> fixed;
  for (const FitsCard& c : header.cards()) {
    if (!std::holds_alternative<std::string>(c.value) || !is_numeric_wcs_key(c.key)) continue;
    if (auto v = header.get_double(c.key)) {
      if (!fixed) fixed = header;
      fixed->set(c.key, *v);
    }
  }
  return (fixed ? *fixed : header).to_card_string();
}

int header_size(const FitsHeader& header, const char* naxis_key, const char* sidecar_key) {
  for (const char* key : {naxis_key, sidecar_key}) {
    auto v = header.get_int(key);
    if (v && *v > 0 && *v <= std::numeric_limits<int>::max()) return static_cast<int>(*v);
  }
  return 0;
}

std::string quoted_ctypes(const FitsHeader& header) {
  std::string out;
  for (const char* key : {"CTYPE1", "CTYPE2"}) {
    if (auto v = header.get_string(key)) out += std::string(out.empty() ? "" : ", ") + key + "='" + *v + "'";
  }
  return out.empty() ? "no CTYPE1/CTYPE2" : out;
}

// wcspih drops cards it cannot read and falls back to defaults (CRVAL 0, unit matrix), which would silently give
// a wrong WCS; a NaN written by us comes back as a card without a value. Reject such cards up front.
void require_finite_cards(const FitsHeader& header, char alt, const std::string& source) {
  std::string suffix = alt == ' ' ? std::string() : std::string(1, alt);
  auto check = [&](const std::string& key) {
    if (!header.has(key)) return;
    auto v = header.get_double(key);
    if (!v || !std::isfinite(*v))
      throw InputError(InputErrorKind::BadWcs, source, key + " is not a finite number");
  };
  for (int i = 1; i <= 2; ++i) {
    for (const char* base : {"CRVAL", "CRPIX", "CDELT"}) check(base + std::to_string(i) + suffix);
    for (int j = 1; j <= 2; ++j) {
      check("CD" + std::to_string(i) + "_" + std::to_string(j) + suffix);
      check("PC" + std::to_string(i) + "_" + std::to_string(j) + suffix);
    }
  }
  if (alt == ' ') check("CROTA2");
}

}  // namespace

namespace wcsdetail {

std::string wcslib_message(const wcsprm& prm, int status) {
  if (prm.err && prm.err->msg && prm.err->msg[0] != '\0') return prm.err->msg;
  if (status > 0 && status <= WCSERR_UNSET) return wcs_errmsg[status];
  return "wcslib status " + std::to_string(status);
}

}  // namespace wcsdetail

int Wcs::Impl::set_up() {
  int status = wcsset(&prm);
  if (status == 0) closed_form = TanSipModel::from_wcsprm(prm);
  return status;
}

Wcs Wcs::from_header(const FitsHeader& header, const std::string& source, int width, int height) {
  enable_wcslib_messages();
  std::string cards = wcspih_cards(header);
  ParsedReps parsed;
  int nreject = 0;
  int status = wcspih(cards.data(), static_cast<int>(cards.size() / 80), WCSHDR_all, 0, &nreject, &parsed.nwcs,
                      &parsed.reps);
  if (status != 0)
    throw InputError(InputErrorKind::BadWcs, source,
                     std::string("wcslib could not parse the header: ") + wcshdr_errmsg[status]);

  Wcs w;
  for (int i = 0; i < parsed.nwcs && !w.impl_; ++i) {
    auto impl = std::make_unique<Impl>();
    // One combined code keeps the image's axis order, so pixel x stays image axis 1 even for DEC/RA headers.
    int nsub = 1;
    int axes[2] = {WCSSUB_LONGITUDE | WCSSUB_LATITUDE, 0};
    status = wcssub(1, &parsed.reps[i], &nsub, axes, &impl->prm);
    impl->owns_prm = impl->prm.flag != -1;
    if (status != 0)
      throw InputError(InputErrorKind::BadWcs, source,
                       "cannot extract the celestial axes: " + wcsdetail::wcslib_message(impl->prm, status));
    if (nsub != 2) continue;
    if (axes[0] != 1 || axes[1] != 2)
      throw InputError(InputErrorKind::BadWcs, source,
                       "celestial axes are image axes " + std::to_string(axes[0]) + " and " + std::to_string(axes[1]) +
                           "; only axes 1 and 2 are supported");
    require_finite_cards(header, parsed.reps[i].alt[0], source);
    status = impl->set_up();
    if (status != 0)
      throw InputError(InputErrorKind::BadWcs, source,
                       "wcslib rejected the WCS: " + wcsdetail::wcslib_message(impl->prm, status));
    w.impl_ = std::move(impl);
  }
  if (!w.impl_)
    throw InputError(InputErrorKind::NoWcs, source, "no celestial WCS in the header (" + quoted_ctypes(header) + ")");
  w.width_ = width > 0 ? width : header_size(header, "NAXIS1", "IMAGEW");
  w.height_ = height > 0 ? height : header_size(header, "NAXIS2", "IMAGEH");
  return w;
}

Wcs Wcs::make_tan(SkyCoord crval, PixelCoord crpix, const std::array<double, 4>& cd, int width, int height) {
  enable_wcslib_messages();
  Wcs w;
  w.impl_ = std::make_unique<Impl>();
  wcsprm& p = w.impl_->prm;
  int status = wcsinit(1, 2, &p, -1, -1, -1);
  w.impl_->owns_prm = p.flag != -1;
  if (status != 0) throw std::runtime_error("wcsinit failed: " + wcsdetail::wcslib_message(p, status));
  std::strcpy(p.ctype[0], "RA---TAN");
  std::strcpy(p.ctype[1], "DEC--TAN");
  p.crval[0] = crval.ra;
  p.crval[1] = crval.dec;
  p.crpix[0] = crpix.x + 1.0;
  p.crpix[1] = crpix.y + 1.0;
  std::copy(cd.begin(), cd.end(), p.cd);
  p.altlin = 2;
  std::strcpy(p.radesys, "ICRS");
  p.flag = 0;
  status = w.impl_->set_up();
  if (status != 0)
    throw InputError(InputErrorKind::BadWcs, "(make_tan)",
                     "wcslib rejected the WCS: " + wcsdetail::wcslib_message(p, status));
  w.width_ = width;
  w.height_ = height;
  return w;
}

Wcs::Wcs(const Wcs& other) : width_(other.width_), height_(other.height_) {
  if (!other.impl_) return;
  auto impl = std::make_unique<Impl>();
  // nsub = axes = null: a deep copy of every parameter, distortions included (wcslib >= 7.x).
  int status = wcssub(1, &other.impl_->prm, nullptr, nullptr, &impl->prm);
  impl->owns_prm = impl->prm.flag != -1;
  if (status == 0) status = impl->set_up();
  impl->closed_form_enabled = other.impl_->closed_form_enabled;
  if (status != 0) throw std::runtime_error("copying a WCS failed: " + wcsdetail::wcslib_message(impl->prm, status));
  impl_ = std::move(impl);
}

Wcs& Wcs::operator=(const Wcs& other) {
  if (this != &other) {
    Wcs copy(other);
    *this = std::move(copy);
  }
  return *this;
}

Wcs::Wcs(Wcs&&) noexcept = default;
Wcs& Wcs::operator=(Wcs&&) noexcept = default;
Wcs::~Wcs() = default;

namespace {

void require_equal(std::size_t a, std::size_t b, std::size_t c, std::size_t d) {
  if (a != b || a != c || a != d) throw std::invalid_argument("Wcs transform: spans of different lengths");
}

// Scratch layout for one chunk of n points: in[2n], img[2n], out[2n], phi[n], theta[n].
struct ChunkBuffers {
  double* in;
  double* img;
  double* out;
  double* phi;
  double* theta;
  int* stat;
};

ChunkBuffers chunk_buffers(std::vector<double>& scratch, std::vector<int>& stat) {
  if (scratch.size() < 8 * kChunk) scratch.resize(8 * kChunk);
  if (stat.size() < kChunk) stat.resize(kChunk);
  double* s = scratch.data();
  return {s, s + 2 * kChunk, s + 4 * kChunk, s + 6 * kChunk, s + 7 * kChunk, stat.data()};
}

// wcslib 7.12's wcserr_set allocates a fresh message on every failing call without freeing the previous one, so a
// row with invalid points would leak ~100 bytes per call. Messages of transform failures are never used: drop them.
void clear_errors(wcsprm& p) {
  wcserr_clear(&p.err);
  wcserr_clear(&p.lin.err);
  wcserr_clear(&p.cel.err);
  wcserr_clear(&p.cel.prj.err);
  if (p.lin.dispre) wcserr_clear(&p.lin.dispre->err);
  if (p.lin.disseq) wcserr_clear(&p.lin.disseq->err);
}

// Runs `call(count, offset)` over the chunk; on a whole-chunk failure redoes it one point at a time and marks
// the points that still fail in stat. `tolerated` is the status that only flags individual points.
template <class Call>
void run_chunk(int n, int tolerated, const ChunkBuffers& b, Call call) {
  int status = call(n, 0);
  if (status == 0) {
    std::fill(b.stat, b.stat + n, 0);
    return;
  }
  if (status == tolerated) return;
  for (int k = 0; k < n; ++k) {
    int s = call(1, k);
    if (s != 0 && s != tolerated) b.stat[k] = 1;
  }
}

}  // namespace

void Wcs::pixel_to_world(std::span<const double> x, std::span<const double> y, std::span<double> ra,
                         std::span<double> dec) {
  require_equal(x.size(), y.size(), ra.size(), dec.size());
  if (uses_closed_form()) return impl_->closed_form->pixel_to_world(x, y, ra, dec);
  wcsprm& p = impl_->prm;
  const ChunkBuffers b = chunk_buffers(impl_->scratch, impl_->stat);
  for (std::size_t start = 0; start < x.size(); start += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, x.size() - start));
    for (int k = 0; k < n; ++k) {
      const double xi = x[start + k], yi = y[start + k];
      const bool ok = std::isfinite(xi) && std::isfinite(yi);
      b.in[2 * k] = ok ? xi + 1.0 : p.crpix[0];  // non-finite input: a harmless stand-in, masked below
      b.in[2 * k + 1] = ok ? yi + 1.0 : p.crpix[1];
    }
    run_chunk(n, WCSERR_BAD_PIX, b, [&](int count, int off) {
      int status = wcsp2s(&p, count, 2, b.in + 2 * off, b.img + 2 * off, b.phi + off, b.theta + off,
                          b.out + 2 * off, b.stat + off);
      if (status != 0) clear_errors(p);
      return status;
    });
    for (int k = 0; k < n; ++k) {
      const std::size_t i = start + k;
      const bool bad = b.stat[k] != 0 || !std::isfinite(x[i]) || !std::isfinite(y[i]);
      ra[i] = bad ? kNaN : normalize_ra(b.out[2 * k + p.lng]);
      dec[i] = bad ? kNaN : b.out[2 * k + p.lat];
    }
  }
}

void Wcs::world_to_pixel(std::span<const double> ra, std::span<const double> dec, std::span<double> x,
                         std::span<double> y) {
  require_equal(ra.size(), dec.size(), x.size(), y.size());
  if (uses_closed_form()) return impl_->closed_form->world_to_pixel(ra, dec, x, y);
  wcsprm& p = impl_->prm;
  const ChunkBuffers b = chunk_buffers(impl_->scratch, impl_->stat);
  for (std::size_t start = 0; start < ra.size(); start += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, ra.size() - start));
    for (int k = 0; k < n; ++k) {
      const double a = ra[start + k], d = dec[start + k];
      const bool ok = std::isfinite(a) && std::isfinite(d);
      b.in[2 * k + p.lng] = ok ? a : p.crval[p.lng];
      b.in[2 * k + p.lat] = ok ? d : p.crval[p.lat];
    }
    run_chunk(n, WCSERR_BAD_WORLD, b, [&](int count, int off) {
      int status = wcss2p(&p, count, 2, b.in + 2 * off, b.phi + off, b.theta + off, b.img + 2 * off,
                          b.out + 2 * off, b.stat + off);
      if (status != 0) clear_errors(p);
      return status;
    });
    for (int k = 0; k < n; ++k) {
      const std::size_t i = start + k;
      const bool bad = b.stat[k] != 0 || !std::isfinite(ra[i]) || !std::isfinite(dec[i]);
      x[i] = bad ? kNaN : b.out[2 * k] - 1.0;
      y[i] = bad ? kNaN : b.out[2 * k + 1] - 1.0;
    }
  }
}

SkyCoord Wcs::pixel_to_world(PixelCoord p) {
  double ra = 0.0, dec = 0.0;
  pixel_to_world(std::span<const double>(&p.x, 1), std::span<const double>(&p.y, 1), std::span<double>(&ra, 1),
                 std::span<double>(&dec, 1));
  return {ra, dec};
}

std::optional<PixelCoord> Wcs::world_to_pixel(SkyCoord s) {
  double x = 0.0, y = 0.0;
  world_to_pixel(std::span<const double>(&s.ra, 1), std::span<const double>(&s.dec, 1), std::span<double>(&x, 1),
                 std::span<double>(&y, 1));
  if (!std::isfinite(x) || !std::isfinite(y)) return std::nullopt;
  return PixelCoord{x, y};
}

// After wcsset, wcslib holds the linear part as PC + CDELT whatever the header used (CD copied into PC with
// CDELT = 1, CROTA converted), so CD = diag(CDELT) * PC covers every form.
std::array<double, 4> Wcs::cd() const {
  const wcsprm& p = impl_->prm;
  return {p.cdelt[0] * p.pc[0], p.cdelt[0] * p.pc[1], p.cdelt[1] * p.pc[2], p.cdelt[1] * p.pc[3]};
}

SkyCoord Wcs::crval() const {
  const wcsprm& p = impl_->prm;
  return {normalize_ra(p.crval[p.lng]), p.crval[p.lat]};
}

PixelCoord Wcs::crpix() const { return {impl_->prm.crpix[0] - 1.0, impl_->prm.crpix[1] - 1.0}; }

bool Wcs::has_distortion() const { return impl_->prm.lin.dispre != nullptr || impl_->prm.lin.disseq != nullptr; }

std::string Wcs::projection_code() const { return std::string(impl_->prm.cel.prj.code); }

void Wcs::set_closed_form(bool enabled) { impl_->closed_form_enabled = enabled; }

bool Wcs::uses_closed_form() const { return impl_->closed_form_enabled && impl_->closed_form.has_value(); }

}  // namespace zm
