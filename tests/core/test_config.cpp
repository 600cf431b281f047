#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/config.hpp"
#include "core/error.hpp"
#include "test_support.hpp"

namespace zm {
namespace {

void write_file(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(Config, DefaultsComeFromTheSchema) {
  Config cfg;
  EXPECT_DOUBLE_EQ(cfg.get_double("parallel_target_cpu_load"), 0.9);
  EXPECT_EQ(cfg.get_string("use_gpu"), "auto");
  EXPECT_TRUE(cfg.get_bool("hot_pixel_correction"));
  for (const auto& key : config_schema()) EXPECT_TRUE(cfg.values().contains(std::string(key.name))) << key.name;
}

TEST(Config, SchemaNamesAreUniqueAndDefaultsValid) {
  std::set<std::string_view> seen;
  for (const auto& key : config_schema()) {
    EXPECT_TRUE(seen.insert(key.name).second) << "duplicate key " << key.name;
    Config probe;
    EXPECT_NO_THROW(probe.set(key.name, key.default_value)) << key.name;
  }
}

TEST(Config, UnknownKeysWarnAndKnownKeysApply) {
  test::TempDir dir("cfg");
  write_file(dir / "c.json", R"({"parallel_target_cpu_load": 0.5, "not_a_key": 3})");
  std::vector<std::string> warnings;
  Config cfg = Config::load_file(dir / "c.json", warnings);
  EXPECT_DOUBLE_EQ(cfg.get_double("parallel_target_cpu_load"), 0.5);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("not_a_key"), std::string::npos);
}

TEST(Config, WrongTypeIsAClearError) {
  test::TempDir dir("cfg");
  write_file(dir / "bad.json", R"({"use_gpu": 3})");
  std::vector<std::string> warnings;
  try {
    Config::load_file(dir / "bad.json", warnings);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.kind(), InputErrorKind::BadConfig);
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("use_gpu"), std::string::npos);
  }
}

TEST(Config, ChoicesAndRangesAreEnforced) {
  Config cfg;
  EXPECT_THROW(cfg.set("use_gpu", "sometimes"), InputError);
  EXPECT_THROW(cfg.set("parallel_target_cpu_load", 2.0), InputError);
  EXPECT_THROW(cfg.set("no_such_key", 1), InputError);
  EXPECT_NO_THROW(cfg.set("parallel_max_cpu_workers", 4.0));  // integral float accepted for ints
  EXPECT_EQ(cfg.get_int("parallel_max_cpu_workers"), 4);
  EXPECT_THROW(cfg.set("parallel_max_cpu_workers", 4.5), InputError);
}

TEST(Config, NotJsonIsAClearError) {
  test::TempDir dir("cfg");
  write_file(dir / "x.json", "{ this is not json");
  std::vector<std::string> warnings;
  EXPECT_THROW(Config::load_file(dir / "x.json", warnings), InputError);
  EXPECT_THROW(Config::load_file(dir / "missing.json", warnings), InputError);
}

TEST(Config, HashDependsOnlyOnTheNamedKeys) {
  Config a, b;
  const std::string_view keys[] = {"debayer_method"};
  b.set("parallel_target_cpu_load", 0.5);
  EXPECT_EQ(a.hash_of(keys), b.hash_of(keys));
  b.set("debayer_method", "edge_aware");
  EXPECT_NE(a.hash_of(keys), b.hash_of(keys));
}

}  // namespace
}  // namespace zm
