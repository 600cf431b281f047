// SDS's final stack: the mega-tiles (each a coadd of one batch on the whole canvas) combined per pixel with
// rejection, weighted by their coverage, streamed by output row bands.
#pragma once

#include <cstdint>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "stack/combine_band.hpp"
#include "stack/rejection.hpp"

namespace zm {

struct MegatileStackStats {
  RejectStats reject;
  long long masked_pixels = 0;        // covered but under keep_fraction x peak coverage
  std::uint64_t peak_band_bytes = 0;
};

// Bytes one output row holds while stacking n mega-tiles of `channels` over `width` px (their image, weight and
// coverage rows plus the output's): the band height is chosen against it.
std::uint64_t megatile_stack_row_bytes(int width, int channels, int megatiles);

// Writes `out` (image, weight = summed weights, coverage = summed coverages) atomically. Samples are
// gain x value + offset per channel (corrections in mega-tile order); pixels under keep_fraction x the peak summed
// coverage are NaN. Bit-identical for any band height and worker count.
MegatileStackStats stack_megatiles(const std::vector<MosaicArtifacts>& tiles, const std::vector<TileCorrection>& corr,
                                   const RejectParams& params, double keep_fraction, int band_rows, int workers,
                                   const MosaicArtifacts& out);

}  // namespace zm
