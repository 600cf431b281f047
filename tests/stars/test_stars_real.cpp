// Detection and matching on real Seestar S50 frames; their astrometry.net sidecars give an independent answer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "io/fits_reader.hpp"
#include "stars/cfa_detect.hpp"
#include "stars/match.hpp"
#include "test_support.hpp"
#include "wcs/wcs.hpp"

namespace {

namespace fs = std::filesystem;

const char* const kSession1a = "Light_M 94_10.0s_IRCUT_20250326-212046";
const char* const kSession1b = "Light_M 94_10.0s_IRCUT_20250326-212249";
const char* const kSession2 = "Light_M 94_10.0s_IRCUT_20250327-014513";

std::optional<fs::path> m94_dir() {
  const auto data = zm::test::shared_data_dir();
  if (!data) return std::nullopt;
  const fs::path dir = *data / "real" / "seestar_m94";
  if (!fs::is_directory(dir)) return std::nullopt;
  return dir;
}

struct Frame {
  std::vector<zm::Star> stars;
  zm::DetectInfo info;
  int width = 0, height = 0;
};

Frame detect(zm::StarDetector& det, const fs::path& dir, const std::string& name) {
  zm::FitsImageReader reader((dir / (name + ".fit")).string());
  const zm::ImageF img = reader.read_all();
  Frame f;
  f.width = img.width;
  f.height = img.height;
  f.stars = det.detect_cfa(img.plane(0), img.width, img.height, zm::bayer_pattern_from_header(reader.info().header),
                           zm::CfaDetectMode::Binned2x2, &f.info);
  return f;
}

zm::Wcs load_wcs(const fs::path& dir, const std::string& name) {
  const fs::path p = dir / "wcs" / (name + ".wcs");
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return zm::Wcs::from_header(zm::FitsHeader::parse_cards(ss.str()), p.string());
}

zm::StarDetector seestar_detector() {
  zm::DetectParams p;
  p.saturation = 65000.0f;
  return zm::StarDetector(p);
}

TEST(StarsReal, SeestarFramesGiveStarsWithSaneShapes) {
  const auto dir = m94_dir();
  if (!dir) GTEST_SKIP() << "shared data folder absent (../shared/data/real/seestar_m94)";
  zm::StarDetector det = seestar_detector();
  for (const char* name : {kSession1a, kSession2}) {
    SCOPED_TRACE(name);
    const Frame f = detect(det, *dir, name);
    EXPECT_GE(f.stars.size(), 50u);
    EXPECT_GT(f.info.background, 600.0f);  // README: sky medians 657-919 ADU
    EXPECT_LT(f.info.background, 1000.0f);
    EXPECT_GT(f.info.noise, 5.0f);
    const double fwhm = zm::median_fwhm(f.stars);  // full-resolution px; ~2.4"/px and a few arcsec of seeing
    EXPECT_GT(fwhm, 1.5);
    EXPECT_LT(fwhm, 8.0);
    for (std::size_t i = 0; i < f.stars.size(); ++i) {
      const zm::Star& s = f.stars[i];
      EXPECT_TRUE(s.x >= 0.0 && s.x <= f.width - 1.0 && s.y >= 0.0 && s.y <= f.height - 1.0);
      if (i > 0) {
        EXPECT_GE(f.stars[i - 1].flux, s.flux);
      }
    }
  }
}

// The frame-to-frame transform found from stars alone must agree with the two plate solutions (each good to a
// fraction of a pixel) over the whole frame.
TEST(StarsReal, MatchAgreesWithPlateSolutions) {
  const auto dir = m94_dir();
  if (!dir) GTEST_SKIP() << "shared data folder absent (../shared/data/real/seestar_m94)";
  zm::StarDetector det = seestar_detector();
  const Frame ref = detect(det, *dir, kSession1a);
  zm::Wcs ref_wcs = load_wcs(*dir, kSession1a);
  for (const char* name : {kSession1b, kSession2}) {
    SCOPED_TRACE(name);
    const Frame tgt = detect(det, *dir, name);
    zm::Wcs tgt_wcs = load_wcs(*dir, name);
    const zm::MatchResult m = zm::match_stars(ref.stars, tgt.stars);
    ASSERT_TRUE(m.ok) << m.reason;
    EXPECT_GE(m.n_inliers, 30);
    EXPECT_LT(m.weighted_rms, 0.3);
    EXPECT_FALSE(m.transform.is_flipped());
    double sum2 = 0.0, worst = 0.0;
    int n = 0;
    for (int i = 0; i <= 4; ++i)
      for (int j = 0; j <= 8; ++j) {
        const zm::PixelCoord p{(tgt.width - 1) * i / 4.0, (tgt.height - 1) * j / 8.0};
        const auto q = ref_wcs.world_to_pixel(tgt_wcs.pixel_to_world(p));
        ASSERT_TRUE(q.has_value());
        const zm::Point2 r = m.transform.apply({p.x, p.y});
        const double d = std::hypot(r.x - q->x, r.y - q->y);
        sum2 += d * d;
        worst = std::max(worst, d);
        ++n;
      }
    std::printf("[ info     ] %s: %d inliers, rms %.3f px (weighted %.3f), vs plate solutions: rms %.3f max %.3f px\n",
                name, m.n_inliers, m.rms, m.weighted_rms, std::sqrt(sum2 / n), worst);
    EXPECT_LT(std::sqrt(sum2 / n), 0.5);
    EXPECT_LT(worst, 1.0);
  }
}

}  // namespace
