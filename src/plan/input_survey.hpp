// A header-only survey of an input folder (no pixel reads) and the job sizes a plan can be made from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/parallel_plan.hpp"

namespace zm {

struct SurveyedFrame {
  std::string path;
  int width = 0;
  int height = 0;
  int channels = 1;
  int bitpix = 0;
  bool cfa = false;           // a Bayer mosaic (BAYERPAT/CFAIMAGE on a 2-D image): debayered to 3 channels
  bool has_centre = false;
  bool centre_from_wcs = false;  // else from the RA/DEC keywords (the target, not the frame centre)
  double ra_deg = 0.0;
  double dec_deg = 0.0;
  double scale_arcsec = 0.0;  // pixel scale: WCS, else 206.265 * XPIXSZ[um] * XBINNING / FOCALLEN[mm]; 0 = unknown
};

struct InputSurvey {
  std::vector<SurveyedFrame> frames;  // sorted by path
  std::vector<std::string> skipped;   // "<path>: <reason>" for each unreadable file
};

// *.fit / *.fits / *.fts (any case) under `dir`, recursively; headers read in parallel, results in path order.
// Throws InputError(NotFound) when `dir` is not a folder.
InputSurvey survey_input_folder(const std::filesystem::path& dir);

// Job sizes from a survey: the largest frame, working channels (3 for Bayer), frame count; groups estimated by
// linking frame centres closer than `cluster_threshold_deg` (else assumed frames / 8); output grid from the
// spread of the centres and the pixel scale (else sqrt(groups) frames a side). Every estimate is stated in notes.
JobSizes job_sizes_from_survey(const InputSurvey& survey, double cluster_threshold_deg);

// Frames assumed per group when no frame centre is known (the groups only exist after clustering).
inline constexpr int kAssumedFramesPerGroup = 8;

}  // namespace zm
