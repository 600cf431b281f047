// Groups that are one pointing and tiles that hold their members (issue 14), on frames made from analytic WCS.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "io/fits_header.hpp"
#include "pipeline/classic/group_split.hpp"
#include "pipeline/classic/tile_geometry.hpp"
#include "sim/tan_plane.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

constexpr double kScale = 2.0;  // arcsec / px
constexpr int kW = 200, kH = 300;

// A frame centred `dx`, `dy` px (on the sky, along RA and Dec at the equator-ish field) from (150, 30), turned `pa`.
FrameRecord frame(double dx_px, double dy_px, double pa_deg = 0.0) {
  const double dec0 = 30.0;
  const SkyCoord c{150.0 + dx_px * kScale / 3600.0 / std::cos(dec0 * M_PI / 180.0), dec0 + dy_px * kScale / 3600.0};
  const Wcs w = Wcs::make_tan(c, {0.5 * (kW - 1), 0.5 * (kH - 1)}, sim::cd_for_position_angle(kScale, pa_deg), kW, kH);
  FitsHeader h;
  w.write_to_header(h);
  FrameRecord r;
  r.width = kW;
  r.height = kH;
  r.channels = 3;
  r.wcs_cards = h.to_card_string();
  r.centre = c;
  r.position_angle_deg = pa_deg;
  r.scale_arcsec = kScale;
  return r;
}

TEST(TileGeometry, ADitheredMemberGrowsTheTileByItsOffset) {
  const FrameRecord ref = frame(0, 0), other = frame(12, -7);
  const TileGeometry g = tile_geometry(ref, {&ref, &other});
  // The offset in reference pixels (sign by the WCS's axes): the tile is wider and taller by it, no more.
  EXPECT_NEAR(g.width, kW + 12, 1);
  EXPECT_NEAR(g.height, kH + 7, 1);
  EXPECT_TRUE(g.x0 <= 0 && g.x0 >= -13 && g.y0 <= 0 && g.y0 >= -8) << g.x0 << ", " << g.y0;
  const TileGeometry alone = tile_geometry(ref, {&ref});
  EXPECT_EQ(alone.x0, 0);
  EXPECT_EQ(alone.y0, 0);
  EXPECT_EQ(alone.width, kW);
  EXPECT_EQ(alone.height, kH);
}

TEST(TileGeometry, ATurnedMemberIsHeldWhole) {
  const FrameRecord ref = frame(0, 0), turned = frame(0, 0, 70.0);
  const TileGeometry g = tile_geometry(ref, {&ref, &turned});
  // A 200 x 300 frame turned 70 degrees spans 200 cos70 + 300 sin70 = 350 px across and 200 sin70 + 300 cos70 =
  // 291 px up, about the same centre.
  EXPECT_NEAR(g.width, 200 * std::cos(70 * M_PI / 180) + 300 * std::sin(70 * M_PI / 180), 2);
  EXPECT_NEAR(g.height, std::max(300.0, 200 * std::sin(70 * M_PI / 180) + 300 * std::cos(70 * M_PI / 180)), 2);
  EXPECT_NEAR(shared_footprint(turned, ref), shared_footprint(ref, turned), 0.01);  // equal areas
  EXPECT_GT(shared_footprint(turned, ref), 0.5);
}

TEST(GroupSplit, ARowOfSingleFramesBecomesOneGroupEach) {
  std::vector<FrameRecord> frames;
  for (int k = 0; k < 5; ++k) frames.push_back(frame(k * 0.75 * kW, 0));  // 25 % overlap
  std::vector<std::string> notes;
  const auto groups = split_into_pointings({{0, 1, 2, 3, 4}}, frames, notes);
  ASSERT_EQ(groups.size(), 5u);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(groups[k], std::vector<int>{k});
  ASSERT_EQ(notes.size(), 1u);
}

TEST(GroupSplit, OnePointingStaysOneGroupAndEveryFrameIsPlacedOnce) {
  std::vector<FrameRecord> frames;
  for (int k = 0; k < 6; ++k) frames.push_back(frame(std::sin(k) * 8, std::cos(k) * 8));  // dithers
  frames.push_back(frame(0, 0, 70.0));                                                  // another night, turned
  std::vector<std::string> notes;
  const auto same = split_into_pointings({{0, 1, 2, 3, 4, 5, 6}}, frames, notes);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_TRUE(notes.empty());
  // Two pointings chained into one group (0.6 frame apart: they share 40 %): split, nothing lost or doubled.
  for (int k = 0; k < 4; ++k) frames.push_back(frame(0.6 * kW + k * 3, 0));
  const auto two = split_into_pointings({{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, frames, notes);
  ASSERT_EQ(two.size(), 2u);
  std::vector<int> all;
  for (const auto& g : two) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  for (int k = 0; k < 11; ++k) EXPECT_EQ(all[k], k);
  EXPECT_EQ(two[1], (std::vector<int>{7, 8, 9, 10}));
}

}  // namespace
}  // namespace zm
