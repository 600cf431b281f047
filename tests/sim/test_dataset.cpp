// A written dataset: deterministic bytes, valid Seestar-like frames, truth products that agree with the frames,
// and every injected effect (sky levels, transparency, hot pixels, dropped WCS, corrupt files) as the manifest says.
#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "io/fits_reader.hpp"
#include "sim/dataset.hpp"
#include "sim_test_util.hpp"
#include "test_support.hpp"
#include "wcs/validate.hpp"

namespace zm::sim {
namespace {

using nlohmann::json;
using testutil::centroid;
using testutil::isolated_stars;

json read_manifest(const std::filesystem::path& dir) {
  std::ifstream f(dir / "manifest.json");
  return json::parse(f);
}

std::map<std::string, std::string> hash_folder(const std::filesystem::path& dir) {
  std::map<std::string, std::string> h;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) h[std::filesystem::relative(e.path(), dir).string()] = file_content_hash(e.path());
  return h;
}

struct CsvStar {
  double ra, dec, flux_g, x, y;
};

std::vector<CsvStar> read_stars_csv(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "id,ra,dec,flux_r,flux_g,flux_b,x_truth,y_truth,mag");
  std::vector<CsvStar> out;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> v;
    while (std::getline(ss, cell, ',')) v.push_back(std::stod(cell));
    EXPECT_EQ(v.size(), 9u);
    out.push_back({v[1], v[2], v[4], v[6], v[7]});
  }
  return out;
}

// One written dataset shared by the read-only tests below (written once: keeps the suite fast).
class SimDataset : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<test::TempDir>("simds");
    SimConfig c = testutil::small_config(21);
    c.defects.drop_wcs = 2;
    c.defects.corrupt = true;
    c.defects.trail_fraction = 0.25;
    c.observing.hot_pixel_fraction = 5e-4;
    plan_ = std::make_unique<DatasetPlan>(plan_dataset(c));
    files_ = std::make_unique<DatasetFiles>(write_dataset(*plan_, dir_->path()));
    manifest_ = std::make_unique<json>(read_manifest(dir_->path()));
  }
  static void TearDownTestSuite() {
    manifest_.reset();
    files_.reset();
    plan_.reset();
    dir_.reset();
  }
  static std::filesystem::path path(const std::string& name) { return dir_->path() / name; }

  static std::unique_ptr<test::TempDir> dir_;
  static std::unique_ptr<DatasetPlan> plan_;
  static std::unique_ptr<DatasetFiles> files_;
  static std::unique_ptr<json> manifest_;
};
std::unique_ptr<test::TempDir> SimDataset::dir_;
std::unique_ptr<DatasetPlan> SimDataset::plan_;
std::unique_ptr<DatasetFiles> SimDataset::files_;
std::unique_ptr<json> SimDataset::manifest_;

TEST_F(SimDataset, WritesTheAnnouncedFiles) {
  ASSERT_EQ(files_->frames.size(), 8u);
  for (const auto& f : files_->frames) {
    EXPECT_TRUE(std::filesystem::exists(path(f))) << f;
    EXPECT_EQ(f.rfind("lights/Light_SIM 1_10.0s_IRCUT_2025032", 0), 0u) << f;
  }
  EXPECT_TRUE(std::filesystem::exists(path("truth.fits")));
  EXPECT_TRUE(std::filesystem::exists(path("truth_stars.csv")));
  const auto& m = *manifest_;
  EXPECT_EQ(m["frames"].size(), 8u);
  EXPECT_EQ(m["seed"].get<std::uint64_t>(), 21u);
  EXPECT_EQ(m["hot_pixels"].size(), plan_->hot_pixels.size());
  EXPECT_EQ(m["corrupt_files"].size(), 4u);
  EXPECT_EQ(m["stars"]["count"].get<std::size_t>(), plan_->sky.stars.size());
}

TEST_F(SimDataset, FramesAreSeestarLikeWithValidWcs) {
  int with_wcs = 0;
  for (const auto& fj : (*manifest_)["frames"]) {
    const FitsImageInfo info = read_fits_info(path(fj["file"].get<std::string>()));
    EXPECT_EQ(info.bitpix, 16);
    EXPECT_EQ(info.bzero, 32768.0);
    EXPECT_EQ(info.width, 384);
    EXPECT_EQ(info.height, 256);
    EXPECT_EQ(info.channels, 1);
    const FitsHeader& h = info.header;
    EXPECT_EQ(h.get_string("BAYERPAT").value_or(""), "GRBG");
    EXPECT_EQ(h.get_string("INSTRUME").value_or(""), "Seestar S50");
    EXPECT_EQ(h.get_string("FILTER").value_or(""), "IRCUT");
    EXPECT_EQ(h.get_double("EXPTIME").value_or(0), 10.0);
    EXPECT_EQ(h.get_double("FOCALLEN").value_or(0), 250.0);
    EXPECT_NEAR(h.get_double("XPIXSZ").value_or(0), 2.9, 1e-9);
    EXPECT_TRUE(h.get_double("GAIN"));
    EXPECT_EQ(h.get_string("OBJECT").value_or(""), "SIM 1");
    EXPECT_EQ(h.get_string("DATE-OBS").value_or(""), fj["date_obs"].get<std::string>());
    EXPECT_NEAR(h.get_double("RA").value_or(-1), fj["hint"][0].get<double>(), 1e-9);
    EXPECT_NEAR(h.get_double("DEC").value_or(-1), fj["hint"][1].get<double>(), 1e-9);
    if (!fj["has_wcs"].get<bool>()) continue;
    ++with_wcs;
    const WcsValidation v = validate_wcs_header(h);
    EXPECT_TRUE(v.ok) << v.reason;
    EXPECT_NEAR(v.scale_arcsec, 2.39, 0.01);
    Wcs wcs = Wcs::from_header(h, fj["file"].get<std::string>());
    EXPECT_NEAR(wcs.crval().ra, fj["crval"][0].get<double>(), 1e-9);
    EXPECT_NEAR(wcs.crval().dec, fj["crval"][1].get<double>(), 1e-9);
    EXPECT_NEAR(wcs.crpix().x, fj["crpix_0based"][0].get<double>(), 1e-9);
    for (int k = 0; k < 4; ++k) EXPECT_NEAR(wcs.cd()[k], fj["cd"][k].get<double>(), 1e-15);
  }
  EXPECT_EQ(with_wcs, 6);
}

TEST_F(SimDataset, DroppedWcsFramesKeepOnlyTheRaDecHint) {
  int dropped = 0;
  for (const auto& fj : (*manifest_)["frames"]) {
    if (fj["has_wcs"].get<bool>()) continue;
    ++dropped;
    const FitsImageInfo info = read_fits_info(path(fj["file"].get<std::string>()));
    for (const char* key : {"CTYPE1", "CTYPE2", "CRVAL1", "CD1_1", "CRPIX1"}) EXPECT_FALSE(info.header.has(key)) << key;
    EXPECT_TRUE(info.header.get_double("RA"));
    EXPECT_TRUE(info.header.get_double("DEC"));
    EXPECT_FALSE(validate_wcs_header(info.header).ok);
    // The hint is the target, away from the true centre (like real Seestar subs).
    EXPECT_NEAR(fj["hint_offset_deg"].get<double>(), 0.25, 0.03);  // plus the dither
  }
  EXPECT_EQ(dropped, 2);
}

TEST_F(SimDataset, NoisyFrameGreenCentroidsMatchTruthCatalogue) {
  const auto csv = read_stars_csv(path("truth_stars.csv"));
  ASSERT_EQ(csv.size(), plan_->sky.stars.size());
  double s2 = 0.0;
  int n = 0;
  for (const auto& fj : (*manifest_)["frames"]) {
    if (!fj["has_wcs"].get<bool>() || !fj["trails"].empty()) continue;
    const std::string file = fj["file"].get<std::string>();
    FitsImageReader reader(path(file).string());
    const ImageF img = reader.read_all();
    Wcs wcs = Wcs::from_header(reader.info().header, file);
    // Prediction from the CSV alone: (ra, dec) through the frame's header WCS.
    std::vector<Star> stars;
    for (const auto& c : csv) {
      Star s;
      s.pos = {c.ra, c.dec};
      s.flux = {0.0, c.flux_g, 0.0};
      stars.push_back(s);
    }
    // Bright but unsaturated: green flux 6e4 .. 6e5 ADU (peak < 45000 ADU above the sky).
    for (const auto& t : isolated_stars(stars, wcs, 6e4, 6e5, 20.0, 12.0, 0.05)) {
      bool near_hot = false;  // a hot pixel under the star would pull any centroid
      for (const auto& h : plan_->hot_pixels) near_hot |= std::hypot(h.x - t.x, h.y - t.y) < 8.0;
      if (near_hot) continue;
      const auto green = [&](int x, int y) -> std::optional<double> {
        if (((x + y) & 1) != 0) return std::nullopt;  // GRBG: green where x + y is even
        return img.at(0, y, x);
      };
      const auto c = centroid(green, img.width, img.height, std::round(t.x), std::round(t.y));
      if (!c) continue;
      s2 += std::pow((*c)[0] - t.x, 2) + std::pow((*c)[1] - t.y, 2);
      ++n;
    }
  }
  ASSERT_GE(n, 8);
  EXPECT_LT(std::sqrt(s2 / n), 0.1);
}

TEST_F(SimDataset, TruthFitsStarsSitWhereTheCatalogueSays) {
  FitsImageReader reader(path("truth.fits").string());
  const ImageF truth = reader.read_all();
  ASSERT_EQ(truth.channels, 3);
  EXPECT_EQ(truth.width, (*manifest_)["truth"]["width"].get<int>());
  Wcs wcs = Wcs::from_header(reader.info().header, "truth.fits");
  const auto csv = read_stars_csv(path("truth_stars.csv"));
  std::vector<Star> stars;
  for (const auto& c : csv) {
    Star s;
    s.pos = {c.ra, c.dec};
    s.flux = {0.0, c.flux_g, 0.0};
    const auto p = wcs.world_to_pixel(s.pos);
    ASSERT_TRUE(p);
    EXPECT_NEAR(p->x, c.x, 1e-4);
    EXPECT_NEAR(p->y, c.y, 1e-4);
    stars.push_back(s);
  }
  double s2 = 0.0;
  int n = 0;
  // Bright enough that the nebulosity under them does not bias a plain windowed centroid.
  for (const auto& t : isolated_stars(stars, wcs, 2e4, 1e8)) {
    const auto c = centroid([&](int x, int y) { return std::optional<double>(truth.at(1, y, x)); }, truth.width,
                            truth.height, std::round(t.x), std::round(t.y));
    if (!c) continue;
    s2 += std::pow((*c)[0] - t.x, 2) + std::pow((*c)[1] - t.y, 2);
    ++n;
  }
  ASSERT_GE(n, 10);
  EXPECT_LT(std::sqrt(s2 / n), 0.1);
  // No background in the truth: its faint end is the bare sky (zero or nebulosity, never hundreds of ADU).
  std::vector<float> g(truth.plane(1), truth.plane(1) + truth.plane_size());
  std::nth_element(g.begin(), g.begin() + g.size() / 10, g.end());
  EXPECT_LT(g[g.size() / 10], 200.0f);
  EXPECT_GE(g[g.size() / 10], 0.0f);
}

TEST_F(SimDataset, HotPixelsAtTheManifestPositionsInEveryFrame) {
  const auto& hot = (*manifest_)["hot_pixels"];
  ASSERT_GE(hot.size(), 40u);
  for (int fi : {0, 5}) {
    const std::string file = (*manifest_)["frames"][fi]["file"].get<std::string>();
    const ImageF img = FitsImageReader(path(file).string()).read_all();
    int found = 0;
    for (const auto& p : hot) {
      const int x = p["x"].get<int>(), y = p["y"].get<int>();
      // Same-colour neighbours two pixels away.
      std::vector<double> nb;
      for (const auto& [dx, dy] : {std::pair{-2, 0}, {2, 0}, {0, -2}, {0, 2}})
        if (x + dx >= 0 && x + dx < img.width && y + dy >= 0 && y + dy < img.height) nb.push_back(img.at(0, y + dy, x + dx));
      std::sort(nb.begin(), nb.end());
      const double ref = nb[nb.size() / 2];
      const double v = img.at(0, y, x);
      found += (v >= 65535.0 || v - ref > 0.5 * p["adu"].get<double>());
    }
    EXPECT_GE(found, static_cast<int>(hot.size()) - 1) << file;  // a star may hide one
  }
}

TEST_F(SimDataset, CorruptFilesHaveTheirStatedDefects) {
  const auto& corrupt = (*manifest_)["corrupt_files"];
  std::map<std::string, int> kinds;
  for (const auto& c : corrupt) {
    const std::string file = c["file"].get<std::string>();
    const std::string want = c["expected_error"].get<std::string>();
    ASSERT_TRUE(std::filesystem::exists(path(file))) << file;
    ++kinds[want];
    try {
      FitsImageReader r(path(file).string());
      r.read_all(true);
      ADD_FAILURE() << file << " read without error";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(to_string(e.kind())), want) << file << ": " << e.what();
    }
  }
  EXPECT_EQ(kinds.size(), 4u);
  for (const auto& c : corrupt) {
    if (c["expected_error"].get<std::string>() == to_string(InputErrorKind::Empty)) {
      EXPECT_EQ(std::filesystem::file_size(path(c["file"].get<std::string>())), 0u);
    }
  }
}

TEST(SimDatasetDeterminism, SameSeedSameBytesAnyThreadCountOtherSeedOtherBytes) {
  SimConfig c = testutil::small_config(3);
  c.layout.nights = 1;
  c.defects.corrupt = true;
  c.defects.drop_wcs = 1;
  test::TempDir a("simdet_a"), b("simdet_b"), d("simdet_c");
  write_dataset(c, a.path());
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    write_dataset(c, b.path());
  }
  const auto ha = hash_folder(a.path()), hb = hash_folder(b.path());
  EXPECT_EQ(ha, hb);
  EXPECT_GE(ha.size(), 4u + 3u + 4u);
  c.seed = 4;
  write_dataset(c, d.path());
  const auto hd = hash_folder(d.path());
  int differing_frames = 0, frames = 0;
  const auto ma = read_manifest(a.path()), md = read_manifest(d.path());
  for (std::size_t i = 0; i < ma["frames"].size(); ++i) {
    ++frames;
    differing_frames += ha.at(ma["frames"][i]["file"].get<std::string>()) != hd.at(md["frames"][i]["file"].get<std::string>());
  }
  EXPECT_EQ(differing_frames, frames);
  EXPECT_NE(ha.at("truth.fits"), hd.at("truth.fits"));
}

TEST(SimDatasetSky, NightSkyLevelsAndTransparencyShowInFrameMedians) {
  SimConfig c = testutil::small_config(5);
  c.sky.nebula = false;
  c.sky.star_density_per_deg2 = 200.0;
  c.observing.vignetting = 0.0;
  c.defects.trail_fraction = 0.0;
  test::TempDir dir("simsky");
  const DatasetFiles files = write_dataset(c, dir.path());
  const json m = read_manifest(dir.path());
  std::vector<double> ratios;
  for (const auto& fj : m["frames"]) {
    const ImageF img = FitsImageReader((dir.path() / fj["file"].get<std::string>()).string()).read_all();
    std::vector<double> green, red;
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x) {
        const int ch = ((x + y) & 1) == 0 ? 1 : ((y & 1) == 0 ? 0 : 2);
        if (ch == 1) green.push_back(img.at(0, y, x));
        if (ch == 0) red.push_back(img.at(0, y, x));
      }
    std::nth_element(green.begin(), green.begin() + green.size() / 2, green.end());
    std::nth_element(red.begin(), red.begin() + red.size() / 2, red.end());
    const double want_g = fj["sky_at_centre_adu_rgb"][1].get<double>();
    const double want_r = fj["sky_at_centre_adu_rgb"][0].get<double>();
    EXPECT_NEAR(green[green.size() / 2] / want_g, 1.0, 0.01) << fj["file"];
    EXPECT_NEAR(red[red.size() / 2] / want_r, 1.0, 0.01) << fj["file"];
    EXPECT_NEAR(want_g, fj["transparency"].get<double>() * (fj["night"].get<int>() == 0 ? 900.0 : 650.0), 1e-9);
    ratios.push_back(fj["transparency"].get<double>());
  }
  // Transparency really varies between frames.
  EXPECT_GT(*std::max_element(ratios.begin(), ratios.end()) - *std::min_element(ratios.begin(), ratios.end()), 0.02);
}

}  // namespace
}  // namespace zm::sim
