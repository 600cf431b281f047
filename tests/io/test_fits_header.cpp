#include <gtest/gtest.h>
#include <wcslib/wcs.h>
#include <wcslib/wcshdr.h>

#include <filesystem>

#include "fits_test_util.hpp"
#include "io/fits_header.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

using test::card;

TEST(FitsHeader, ParsesFixedFormatCardsOfEveryType) {
  std::string text = card("SIMPLE  =                    T / conforms") + card("BITPIX  =                  -32") +
                     card("OBJECT  = 'M 94    '           / target") + card("QUOTE   = 'it''s here'") +
                     card("EXPTIME =                 10.5 / seconds") + card("BIG     =              1.0D+02") +
                     card("SMALL   =             -2.5E-03") + card("FLAG    =                    F") +
                     card("HISTORY first step") + card("COMMENT   a comment") + card("COMMENT = not a value") +
                     card("NOVALUE  just words") + card("END") + card("AFTER   =                    1");
  FitsHeader h = FitsHeader::parse_cards(text);
  EXPECT_EQ(h.get_bool("SIMPLE"), true);
  EXPECT_EQ(h.get_int("BITPIX"), -32);
  EXPECT_EQ(h.get_string("OBJECT"), "M 94");
  EXPECT_EQ(h.find("OBJECT")->comment, "target");
  EXPECT_EQ(h.get_string("QUOTE"), "it's here");
  EXPECT_DOUBLE_EQ(*h.get_double("EXPTIME"), 10.5);
  EXPECT_TRUE(std::holds_alternative<double>(h.find("BIG")->value));
  EXPECT_DOUBLE_EQ(*h.get_double("BIG"), 100.0);
  EXPECT_EQ(h.get_int("BIG"), 100);  // integral float converts
  EXPECT_DOUBLE_EQ(*h.get_double("SMALL"), -2.5e-3);
  EXPECT_EQ(h.get_bool("FLAG"), false);
  ASSERT_EQ(h.history().size(), 1u);
  EXPECT_EQ(h.history()[0], "first step");
  ASSERT_EQ(h.comments().size(), 2u);
  EXPECT_EQ(h.comments()[0], "  a comment");
  EXPECT_EQ(h.comments()[1], "= not a value");
  EXPECT_FALSE(h.has("COMMENT"));
  ASSERT_TRUE(h.has("NOVALUE"));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(h.find("NOVALUE")->value));
  EXPECT_FALSE(h.has("AFTER")) << "parsing must stop at END";
}

TEST(FitsHeader, ParsesNewlineSeparatedFreeFormText) {
  FitsHeader h = FitsHeader::parse_cards(
      "CTYPE1 = 'RA---TAN' / first axis\r\nCRVAL1=192.5\nCD1_1 = -6.6D-04 / Fortran\n\n"
      "IMAGEW = 1080\nPLTSOLVD=T\nWARNING=none found\nHISTORY solved by ASTAP\nEND\nLATE = 3\n");
  EXPECT_EQ(h.get_string("CTYPE1"), "RA---TAN");
  EXPECT_EQ(h.find("CTYPE1")->comment, "first axis");
  EXPECT_DOUBLE_EQ(*h.get_double("CRVAL1"), 192.5);
  EXPECT_DOUBLE_EQ(*h.get_double("CD1_1"), -6.6e-4);
  EXPECT_EQ(h.get_int("IMAGEW"), 1080);
  EXPECT_EQ(h.get_bool("PLTSOLVD"), true);
  EXPECT_EQ(h.get_string("WARNING"), "none found");
  ASSERT_EQ(h.history().size(), 1u);
  EXPECT_EQ(h.history()[0], "solved by ASTAP");
  EXPECT_FALSE(h.has("LATE"));
}

TEST(FitsHeader, TypedAccessorsConvertOnlyWhatIsConvertible) {
  FitsHeader h;
  h.set("A", 3LL);
  h.set("B", 2.5);
  h.set("C", std::string("1.5"));
  h.set("D", std::string("seven"));
  h.set("E", true);
  EXPECT_DOUBLE_EQ(*h.get_double("A"), 3.0);
  EXPECT_EQ(h.get_int("B"), std::nullopt);
  EXPECT_DOUBLE_EQ(*h.get_double("C"), 1.5);
  EXPECT_EQ(h.get_double("D"), std::nullopt);
  EXPECT_EQ(h.get_int("D"), std::nullopt);
  EXPECT_EQ(h.get_double("E"), std::nullopt);
  EXPECT_EQ(h.get_bool("E"), true);
  EXPECT_EQ(h.get_double("MISSING"), std::nullopt);
  EXPECT_DOUBLE_EQ(h.get_double_or("MISSING", 7.0), 7.0);
  EXPECT_TRUE(h.has("a")) << "keys are case-insensitive";
}

TEST(FitsHeader, SetKeepsPositionAndRemoveDeletes) {
  FitsHeader h;
  h.set("ONE", 1LL, "first");
  h.set("TWO", 2LL);
  h.set("ONE", 10LL);
  ASSERT_EQ(h.cards().size(), 2u);
  EXPECT_EQ(h.cards()[0].key, "ONE");
  EXPECT_EQ(h.get_int("ONE"), 10);
  EXPECT_EQ(h.cards()[0].comment, "first");
  h.remove("ONE");
  EXPECT_FALSE(h.has("ONE"));
  EXPECT_EQ(h.cards().size(), 1u);
  h.add_history("h1");
  h.add_comment("c1");
  EXPECT_EQ(h.history().size(), 1u);
  EXPECT_EQ(h.comments().size(), 1u);
}

TEST(FitsHeader, CardStringIsEightyColumnCardsThatParseBack) {
  FitsHeader h;
  h.set("STR", std::string("O'Brien"), "a name");
  h.set("PI", 3.141592653589793);
  h.set("TENTH", 0.1);
  h.set("WHOLE", 2.0);
  h.set("TINY", 1.2345678901234567e-300);
  h.set("INT", -42LL);
  h.set("LOGIC", true);
  h.set("UNDEF", std::nan(""));
  h.set("TOOLONGKEY", 1LL);  // not a standard key: skipped
  h.add_history(std::string(100, 'h'));
  h.add_comment("note");
  std::string s = h.to_card_string();
  ASSERT_EQ(s.size() % 80, 0u);
  EXPECT_EQ(s.find("TOOLONGKEY"), std::string::npos);
  EXPECT_EQ(s.substr(0, 80).find("STR     = 'O''Brien'"), 0u);
  FitsHeader back = FitsHeader::parse_cards(s);
  EXPECT_EQ(back.get_string("STR"), "O'Brien");
  EXPECT_EQ(back.find("STR")->comment, "a name");
  EXPECT_EQ(*back.get_double("PI"), 3.141592653589793);
  EXPECT_EQ(*back.get_double("TENTH"), 0.1);
  EXPECT_TRUE(std::holds_alternative<double>(back.find("WHOLE")->value)) << "a float stays a float";
  EXPECT_EQ(*back.get_double("TINY"), 1.2345678901234567e-300);
  EXPECT_EQ(back.get_int("INT"), -42);
  EXPECT_EQ(back.get_bool("LOGIC"), true);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(back.find("UNDEF")->value));
  ASSERT_EQ(back.history().size(), 2u);  // 100 characters: split over two cards
  EXPECT_EQ(back.history()[0] + back.history()[1], std::string(100, 'h'));
  EXPECT_EQ(back.comments(), std::vector<std::string>{"note"});
}

TEST(FitsHeader, LongStringsAreTruncatedOnOneCardAndContinueCardsAreJoined) {
  FitsHeader h;
  h.set("LONG", std::string(100, 'x'));
  std::string s = h.to_card_string();
  EXPECT_EQ(s.size(), 80u);
  EXPECT_EQ(s[79], '\'');
  std::string cont = card("LONG    = 'abc&'") + card("CONTINUE  'def&'") + card("CONTINUE  'ghi'") + card("END");
  EXPECT_EQ(FitsHeader::parse_cards(cont).get_string("LONG"), "abcdefghi");
}

TEST(FitsHeader, StructuralKeys) {
  for (const char* k : {"SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS3", "NAXIS999", "EXTEND", "PCOUNT", "GCOUNT",
                        "XTENSION", "END", "BZERO", "BSCALE", "CHECKSUM", "DATASUM", "EXTNAME", "BLANK"})
    EXPECT_TRUE(is_structural_key(k)) << k;
  for (const char* k : {"CRVAL1", "NAXISX", "OBJECT", "HISTORY", "BAYERPAT", "EXPTIME"})
    EXPECT_FALSE(is_structural_key(k)) << k;
}

TEST(FitsHeader, CardStringIsAcceptedByWcslib) {
  FitsHeader h;
  h.set("NAXIS", 2LL);
  h.set("CTYPE1", std::string("RA---TAN"));
  h.set("CTYPE2", std::string("DEC--TAN"));
  h.set("CRVAL1", 192.73009043);
  h.set("CRVAL2", 41.1439108228);
  h.set("CRPIX1", 595.46257782);
  h.set("CRPIX2", 920.696166992);
  h.set("CD1_1", -0.000659870810533);
  h.set("CD2_2", -0.000659553776177);
  std::string cards = h.to_card_string();
  int nreject = 0, nwcs = 0;
  wcsprm* wcs = nullptr;
  ASSERT_EQ(wcspih(cards.data(), static_cast<int>(cards.size() / 80), WCSHDR_all, 0, &nreject, &nwcs, &wcs), 0);
  ASSERT_EQ(nwcs, 1);
  EXPECT_EQ(nreject, 0);
  EXPECT_EQ(wcs[0].crval[0], 192.73009043);
  EXPECT_EQ(wcs[0].crpix[1], 920.696166992);
  EXPECT_EQ(wcs[0].cd[0], -0.000659870810533);
  wcsvfree(&nwcs, &wcs);
}

TEST(FitsHeader, ParsesRealAstrometryNetSidecar) {
  auto data = test::shared_data_dir();
  if (!data) GTEST_SKIP() << "shared data folder absent";
  std::filesystem::path dir = *data / "real/seestar_m94/wcs";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no Seestar sidecars in " << dir;
  std::filesystem::path wcs_file;
  for (const auto& p : test::files_in(dir))
    if (p.extension() == ".wcs") {
      wcs_file = p;
      break;
    }
  if (wcs_file.empty()) GTEST_SKIP() << "no .wcs file in " << dir;
  FitsHeader h = FitsHeader::parse_cards(test::read_bytes(wcs_file));
  EXPECT_EQ(h.get_string("CTYPE1"), "RA---TAN-SIP");
  EXPECT_EQ(h.get_int("IMAGEW"), 1080);
  EXPECT_EQ(h.get_int("IMAGEH"), 1920);
  EXPECT_EQ(h.get_int("A_ORDER"), 2);
  EXPECT_NEAR(*h.get_double("CRVAL1"), 192.8, 0.5);
  EXPECT_LT(*h.get_double("CD1_1"), 0.0);
  // Re-emitted, the header still describes the same celestial WCS to wcslib.
  std::string cards = h.to_card_string();
  int nreject = 0, nwcs = 0;
  wcsprm* wcs = nullptr;
  ASSERT_EQ(wcspih(cards.data(), static_cast<int>(cards.size() / 80), WCSHDR_all, 0, &nreject, &nwcs, &wcs), 0);
  ASSERT_GE(nwcs, 1);
  EXPECT_EQ(wcs[0].crval[0], *h.get_double("CRVAL1"));
  EXPECT_EQ(wcs[0].crval[1], *h.get_double("CRVAL2"));
  wcsvfree(&nwcs, &wcs);
}

}  // namespace
}  // namespace zm
