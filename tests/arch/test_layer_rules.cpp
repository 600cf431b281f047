// Layer rules: which parts of the source tree may #include what, checked on every file of src/, tests/ and bench/.
//
// To add a rule, add a row to kRules: the files it governs, the files it exempts (globs on the path relative to the
// source root, separated by spaces; "*" stays inside one folder, "**" crosses folders), the #include targets it
// forbids (an ECMAScript regex on the text between <> or ""), and why (printed with every violation).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;

struct LayerRule {
  std::string_view files;
  std::string_view except;
  std::string_view forbidden;
  std::string_view why;
};

constexpr LayerRule kRules[] = {
    {"**", "src/io/** tests/io/**", R"(^(fitsio|fitsio2|longnam)\.h$)",
     "cfitsio is private to io: read and write FITS through io/ (fits_reader.hpp, fits_writer.hpp, "
     "fits_stream_writer.hpp); only io's own tests may build malformed files with raw cfitsio"},
    {"**", "src/io/**", R"(^io/detail/)", "io/detail/ is io's private implementation (cfitsio handles and calls)"},
    {"src/pipeline/classic/**", "", R"(^pipeline/routes/)",
     "the classic route and the frame routes meet only in the shared model (pipeline/model/) and the top level"},
    {"src/pipeline/routes/**", "", R"(^pipeline/classic/)",
     "the frame routes and the classic route meet only in the shared model (pipeline/model/) and the top level"},
    {"src/pipeline/model/**", "", R"(^pipeline/(?!model/|pipeline_events\.hpp|run_errors\.hpp))",
     "the model is what the stages share: it depends on no stage"},
    {"src/core/** src/io/** src/wcs/** src/image/** src/gpu/** src/plan/** src/sched/** src/events/** src/stars/** "
     "src/stack/** src/reproject/** src/photometry/** src/solve/** src/sim/**", "",
     R"(^pipeline/)", "the layers below the pipeline know nothing of its phases"},
};

// Code rules: a regex on every line of code (comments stripped) of the files a rule governs.
constexpr LayerRule kCodeRules[] = {
    {"src/** bench/**", "src/core/** src/pipeline/options/** src/plan/plan_settings.cpp",
     R"(\b(config|cfg|config_)\s*(\.|->)\s*get_(bool|int|double|string|double_list)\s*\()",
     "configuration keys are read by name only in the options builders (pipeline/options/build_options.cpp, "
     "plan/plan_settings.cpp): phases take typed options"},
    {"src/**", "src/core/** src/pipeline/options/** src/plan/plan_settings.*", R"(\bOptionReader\b)",
     "an OptionReader is used by options builders only"},
    {"src/**", "src/sched/**", R"(\btbb::task_arena\b)",
     "parallel work is capped through sched/worker_arena.hpp (WorkerArena), not ad-hoc arenas"},
};

// The top-level folders scanned and the file types read.
constexpr std::string_view kScannedFolders[] = {"src", "tests", "bench"};
constexpr std::string_view kSourceExtensions[] = {".cpp", ".hpp", ".h", ".cc", ".c", ".cu", ".cuh", ".inl"};

// Glob match of a whole '/'-separated path: "**" matches any characters, "*" and "?" any but '/'.
bool glob_match(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return path.empty();
  if (pattern.substr(0, 2) == "**") {
    std::string_view rest = pattern.substr(2);
    for (std::size_t i = 0; i <= path.size(); ++i)
      if (glob_match(rest, path.substr(i))) return true;
    return false;
  }
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= path.size(); ++i) {
      if (glob_match(pattern.substr(1), path.substr(i))) return true;
      if (i < path.size() && path[i] == '/') break;
    }
    return false;
  }
  if (path.empty()) return false;
  if (pattern.front() == '?' ? path.front() == '/' : pattern.front() != path.front()) return false;
  return glob_match(pattern.substr(1), path.substr(1));
}

// True when any of the space-separated globs matches.
bool any_glob_matches(std::string_view globs, std::string_view path) {
  std::istringstream in{std::string(globs)};
  std::string g;
  while (in >> g)
    if (glob_match(g, path)) return true;
  return false;
}

bool governs(const LayerRule& rule, std::string_view path) {
  return any_glob_matches(rule.files, path) && !any_glob_matches(rule.except, path);
}

struct Scan {
  std::vector<std::string> files;       // relative paths, sorted
  std::vector<std::string> violations;  // "path:line: #include <x>: why"
};

// Every #include of every source file under `root`'s scanned folders, checked against `rules`.
Scan scan_tree(const fs::path& root, const std::vector<LayerRule>& rules,
               const std::vector<LayerRule>& code_rules = {}) {
  static const std::regex include_re(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  Scan scan;
  for (std::string_view top : kScannedFolders) {
    const fs::path dir = root / top;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      const std::string ext = entry.path().extension().string();
      if (std::find(std::begin(kSourceExtensions), std::end(kSourceExtensions), ext) == std::end(kSourceExtensions))
        continue;
      scan.files.push_back(entry.path().lexically_relative(root).generic_string());
    }
  }
  std::sort(scan.files.begin(), scan.files.end());
  std::vector<std::regex> forbidden, code_forbidden;
  for (const LayerRule& r : rules) forbidden.emplace_back(std::string(r.forbidden));
  for (const LayerRule& r : code_rules) code_forbidden.emplace_back(std::string(r.forbidden));
  for (const std::string& rel : scan.files) {
    std::ifstream in(root / rel);
    std::string line;
    std::smatch m;
    for (int n = 1; std::getline(in, line); ++n) {
      const std::string code = line.substr(0, line.find("//"));
      for (std::size_t k = 0; k < code_rules.size(); ++k)
        if (governs(code_rules[k], rel) && std::regex_search(code, code_forbidden[k]))
          scan.violations.push_back(rel + ":" + std::to_string(n) + ": " + code + ": " + std::string(code_rules[k].why));
      if (!std::regex_search(line, m, include_re)) continue;
      const std::string target = m[1];
      for (std::size_t k = 0; k < rules.size(); ++k)
        if (governs(rules[k], rel) && std::regex_search(target, forbidden[k]))
          scan.violations.push_back(rel + ":" + std::to_string(n) + ": #include " + target + ": " +
                                    std::string(rules[k].why));
    }
  }
  return scan;
}

std::vector<LayerRule> all_rules() { return {std::begin(kRules), std::end(kRules)}; }
std::vector<LayerRule> all_code_rules() { return {std::begin(kCodeRules), std::end(kCodeRules)}; }

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

TEST(LayerRules, GlobMatching) {
  EXPECT_TRUE(glob_match("src/**", "src/io/detail/x.hpp"));
  EXPECT_TRUE(glob_match("**", "bench/b.cpp"));
  EXPECT_TRUE(glob_match("src/*/x.cpp", "src/io/x.cpp"));
  EXPECT_FALSE(glob_match("src/*/x.cpp", "src/io/detail/x.cpp"));
  EXPECT_TRUE(glob_match("src/pipeline/phase?/**", "src/pipeline/phase5/a.cpp"));
  EXPECT_TRUE(glob_match("src/**/*.hpp", "src/io/detail/a.hpp"));
  EXPECT_FALSE(glob_match("src/io/**", "src/iox/a.cpp"));
  EXPECT_FALSE(glob_match("src/io/**", "tests/io/a.cpp"));
  EXPECT_TRUE(any_glob_matches("src/io/** tests/io/**", "tests/io/a.cpp"));
}

TEST(LayerRules, ViolationsInAFixtureTreeAreFoundWithTheirLine) {
  zm::test::TempDir dir("arch");
  const fs::path& root = dir.path();
  write_file(root / "src/io/fits_reader.cpp", "#include <fitsio.h>\n#include \"io/detail/cfitsio_handle.hpp\"\n");
  write_file(root / "src/reproject/coadd_io.cpp", "// reads tiles\n#include <vector>\n  #  include <fitsio.h>\n");
  write_file(root / "tests/io/test_bad.cpp", "#include <fitsio.h>\n");
  write_file(root / "tests/solve/test_x.cpp", "#include \"io/detail/fits_hdu_write.hpp\"\n");
  write_file(root / "src/solve/notes.txt", "#include <fitsio.h>\n");
  const Scan scan = scan_tree(root, all_rules());
  EXPECT_EQ(scan.files.size(), 4u);
  ASSERT_EQ(scan.violations.size(), 2u);
  EXPECT_EQ(scan.violations[0].rfind("src/reproject/coadd_io.cpp:3: #include fitsio.h: cfitsio is private", 0), 0u)
      << scan.violations[0];
  EXPECT_EQ(scan.violations[1].rfind("tests/solve/test_x.cpp:1: #include io/detail/fits_hdu_write.hpp: ", 0), 0u)
      << scan.violations[1];
}

TEST(LayerRules, CodeRulesFindConfigReadsOutsideTheBuilders) {
  zm::test::TempDir dir("arch_code");
  const fs::path& root = dir.path();
  write_file(root / "src/pipeline/classic/phase3.cpp",
             "// cfg.get_int(\"x\") in a comment is fine\n  const int n = ctx.config.get_int(\"stack_max_iterations\");\n");
  write_file(root / "src/pipeline/options/build_options.cpp", "o.k = cfg.get_double(\"global_coadd_k\");\n");
  write_file(root / "src/pipeline/classic/x.cpp", "#include \"pipeline/routes/sds/sds_route.hpp\"\n");
  const Scan scan = scan_tree(root, all_rules(), all_code_rules());
  ASSERT_EQ(scan.violations.size(), 2u);
  EXPECT_EQ(scan.violations[0].rfind("src/pipeline/classic/phase3.cpp:2: ", 0), 0u) << scan.violations[0];
  EXPECT_EQ(scan.violations[1].rfind("src/pipeline/classic/x.cpp:1: #include pipeline/routes/", 0), 0u)
      << scan.violations[1];
}

TEST(LayerRules, SourceTreeObeysEveryRule) {
  const fs::path root = ZM_SOURCE_DIR;
  const Scan scan = scan_tree(root, all_rules(), all_code_rules());
  ASSERT_GT(scan.files.size(), 100u) << "scanned " << root << ": is ZM_SOURCE_DIR the source root?";
  std::vector<LayerRule> every = all_rules();
  for (const LayerRule& r : kCodeRules) every.push_back(r);
  for (const LayerRule& rule : every) {
    const bool any =
        std::any_of(scan.files.begin(), scan.files.end(), [&](const std::string& f) { return governs(rule, f); });
    EXPECT_TRUE(any) << "rule '" << rule.files << "' governs no file: a typo in its glob?";
  }
  for (const std::string& v : scan.violations) ADD_FAILURE() << v;
}

}  // namespace
