// Pattern names, header lookup and the site-colour map.
#include <gtest/gtest.h>

#include "image/debayer.hpp"

namespace zm {
namespace {

TEST(BayerPattern, ParsesAllNamesCaseInsensitiveAndTrimmed) {
  EXPECT_EQ(parse_bayer_pattern("RGGB"), BayerPattern::RGGB);
  EXPECT_EQ(parse_bayer_pattern("bggr"), BayerPattern::BGGR);
  EXPECT_EQ(parse_bayer_pattern("  GrBg "), BayerPattern::GRBG);
  EXPECT_EQ(parse_bayer_pattern("gbrg\t"), BayerPattern::GBRG);
  EXPECT_FALSE(parse_bayer_pattern("RGB").has_value());
  EXPECT_FALSE(parse_bayer_pattern("").has_value());
  EXPECT_FALSE(parse_bayer_pattern("RGGBX").has_value());
  for (BayerPattern p : {BayerPattern::RGGB, BayerPattern::BGGR, BayerPattern::GRBG, BayerPattern::GBRG}) {
    EXPECT_EQ(parse_bayer_pattern(to_string(p)), p);
  }
}

TEST(BayerPattern, FromHeaderPrefersBayerpatThenCfaimage) {
  FitsHeader h;
  EXPECT_EQ(bayer_pattern_from_header(h), BayerPattern::GRBG);  // Seestar default
  h.set("CFAIMAGE", std::string("RGGB"));
  EXPECT_EQ(bayer_pattern_from_header(h), BayerPattern::RGGB);
  h.set("BAYERPAT", std::string("bggr "));
  EXPECT_EQ(bayer_pattern_from_header(h), BayerPattern::BGGR);
  h.set("BAYERPAT", std::string("XYZW"));  // present but unusable: GRBG, not CFAIMAGE
  EXPECT_EQ(bayer_pattern_from_header(h), BayerPattern::GRBG);
  h.set("BAYERPAT", std::string("   "));  // blank carries nothing: CFAIMAGE decides
  EXPECT_EQ(bayer_pattern_from_header(h), BayerPattern::RGGB);
  FitsHeader numeric;
  numeric.set("BAYERPAT", 42LL);
  EXPECT_EQ(bayer_pattern_from_header(numeric), BayerPattern::GRBG);
}

TEST(BayerPattern, CfaChannelMatchesTheNameAtTheOrigin) {
  // Name = colours of (x,y) = (0,0), (1,0), (0,1), (1,1); 0=R 1=G 2=B; the cell repeats with period 2.
  struct Case {
    BayerPattern p;
    int c00, c10, c01, c11;
  };
  for (const Case& k : {Case{BayerPattern::RGGB, 0, 1, 1, 2}, Case{BayerPattern::BGGR, 2, 1, 1, 0},
                        Case{BayerPattern::GRBG, 1, 0, 2, 1}, Case{BayerPattern::GBRG, 1, 2, 0, 1}}) {
    for (int oy = -4; oy <= 4; oy += 2) {
      for (int ox = -4; ox <= 4; ox += 2) {
        EXPECT_EQ(cfa_channel(k.p, ox + 0, oy + 0), k.c00);
        EXPECT_EQ(cfa_channel(k.p, ox + 1, oy + 0), k.c10);
        EXPECT_EQ(cfa_channel(k.p, ox + 0, oy + 1), k.c01);
        EXPECT_EQ(cfa_channel(k.p, ox + 1, oy + 1), k.c11);
      }
    }
  }
}

TEST(DebayerMethodName, Parses) {
  EXPECT_EQ(parse_debayer_method("bilinear"), DebayerMethod::Bilinear);
  EXPECT_EQ(parse_debayer_method(" Edge_Aware"), DebayerMethod::EdgeAware);
  EXPECT_EQ(parse_debayer_method("edge-aware"), DebayerMethod::EdgeAware);
  EXPECT_FALSE(parse_debayer_method("vng").has_value());
}

}  // namespace
}  // namespace zm
