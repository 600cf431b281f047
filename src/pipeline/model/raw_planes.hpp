// Raw float32 plane files (mega-tiles, global coadds, assembled mosaics): written band by band, committed
// atomically, and read back by row range with CachedFrameReader (same layout as the frame cache: C x H x W).
#pragma once

#include <filesystem>
#include <memory>

#include "io/atomic_file.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/model/mosaic_artifacts.hpp"

namespace zm {

// A C x H x W float32 file filled by row bands in any order; invisible under its final name until commit().
class RawPlanesWriter {
 public:
  RawPlanesWriter(const std::filesystem::path& path, int width, int height, int channels);
  ~RawPlanesWriter();
  RawPlanesWriter(const RawPlanesWriter&) = delete;
  RawPlanesWriter& operator=(const RawPlanesWriter&) = delete;

  // rows [row0, row0 + nrows) of every channel from data (channels x nrows x width).
  void write_rows(int row0, int nrows, const float* data);
  void commit();

 private:
  AtomicOutput out_;
  int fd_ = -1;
  int width_, height_, channels_;
};

// The three files of a MosaicArtifacts, written together.
struct MosaicWriters {
  RawPlanesWriter image, weight, coverage;
  MosaicWriters(const MosaicArtifacts& a);
  void commit();
};

// True when the files of `a` exist with the sizes its dimensions imply.
bool artifacts_complete(const MosaicArtifacts& a);

// Block-mean preview (max side <= max_side) of a raw planes file on `wcs`, streamed factor rows at a time. A preview
// pixel is valid only when every pixel of its block is finite in every channel.
TilePreview planes_preview(const std::filesystem::path& path, int width, int height, int channels, const Wcs& wcs,
                           int id, int max_side);

}  // namespace zm
