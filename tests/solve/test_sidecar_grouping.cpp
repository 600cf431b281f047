// Sidecar parsing (astrometry.net .wcs, ASTAP .ini), header hints and solve grouping.
#include <gtest/gtest.h>

#include <fstream>

#include "solve/absolute_solver.hpp"
#include "solve/grouping.hpp"
#include "solve/sidecar.hpp"
#include "solve/solve_hint.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

namespace fs = std::filesystem;

TEST(Sidecar, AstrometryNetBlockAndAstapIni) {
  test::TempDir tmp("sidecar");
  std::string block;
  for (const char* c : {"SIMPLE  =                    T", "CTYPE1  = 'RA---TAN'", "CTYPE2  = 'DEC--TAN'",
                        "CRVAL1  =                 10.5", "CRVAL2  =                 20.5", "END"}) {
    std::string card(c);
    card.resize(80, ' ');
    block += card;
  }
  block.resize(2880, ' ');
  { std::ofstream(tmp / "a.wcs", std::ios::binary) << block; }
  auto h = read_wcs_sidecar(tmp / "a.wcs");
  ASSERT_TRUE(h);
  EXPECT_DOUBLE_EQ(*h->get_double("CRVAL1"), 10.5);
  { std::ofstream(tmp / "b.ini") << "CRVAL1=11.25\nCRVAL2=-5.5\nCD1_1=-0.0006\nCD1_2=0\nCD2_1=0\nCD2_2=0.0006\n"; }
  auto ini = read_wcs_sidecar(tmp / "b.ini");
  ASSERT_TRUE(ini);
  EXPECT_EQ(ini->get_string("CTYPE1").value_or(""), "RA---TAN");
  EXPECT_DOUBLE_EQ(*ini->get_double("CRVAL2"), -5.5);
  { std::ofstream(tmp / "c.wcs") << "not a header"; }
  EXPECT_FALSE(read_wcs_sidecar(tmp / "c.wcs"));

  fs::create_directories(tmp / "side");
  { std::ofstream(tmp / "side" / "frame.ini") << "x"; }
  { std::ofstream(tmp / "frame.wcs") << "x"; }
  const auto c = sidecar_candidates(tmp / "frame.fit", tmp / "side");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0], tmp / "frame.wcs");
  EXPECT_EQ(c[1], tmp / "side" / "frame.ini");
}

TEST(SolveHint, SeestarHeader) {
  FitsHeader h;
  h.set("RA", 193.05);
  h.set("DEC", 41.1);
  h.set("FOCALLEN", 250.0);
  h.set("XPIXSZ", 2.9);
  const SolveHint s = solve_hint_from_header(h);
  ASSERT_TRUE(s.ra_deg && s.dec_deg && s.scale_arcsec);
  EXPECT_NEAR(*s.scale_arcsec, 2.3927, 1e-3);
  FitsHeader g;
  g.set("OBJCTRA", std::string("12 50 53.1"));
  g.set("OBJCTDEC", std::string("-41 07 12"));
  const SolveHint t = solve_hint_from_header(g);
  ASSERT_TRUE(t.ra_deg && t.dec_deg);
  EXPECT_NEAR(*t.ra_deg, 192.72125, 1e-5);
  EXPECT_NEAR(*t.dec_deg, -41.12, 1e-5);
  EXPECT_FALSE(t.scale_arcsec);
}

TEST(Grouping, ByPositionAndTime) {
  std::vector<SolveGroupItem> items = {
      {SkyCoord{193.0, 41.0}, 1000.0}, {SkyCoord{193.01, 41.0}, 1100.0}, {SkyCoord{150.0, 30.0}, 1200.0},
      {SkyCoord{193.0, 41.0}, 20000.0}, {std::nullopt, 1000.0}, {SkyCoord{193.02, 41.0}, 1300.0}};
  const auto g = group_for_solving(items, 1.0, 3600.0);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(g[0], (std::vector<int>{0, 1, 5}));
  EXPECT_EQ(g[1], (std::vector<int>{2}));
  EXPECT_EQ(g[2], (std::vector<int>{3}));
  EXPECT_EQ(g[3], (std::vector<int>{4}));
}

TEST(SolverFactory, NoneAndMissingGiveReasons) {
  std::string why;
  SolverSettings s;
  s.kind = "none";
  EXPECT_EQ(make_absolute_solver(s, why), nullptr);
  EXPECT_TRUE(why.empty());
  s.kind = "astap";
  s.astap_path = "/nonexistent/astap";
  if (!solver_detail::find_program("astap_cli") && !solver_detail::find_program("astap")) {
    EXPECT_EQ(make_absolute_solver(s, why), nullptr);
    EXPECT_NE(why.find("ASTAP"), std::string::npos);
  }
}

}  // namespace
}  // namespace zm
