// RAII ownership of a cfitsio handle and cfitsio's error text. Private to the io layer (io/detail/): nothing outside
// src/io/ includes it or <fitsio.h> (tests/arch checks this); other layers use io's readers and writers.
#pragma once

#include <fitsio.h>

#include <memory>
#include <string>

namespace zm {

struct FitsFileCloser {
  void operator()(fitsfile* f) const noexcept {
    int status = 0;
    fits_close_file(f, &status);
  }
};
using FitsFilePtr = std::unique_ptr<fitsfile, FitsFileCloser>;

// "cfitsio status N: <text> (<detail messages>)". cfitsio's message stack is process-wide, so the details may
// rarely include a line from another thread; the status text itself is exact.
std::string cfitsio_error_text(int status);

// Closes explicitly so that a failing final flush (disk full) is reported instead of lost in the destructor.
int close_fits(FitsFilePtr& f);

// Closes a file that is about to be deleted without completing its HDU: cfitsio would otherwise pad the data
// unit and zero-fill every row not yet written (gigabytes for a half-written streamed mosaic).
void discard_fits(FitsFilePtr& f) noexcept;

}  // namespace zm
