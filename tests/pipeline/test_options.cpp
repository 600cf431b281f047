// Typed options (issue 19): every configuration key has exactly one builder, each stage's resume settings change
// exactly with the keys its options come from, and rules across keys are one rule whichever route reads them.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/option_reader.hpp"
#include "pipeline/options/run_options.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

// The settings hash of every stage, by stage name.
std::map<std::string, std::string> stage_settings(const RunOptions& o) {
  return {{"ingest", o.ingest.settings},         {"cluster", o.cluster.settings},
          {"master_tiles", o.master_tiles.settings}, {"final_grid", o.final_grid.settings},
          {"tile_match", o.tile_match.settings}, {"merge", o.merge.settings},
          {"assembly", o.assembly.settings},     {"global_grid", o.global_grid.settings},
          {"global_coadd", o.global_coadd.settings}, {"sds", o.sds.settings},
          {"grid_mode", o.grid_mode.settings},   {"save", o.save.settings}};
}

// A valid value different from the default (and one that passes the rules across keys with the other defaults).
nlohmann::json changed_value(const ConfigKey& k) {
  static const std::map<std::string_view, nlohmann::json> special = {
      {"sds_max_batch", 10}, {"intertile_gain_limits", std::vector<double>{0.4, 2.5}}, {"memmap_dir", "/tmp"}};
  if (auto it = special.find(k.name); it != special.end()) return it->second;
  switch (k.type) {
    case ConfigType::Bool: return !k.default_value.get<bool>();
    case ConfigType::Int: {
      const long long d = k.default_value.get<long long>();
      return d + 1 <= k.max ? d + 1 : d - 1;
    }
    case ConfigType::Double: {
      const double d = k.default_value.get<double>();
      for (double v : {d * 1.1, d + 0.5, d - 0.5, (d + k.min) / 2.0})
        if (v != d && v >= k.min && v <= k.max) return v;
      return d;
    }
    case ConfigType::String:
      for (auto c : k.choices)
        if (c != k.default_value.get<std::string>()) return std::string(c);
      return k.default_value.get<std::string>() + "_x";
    case ConfigType::DoubleList: return std::vector<double>{1.0, 2.0};
  }
  return nullptr;
}

TEST(Options, EveryKeyIsReadByExactlyOneBuilder) {
  OptionLog log;
  build_run_options(Config(), &log);
  for (const auto& k : config_schema()) {
    const auto it = log.builders_of.find(k.name);
    ASSERT_NE(it, log.builders_of.end()) << k.name << " is read by no options builder";
    EXPECT_EQ(it->second.size(), 1u) << k.name << " is read by " << it->second.size() << " builders";
  }
  EXPECT_EQ(log.builders_of.size(), config_schema().size());
}

TEST(Options, ChangingAKeyChangesExactlyTheSettingsOfTheStagesThatReadIt) {
  const RunOptions base = build_run_options(Config());
  const auto base_settings = stage_settings(base);
  std::map<std::string, std::set<std::string_view>> keys_of;
  for (const auto& s : stage_keys()) keys_of[s.stage].insert(s.keys.begin(), s.keys.end());
  int checked = 0;
  for (const auto& k : config_schema()) {
    Config c;
    c.set(k.name, changed_value(k));
    const auto changed = stage_settings(build_run_options(c));
    for (const auto& [stage, settings] : changed) {
      const bool reads = keys_of.at(stage).count(k.name) > 0;
      EXPECT_EQ(settings != base_settings.at(stage), reads && k.affects_output)
          << k.name << " -> " << changed_value(k).dump() << " in stage " << stage;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(config_schema().size() * base_settings.size()));
}

TEST(Options, EveryKeyThatShapesOutputsBelongsToAStageWithSettings) {
  std::set<std::string_view> staged;
  for (const auto& s : stage_keys())
    if (s.stage != "run") staged.insert(s.keys.begin(), s.keys.end());
  for (const auto& k : config_schema()) {
    if (!k.affects_output || k.name == "sds_mode" || k.name == "mosaic_first") continue;
    EXPECT_TRUE(staged.count(k.name)) << k.name << " changes outputs but keys no stage's resume settings";
  }
}

TEST(Options, InvertedGainLimitsAreOneErrorNamingTheKeyAndTheFile) {
  test::TempDir dir("options");
  const auto path = dir.path() / "cfg.json";
  std::ofstream(path) << R"({"intertile_gain_limits": [2.0, 0.5], "mosaic_first": true})";
  std::vector<std::string> warnings;
  const Config c = Config::load_file(path, warnings);
  try {
    build_run_options(c);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadConfig);
    EXPECT_EQ(e.path(), path.string());
    EXPECT_NE(std::string(e.what()).find("intertile_gain_limits"), std::string::npos) << e.what();
  }
  // The same limits reach the classic harmonisation, the merge and SDS matching: one rule, one value.
  Config ok;
  ok.set("intertile_gain_limits", std::vector<double>{0.7, 1.4});
  const RunOptions o = build_run_options(ok);
  for (const HarmonizeOptions* h : {&o.tile_match.harmonize, &o.merge.tile.photometry, &o.sds.matching}) {
    EXPECT_DOUBLE_EQ(h->gain_min, 0.7);
    EXPECT_DOUBLE_EQ(h->gain_max, 1.4);
  }
}

TEST(Options, RulesAcrossKeysNameTheKey) {
  const std::vector<std::pair<std::string, nlohmann::json>> bad = {
      {"preview_png_p_low", 99.95},       // above preview_png_p_high
      {"output_basename", "../elsewhere"},  // a path, not a file name
      {"aesthetic_fits_suffix", "_science"},  // would overwrite the science FITS
      {"wcs_min_pixel_scale_arcsec", 20.0},  // above the maximum
      {"sds_max_batch", 2}};               // below sds_min_batch
  for (const auto& [key, value] : bad) {
    Config c;
    c.set(key, value, "test.json");
    EXPECT_THROW(
        {
          try {
            build_run_options(c);
          } catch (const InputError& e) {
            EXPECT_EQ(e.kind(), InputErrorKind::BadConfig);
            throw;
          }
        },
        InputError)
        << key;
  }
}

TEST(Options, ReadingOutsideABuilderIsAProgrammingError) {
  Config c;
  OptionReader r(c);
  EXPECT_THROW(r.number("global_coadd_k"), std::logic_error);
  {
    auto b = r.builder("test");
    EXPECT_DOUBLE_EQ(r.number("global_coadd_k"), 2.0);
    EXPECT_THROW(r.number("no_such_key"), std::logic_error);
  }
  EXPECT_EQ(r.keys().size(), 1u);
}

TEST(Options, RuntimeKeysStayOutOfSignatures) {
  Config a, b;
  b.set("parallel_max_cpu_workers", 3);
  b.set("phase5_rows_per_chunk", 64);
  OptionReader ra(a), rb(b);
  {
    auto s1 = ra.builder("x");
    auto s2 = rb.builder("x");
    for (auto* r : {&ra, &rb}) {
      r->integer("parallel_max_cpu_workers");
      r->integer("phase5_rows_per_chunk");
      r->number("phase5_feather_px");
    }
  }
  EXPECT_EQ(ra.signature(), rb.signature());
  b.set("phase5_feather_px", 64.0);
  OptionReader rc(b);
  {
    auto s = rc.builder("x");
    rc.number("phase5_feather_px");
  }
  EXPECT_NE(ra.signature(), rc.signature());
}

}  // namespace
}  // namespace zm
