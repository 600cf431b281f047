// Header-only survey of a folder and the plans made from it (the library side of `zemosaic plan`).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "core/error.hpp"
#include "plan/input_survey.hpp"
#include "plan_test_util.hpp"
#include "survey_dataset.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

TEST(InputSurvey, ReadsHeadersRecursivelyAndNamesUnreadableFiles) {
  test::TempDir dir("survey");
  test::write_survey_dataset(dir.path());
  const InputSurvey s = survey_input_folder(dir.path());
  ASSERT_EQ(s.frames.size(), 12u);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_NE(s.skipped[0].find("bad.fits"), std::string::npos);
  for (size_t i = 1; i < s.frames.size(); ++i) EXPECT_LT(s.frames[i - 1].path, s.frames[i].path);
  const auto& f = s.frames.front();
  EXPECT_EQ(f.width, test::kSurveyWidth);
  EXPECT_EQ(f.height, test::kSurveyHeight);
  EXPECT_TRUE(f.cfa);
  EXPECT_TRUE(f.has_centre);
  EXPECT_FALSE(f.centre_from_wcs);
  EXPECT_NEAR(f.scale_arcsec, 206.264806 * 2.9 / 250.0, 1e-6);
}

TEST(InputSurvey, JobSizesFromCentres) {
  test::TempDir dir("survey");
  test::write_survey_dataset(dir.path());
  const JobSizes j = job_sizes_from_survey(survey_input_folder(dir.path()), 0.05);
  EXPECT_EQ(j.frames_total, 12u);
  EXPECT_EQ(j.frame_width, test::kSurveyWidth);
  EXPECT_EQ(j.frame_height, test::kSurveyHeight);
  EXPECT_EQ(j.input_channels, 1);
  EXPECT_EQ(j.input_bytes_per_sample, 2);
  EXPECT_EQ(j.frame_channels, 3);  // Bayer frames are debayered
  EXPECT_EQ(j.groups, 3u);
  EXPECT_EQ(j.max_frames_per_group, 4u);
  // RA spread 1 deg at Dec 30 is ~0.866 deg on the sky: ~1303 px at 2.39"/px, plus one frame.
  const double scale = 206.264806 * 2.9 / 250.0;
  EXPECT_NEAR(j.output_width, 1.01 * std::cos(30.0 * std::numbers::pi / 180.0) * 3600.0 / scale + 64, 8);
  EXPECT_NEAR(j.output_height, 0.01 * 3600.0 / scale + 64, 3);
  EXPECT_FALSE(j.notes.empty());
}

TEST(InputSurvey, WithoutCentresGroupsAreAssumedAndSaidSo) {
  test::TempDir dir("survey");
  for (int i = 0; i < 20; ++i) test::write_frame(dir.path() / fmt::format("f{}.fit", i), 0, 0, false);
  const JobSizes j = job_sizes_from_survey(survey_input_folder(dir.path()), 0.05);
  EXPECT_EQ(j.groups, 3u);  // ceil(20 / 8)
  EXPECT_EQ(j.max_frames_per_group, static_cast<std::uint64_t>(kAssumedFramesPerGroup));
  bool said = false;
  for (const auto& n : j.notes) said = said || n.find("assumed frames / 8") != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_GT(j.output_width, 0);
}

TEST(InputSurvey, MissingFolderIsAnInputError) {
  EXPECT_THROW(survey_input_folder("/nonexistent/zemosaic/input"), InputError);
}

// The acceptance check, through the library: 16 cores / 32 GiB / 8 GiB VRAM assumed.
TEST(InputSurvey, PlansForAnAssumedMachine) {
  test::TempDir dir("survey");
  test::write_survey_dataset(dir.path());
  const JobSizes job = job_sizes_from_survey(survey_input_folder(dir.path()), 0.05);
  Config cfg;
  cfg.set("assume_cores", 16);
  cfg.set("assume_ram_gb", 32.0);
  cfg.set("assume_vram_gb", 8.0);
  Capabilities caps = probe_capabilities(dir.path());
  apply_assumptions(caps, cfg);
  for (const ParallelPlan& p : make_all_plans(caps, cfg, job)) {
    SCOPED_TRACE(std::string(to_string(p.kind)));
    EXPECT_GE(p.cpu_workers, 12);
    EXPECT_LE(p.cpu_workers, 15);
    EXPECT_LT(p.ram_budget_bytes, 32 * kGiB);
    EXPECT_LT(p.max_chunk_bytes, 32 * kGiB);
    EXPECT_LT(p.gpu_budget_bytes, 8 * kGiB);
    EXPECT_LT(p.gpu_max_chunk_bytes, 8 * kGiB);
    EXPECT_EQ(p.use_gpu, built_with_cuda());
  }
}

}  // namespace
}  // namespace zm
