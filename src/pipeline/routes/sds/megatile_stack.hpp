// SDS's final stack: the mega-tiles (each a coadd of one batch on the whole canvas) combined per pixel with
// rejection, weighted by their coverage, streamed by output row bands.
#pragma once

#include <cstdint>
#include <vector>

#include "photometry/harmonize.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"
#include "pipeline/routes/sds/sds_batches.hpp"
#include "stack/combine_band.hpp"
#include "stack/rejection.hpp"

namespace zm {

struct MegatileStackStats {
  RejectStats reject;
  long long masked_pixels = 0;        // covered, but by fewer mega-tiles than keep_fraction x the batches expected
  std::uint64_t peak_band_bytes = 0;
};

// Bytes one output row holds while stacking n mega-tiles of `channels` over `width` px (their image, weight and
// coverage rows plus the output's): the band height is chosen against it.
std::uint64_t megatile_stack_row_bytes(int width, int channels, int megatiles);

// Writes `out` (image, weight = summed weights, coverage = summed coverages) atomically. Samples are
// gain x value + offset per channel (corrections in mega-tile order). A pixel is NaN only when fewer mega-tiles
// have data there than keep_fraction x the batches whose frames cover it (`expected`): relative to the coverage
// expected at that place, not to the deepest place of the canvas, so a mosaic of single frames keeps every pixel
// any batch saw. Bit-identical for any band height and worker count.
MegatileStackStats stack_megatiles(const std::vector<MosaicArtifacts>& tiles, const std::vector<TileCorrection>& corr,
                                   const RejectParams& params, double keep_fraction, const BatchCoverage& expected,
                                   int band_rows, int workers, const MosaicArtifacts& out);

}  // namespace zm
