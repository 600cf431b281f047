// A celestial WCS backed by wcslib. Pixel coordinates are 0-based: (0,0) is the centre of the first pixel.
//
// Thread safety: wcslib keeps scratch buffers inside wcsprm (lin.h tmpcrd, dis.h tmpmem) and may call wcsset
// lazily, so a Wcs must not be used by two threads at once. The transform methods are therefore non-const.
// To fan out, copy: the copy constructor deep-copies the wcsprm (wcssub) and calls wcsset before returning,
// so each worker owns a ready-to-use instance.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "io/fits_header.hpp"

namespace zm {

struct SkyCoord {
  double ra = 0.0;   // degrees, [0, 360)
  double dec = 0.0;  // degrees
};

struct PixelCoord {
  double x = 0.0;
  double y = 0.0;
};

class Wcs {
 public:
  // Builds from header cards (any projection wcslib knows, SIP/TPV/TPD distortions included). The image size
  // comes from NAXIS1/2 (or IMAGEW/IMAGEH in astrometry.net sidecars) unless given. Throws InputError:
  // NoWcs when there is no celestial WCS, BadWcs when wcslib rejects it. `source` names the file in errors.
  static Wcs from_header(const FitsHeader& header, const std::string& source, int width = 0, int height = 0);
  // A plain TAN WCS (no distortion). crpix is 0-based; cd in degrees/pixel, row-major {CD1_1, CD1_2, CD2_1, CD2_2}.
  static Wcs make_tan(SkyCoord crval, PixelCoord crpix, const std::array<double, 4>& cd, int width, int height);

  Wcs(const Wcs& other);
  Wcs& operator=(const Wcs& other);
  Wcs(Wcs&&) noexcept;
  Wcs& operator=(Wcs&&) noexcept;
  ~Wcs();

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  void set_size(int width, int height) { width_ = width; height_ = height; }

  // Batched transforms over whole rows. Spans must have equal length. Invalid points give NaN.
  void pixel_to_world(std::span<const double> x, std::span<const double> y, std::span<double> ra,
                      std::span<double> dec);
  void world_to_pixel(std::span<const double> ra, std::span<const double> dec, std::span<double> x,
                      std::span<double> y);
  SkyCoord pixel_to_world(PixelCoord p);
  std::optional<PixelCoord> world_to_pixel(SkyCoord s);

  // Linear part at the reference point: CD matrix (deg/px, row-major), CRVAL, 0-based CRPIX.
  std::array<double, 4> cd() const;
  SkyCoord crval() const;
  PixelCoord crpix() const;
  bool has_distortion() const;
  std::string projection_code() const;  // "TAN", "SIN", ...

  // TAN and TAN-SIP transforms run through a closed-form path (several times faster than wcslib, equal to it
  // within 1e-10 deg as the tests check); false sends every projection through wcslib (cross-checks, diagnostics).
  void set_closed_form(bool enabled);
  bool uses_closed_form() const;

  // Writes WCSAXES/CTYPE/CRVAL/CRPIX/CD/CUNIT/RADESYS (+ SIP A_/B_/AP_/BP_ when present) into `header`.
  // Also LONPOLE/LATPOLE/EQUINOX/PVi_m (TPV distortions as PVi_m with CTYPE '-TPV'); conflicting primary WCS
  // cards already in `header` (PC/CDELT/CROTA, stale SIP terms) are removed first. Other distortion types
  // (DSS, WAT, TPD, generic polynomials) cannot be written and throw std::runtime_error.
  void write_to_header(FitsHeader& header) const;

 private:
  Wcs() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int width_ = 0;
  int height_ = 0;
};

}  // namespace zm
