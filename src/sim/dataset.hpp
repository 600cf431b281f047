// A whole simulated dataset: planning it in memory and writing it to a folder (frames, truth, catalogue, manifest).
//
// Folder contents (all bit-identical for a given config, whatever the thread count):
//   Light_<OBJECT>_<exp>s_IRCUT_<YYYYMMDD-HHMMSS>.fit  raw GRBG uint16 frames (BITPIX 16, BZERO 32768)
//   truth.fits        noise-free sky (stars + nebulosity), ADU per exposure, float32 3 x H x W on the north-up
//                     reference TAN grid (no background, no vignetting, transparency 1), with its WCS
//   truth_stars.csv   id,ra,dec,flux_r,flux_g,flux_b,x_truth,y_truth,mag (x/y 0-based on the truth grid)
//   manifest.json     the config, the truth grid, every frame's geometry and conditions, trails, hot pixels,
//                     corrupt files and the error each should raise
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "image/image.hpp"
#include "io/fits_header.hpp"
#include "sim/frame_plan.hpp"
#include "sim/frame_render.hpp"
#include "sim/sim_config.hpp"
#include "sim/sky_model.hpp"

namespace zm::sim {

// Sub-folder of a dataset holding the frames: the input folder for `zemosaic run`.
inline constexpr const char* kLightsFolder = "lights";

struct DatasetPlan {
  SimConfig config;
  std::vector<FramePlan> frames;
  std::vector<HotPixel> hot_pixels;
  SkyModel sky;

  FrameInputs inputs(int frame) const { return {config, sky, frames.at(frame), hot_pixels}; }
};

// Validates the config (InputError BadConfig), lays out the frames, the truth grid and the sky. Cheap: no pixels.
DatasetPlan plan_dataset(const SimConfig& config);

// The frame's FITS header: Seestar keys, RA/DEC hint, and the TAN WCS unless the frame drops it.
FitsHeader frame_header(const DatasetPlan& plan, const FramePlan& frame);
// truth.fits: render of the sky on the truth grid with the nominal PSF.
ImageF render_truth(const DatasetPlan& plan);
FitsHeader truth_header(const DatasetPlan& plan);
std::string truth_stars_csv(const SkyModel& sky);

// A deliberately broken input file and the InputErrorKind a reader should report for it.
struct CorruptFile {
  std::string file;
  std::string defect;
  std::string expected_error;  // to_string(InputErrorKind)
};

struct DatasetFiles {
  std::filesystem::path dir;
  std::vector<std::string> frames;  // file names, in frame order
  std::string truth;                // empty when not written
  std::string stars_csv;
  std::string manifest;
  std::vector<CorruptFile> corrupt;
};

std::vector<CorruptFile> write_corrupt_files(const DatasetPlan& plan, const std::filesystem::path& dir);
nlohmann::json build_manifest(const DatasetPlan& plan, const DatasetFiles& files);

// Renders and writes everything (frames in parallel with TBB). Creates `dir`; existing files of the same names
// are replaced.
DatasetFiles write_dataset(const DatasetPlan& plan, const std::filesystem::path& dir);
DatasetFiles write_dataset(const SimConfig& config, const std::filesystem::path& dir);

}  // namespace zm::sim
