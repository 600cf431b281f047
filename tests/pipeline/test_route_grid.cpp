// Grid mode (stack_plan.csv): CSV parsing cases, and the route on the simulated 2x2 x 2-night dataset against the
// simulator's truth (frames used, per-tile gains, star positions, determinism, resume).
#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include "core/error.hpp"
#include "photometry/flux_ratio.hpp"
#include "pipeline/routes/global_grid.hpp"
#include "pipeline/routes/grid/grid_route.hpp"
#include "pipeline/routes/mosaic_first.hpp"
#include "test_route_fixture.hpp"

namespace zm::route_test {
namespace {

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// ---- CSV ----

class StackPlanCsv : public ::testing::Test {
 protected:
  test::TempDir dir{"stack_plan"};
  void SetUp() override {
    for (const char* n : {"a.fits", "b.fits", "c.fit", "d e.fits"}) write_file(dir.path() / n, "x");
    write_file(dir.path() / "sub" / "s.fits", "x");
  }
  StackPlan parse(const std::string& text) { return parse_stack_plan(text, dir.path()); }
  std::vector<std::string> names(const StackPlan& p) {
    std::vector<std::string> out;
    for (const auto& r : p.rows) out.push_back(r.path.filename().string());
    return out;
  }
};

TEST_F(StackPlanCsv, CommaSemicolonAndTabAreSniffed) {
  const auto comma = parse("file_path,exposure\na.fits,10\nb.fits,20\n");
  EXPECT_EQ(comma.delimiter, ',');
  EXPECT_EQ(names(comma), (std::vector<std::string>{"a.fits", "b.fits"}));
  ASSERT_TRUE(comma.rows[1].exposure_s.has_value());
  EXPECT_DOUBLE_EQ(*comma.rows[1].exposure_s, 20.0);
  const auto semi = parse("Night;FILE;Exp\n1;a.fits;10,5\n2;c.fit;3\n");  // decimal comma in a semicolon file
  EXPECT_EQ(semi.delimiter, ';');
  EXPECT_EQ(semi.path_column, "FILE");
  EXPECT_EQ(names(semi), (std::vector<std::string>{"a.fits", "c.fit"}));
  EXPECT_EQ(semi.rows[0].batch, "1");
  EXPECT_FALSE(semi.rows[0].exposure_s.has_value()) << "10,5 is not a number: the frame's EXPTIME is used";
  const auto tab = parse("path\texptime\r\nb.fits\t4\r\n");
  EXPECT_EQ(tab.delimiter, '\t');
  EXPECT_EQ(names(tab), (std::vector<std::string>{"b.fits"}));
}

TEST_F(StackPlanCsv, QuotedFieldsCommentsAndBlankLines) {
  const auto p = parse("\xEF\xBB\xBF# exported by a spreadsheet\n\"file\",\"note\"\n\n\"d e.fits\",\"has, a comma\"\n"
                       "  # a comment\n\"a.fits\",\"say \"\"hi\"\"\nover two lines\"\n");
  EXPECT_EQ(names(p), (std::vector<std::string>{"d e.fits", "a.fits"}));
  EXPECT_EQ(p.rows[0].line, 4);
  EXPECT_EQ(p.rows[1].line, 6);
  EXPECT_TRUE(p.skipped.empty());
  EXPECT_THROW(parse("file\n\"a.fits\n"), InputError) << "unterminated quote";
}

TEST_F(StackPlanCsv, PathColumnByNameElseFirstColumn) {
  const auto named = parse("id,notes,RAW\n1,x,b.fits\n");
  EXPECT_EQ(names(named), (std::vector<std::string>{"b.fits"}));
  const auto first = parse("frame,quality\nc.fit,good\n");
  EXPECT_EQ(first.path_column, "frame");
  EXPECT_EQ(names(first), (std::vector<std::string>{"c.fit"}));
  const auto headerless = parse("a.fits\nb.fits\n");
  EXPECT_EQ(names(headerless), (std::vector<std::string>{"a.fits", "b.fits"}));
}

TEST_F(StackPlanCsv, WindowsAndForeignAbsolutePathsAreReResolvedByName) {
  const auto p = parse("file_path\nC:\\Users\\me\\Seestar\\a.fits\n\\\\nas\\share\\b.fits\n/mnt/elsewhere/c.fit\n"
                       "sub\\s.fits\n" + (dir.path() / "sub" / "s.fits").string() + "\n");
  EXPECT_EQ(names(p), (std::vector<std::string>{"a.fits", "b.fits", "c.fit", "s.fits"}));
  EXPECT_EQ(p.rows[0].path, (dir.path() / "a.fits").lexically_normal());
  EXPECT_EQ(p.rows[3].path, (dir.path() / "sub" / "s.fits").lexically_normal());
  ASSERT_EQ(p.skipped.size(), 1u) << "the absolute path of s.fits repeats the relative one";
  EXPECT_EQ(p.skipped[0].line, 6);
}

TEST_F(StackPlanCsv, MissingFileRowIsSkippedAndReported) {
  write_file(dir.path() / "stack_plan.csv", "file,exp\na.fits,1\nC:\\x\\gone.fits,2\nb.fits,3\n");
  EXPECT_TRUE(has_stack_plan(dir.path()));
  const StackPlan p = load_stack_plan(*find_stack_plan(dir.path()));
  EXPECT_EQ(names(p), (std::vector<std::string>{"a.fits", "b.fits"}));
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].line, 3);
  EXPECT_EQ(p.skipped[0].written_path, "C:\\x\\gone.fits");

  struct Sink : EventSink {
    std::vector<Event> got;
    void on_event(const Event& e) override { got.push_back(e); }
  };
  EventStream events;
  auto sink = std::make_shared<Sink>();
  events.add_sink(sink);
  report_stack_plan(events, p);
  int set_aside = 0;
  for (const auto& e : sink->got)
    if (e.key == "INPUT_SET_ASIDE") {
      ++set_aside;
      EXPECT_EQ(e.level, EventLevel::Warn);
      EXPECT_EQ(e.fields.at("row"), 3);
      EXPECT_EQ(e.fields.at("kind"), "not_found");
      EXPECT_NE(e.fields.at("reason").get<std::string>().find("gone.fits"), std::string::npos);
    }
  EXPECT_EQ(set_aside, 1);
  EXPECT_FALSE(has_stack_plan(dir.path() / "sub"));
}

TEST_F(StackPlanCsv, OrderColumnSortsStablyBlanksLast) {
  const auto p = parse("file,order\na.fits,3\nb.fits,\nc.fit,1\nd e.fits,3\nsub/s.fits,-2\n");
  EXPECT_EQ(names(p), (std::vector<std::string>{"s.fits", "c.fit", "a.fits", "d e.fits", "b.fits"}));
  const auto no_order = parse("file\nc.fit\na.fits\n");
  EXPECT_EQ(names(no_order), (std::vector<std::string>{"c.fit", "a.fits"})) << "file order without an order column";
}

// ---- the route ----

struct GridRun {
  GridRunResult result;
  ImageF image, coverage;
  std::vector<Event> events;
};

struct Collect : EventSink {
  std::mutex m;
  std::vector<Event> got;
  void on_event(const Event& e) override {
    std::lock_guard lock(m);
    got.push_back(e);
  }
};

const std::map<std::string, nlohmann::json> kGridConfig = {{"grid_size_factor", 1.0}, {"batch_overlap_pct", 40.0}};

// A plan folder listing every frame but the last (absolute paths, plus a row naming a missing file).
fs::path plan_folder() {
  Dataset& d = Dataset::get();
  const fs::path dir = d.dir.path() / "plan";
  if (!fs::exists(dir / "stack_plan.csv")) {
    std::string csv = "# grid test\nfile_path;exposure;night\n";
    for (std::size_t k = 0; k + 1 < d.frames.size(); ++k) csv += "\"" + d.frames[k].path + "\";;1\n";
    csv += "D:\\astro\\not_here.fits;10;2\n";
    write_file(dir / "stack_plan.csv", csv);
  }
  return dir;
}

GridRun run_route(const fs::path& out, int workers) {
  Dataset& d = Dataset::get();
  Ctx c(plan_folder(), out, d.cache(), workers, kGridConfig);
  auto sink = std::make_shared<Collect>();
  c.events.add_sink(sink);
  GridRun r{run_grid_route(c.ctx, c.ctx.options), {}, {}, {}};
  const MosaicArtifacts& a = r.result.mosaic;
  r.image = read_planes(a.image, a.width, a.height, a.channels);
  r.coverage = read_planes(a.coverage, a.width, a.height, 1);
  r.events = sink->got;
  return r;
}

class GridMode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { run_ = new GridRun(run_route(Dataset::get().out(), 2)); }
  static void TearDownTestSuite() { delete run_; }
  static GridRun* run_;
};
GridRun* GridMode::run_ = nullptr;

TEST_F(GridMode, ListedFramesAreUsedAndTheUnlistedOneIsNot) {
  const Dataset& d = Dataset::get();
  const auto& r = run_->result;
  ASSERT_EQ(r.ingest.frames.size(), d.frames.size() - 1);
  EXPECT_EQ(r.stats.frames_used.size(), d.frames.size() - 1);
  for (const auto& f : r.ingest.frames) EXPECT_NE(f.path, d.frames.back().path);
  EXPECT_EQ(r.summary.route, Route::grid);
  EXPECT_EQ(r.summary.frames_used, static_cast<int>(d.frames.size()) - 1);
  ASSERT_EQ(r.plan.skipped.size(), 1u);
  int missing = 0, plan_summaries = 0;
  for (const auto& e : run_->events) {
    if (e.key == "INPUT_SET_ASIDE" && e.fields.value("kind", "") == "not_found") {
      ++missing;
      EXPECT_EQ(e.fields.at("row"), static_cast<int>(d.frames.size()) + 2);
    }
    if (e.key == "parallel_plan_summary" && e.fields.value("kind", "") == "grid_mode") ++plan_summaries;
  }
  EXPECT_EQ(missing, 1);
  EXPECT_EQ(plan_summaries, 1);
  // Every pixel of the unlisted frame's own pointing is still covered, by one frame fewer somewhere.
  const float peak = *std::max_element(run_->coverage.data.begin(), run_->coverage.data.end());
  EXPECT_GE(peak, 6.0f);
}

TEST_F(GridMode, RegularOverlappingTilesWrittenAsFits) {
  const GridLayout& L = run_->result.stats.layout;
  EXPECT_GE(L.tiles.size(), 4u);
  EXPECT_EQ(L.tile_side, static_cast<int>(std::lround(L.frame_side_px)));
  EXPECT_NEAR(L.step, 0.6 * L.tile_side, 1.0);
  for (const auto& t : run_->result.stats.tile_infos) {
    const FitsImageInfo info = read_fits_info(t.path);
    EXPECT_EQ(info.width, t.width);
    EXPECT_EQ(info.channels, 3);
    EXPECT_EQ(info.header.get_string("ZMT_TYPE").value_or(""), "Grid Tile");
    // The tile's WCS is the global grid shifted by the tile's origin.
    Wcs tw = Wcs::from_header(info.header, t.path, info.width, info.height);
    Wcs gw = run_->result.grid.wcs;
    const auto gx = info.header.get_int("ZMT_GRDX").value_or(-1), gy = info.header.get_int("ZMT_GRDY").value_or(-1);
    const auto p = gw.world_to_pixel(tw.pixel_to_world({10.0, 20.0}));
    ASSERT_TRUE(p.has_value());
    EXPECT_NEAR(p->x, 10.0 + gx, 1e-6);
    EXPECT_NEAR(p->y, 20.0 + gy, 1e-6);
  }
}

// The interior (2/3 of each side) of tile t, as a grid-sized mask, where both images are finite in every channel.
std::vector<std::uint8_t> interior_mask(const GridTile& t, const ImageF& a, const ImageF& b) {
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(a.width) * a.height, 0);
  const int mx = t.rect.cols / 6, my = t.rect.rows / 6;
  for (int y = t.rect.y0 + my; y < t.rect.y0 + t.rect.rows - my; ++y)
    for (int x = t.rect.x0 + mx; x < t.rect.x0 + t.rect.cols - mx; ++x) {
      bool ok = true;
      for (int c = 0; c < 3; ++c) ok = ok && std::isfinite(a.at(c, y, x)) && std::isfinite(b.at(c, y, x));
      valid[static_cast<std::size_t>(y) * a.width + x] = ok;
    }
  return valid;
}

// Per tile, the flux gain of the mosaic against the truth (aperture sums, zm::flux_ratio) over the tile's interior.
// On this small dataset each tile interior holds ~20 measurable stars, so each gain is known to 1-2 % (its own
// a_rel_sigma): the 1 % spread target of the issue is below what the truth comparison can resolve here. The test
// bounds the spread at the measured level plus margin and checks every tile against the mean in its own sigmas;
// the next test shows that the tiling and blending add no gain error of their own (tight bound).
TEST_F(GridMode, GainsAgreeWithTheTruthInEveryTile) {
  const auto& grid = run_->result.grid;
  const ImageF truth = truth_on_grid(Dataset::get(), grid);
  const ImageF& m = run_->image;
  std::vector<double> gains, sigmas;
  for (const auto& t : run_->result.stats.layout.tiles) {
    const auto valid = interior_mask(t, m, truth);
    PlaneSet tx, mx;
    for (int c = 0; c < 3; ++c) {
      tx.planes.push_back(truth.plane(c));
      tx.sigma.push_back(1.0);  // the truth is noiseless: a token sigma
      mx.planes.push_back(m.plane(c));
      mx.sigma.push_back(std::max(1e-3, plane_noise_sigma(m.plane(c), m.width, m.height)));
    }
    const auto r = flux_ratio(tx, mx, valid, grid.width, grid.height);
    if (!r[1].ok || r[1].sources < 8) continue;
    gains.push_back(r[1].a);
    sigmas.push_back(r[1].a_rel_sigma);
  }
  ASSERT_GE(gains.size(), 4u);
  double sw = 0, swg = 0;
  for (std::size_t i = 0; i < gains.size(); ++i) {
    sw += 1 / (sigmas[i] * sigmas[i]);
    swg += gains[i] / (sigmas[i] * sigmas[i]);
  }
  const double mean = swg / sw;
  const auto [lo, hi] = std::minmax_element(gains.begin(), gains.end());
  std::string text;
  double worst_z = 0;
  for (std::size_t i = 0; i < gains.size(); ++i) {
    text += fmt::format("{:.4f}+-{:.4f} ", gains[i], sigmas[i] * gains[i]);
    worst_z = std::max(worst_z, std::abs(gains[i] / mean - 1.0) / sigmas[i]);
  }
  RecordProperty("gain_spread", std::to_string(*hi / *lo - 1.0));
  RecordProperty("gain_worst_sigmas", std::to_string(worst_z));
  std::printf("tile gains vs truth: %s spread %.4f, worst %.2f sigma\n", text.c_str(), *hi / *lo - 1.0, worst_z);
  EXPECT_LT(*hi / *lo - 1.0, 0.06) << text;
  EXPECT_LT(worst_z, 4.0) << text;
}

// The same frames through Mosaic-First (one global coadd, same frame corrections): per tile interior, the grid
// mosaic has the same gain to 0.2 % and the same pixels to a small fraction of the noise.
TEST_F(GridMode, TilesAndBlendingAddNoGainErrorOverMosaicFirst) {
  const Dataset& d = Dataset::get();
  const fs::path out = d.dir.path() / "out_mf";
  Ctx c(plan_folder(), out, out / "cache", 2, kGridConfig);
  fs::create_directory_symlink(d.cache() / "frames", out / "cache" / "frames");
  const auto& g = run_->result;
  const MosaicArtifacts a = run_mosaic_first(c.ctx, c.ctx.options.global_coadd, g.ingest.frames, g.ingest.key, g.grid);
  const ImageF mf = read_planes(a.image, a.width, a.height, a.channels);
  double worst = 0;
  for (const auto& t : g.stats.layout.tiles) {
    const auto valid = interior_mask(t, run_->image, mf);
    const Fit f = fit_green(run_->image, mf, [&](int x, int y) { return valid[static_cast<std::size_t>(y) * mf.width + x] != 0; });
    ASSERT_GT(f.n, 1000);
    worst = std::max(worst, std::abs(f.gain - 1.0));
  }
  std::vector<double> diff;
  for (std::size_t i = 0; i < mf.data.size(); ++i)
    if (std::isfinite(mf.data[i]) && std::isfinite(run_->image.data[i]))
      diff.push_back(std::abs(mf.data[i] - run_->image.data[i]));
  ASSERT_FALSE(diff.empty());
  std::nth_element(diff.begin(), diff.begin() + diff.size() / 2, diff.end());
  const double noise = plane_noise_sigma(mf.plane(1), mf.width, mf.height);
  RecordProperty("gain_vs_mosaic_first", std::to_string(worst));
  std::printf("worst tile gain vs Mosaic-First %.5f; median |diff| %.4f (noise %.3f)\n", worst, diff[diff.size() / 2], noise);
  EXPECT_LT(worst, 0.002);
  EXPECT_LT(diff[diff.size() / 2], 0.05 * noise);
}

TEST_F(GridMode, StarsLandWhereTheTruthSays) {
  int n = 0;
  const double rms = star_rms(Dataset::get(), run_->image, run_->result.grid.wcs, &n);
  ASSERT_GE(n, 8);
  RecordProperty("star_rms_px", std::to_string(rms));
  std::printf("star rms %.4f px over %d stars\n", rms, n);
  EXPECT_LT(rms, 0.2) << n << " stars";
}

TEST_F(GridMode, BitIdenticalWithOneWorkerAndResumed) {
  const Dataset& d = Dataset::get();
  // A separate output and cache (frames shared): every tile, Phase 4.5 and Phase 5 are recomputed with 1 worker.
  const fs::path out = d.dir.path() / "out_1w";
  Ctx c(plan_folder(), out, out / "cache", 1, kGridConfig);
  fs::create_directory_symlink(d.cache() / "frames", out / "cache" / "frames");
  GridModeStats st;
  const MosaicArtifacts a = run_grid_mode(c.ctx, c.ctx.options, run_->result.ingest.frames, run_->result.ingest.key,
                                            run_->result.plan, run_->result.grid, st);
  EXPECT_FALSE(a.reused);
  EXPECT_EQ(st.tiles_reused, 0);
  EXPECT_EQ(a.key, run_->result.mosaic.key);
  EXPECT_TRUE(same_bits(read_planes(a.image, a.width, a.height, a.channels), run_->image));
  EXPECT_TRUE(same_bits(read_planes(a.coverage, a.width, a.height, 1), run_->coverage));
  // The same folder again: every tile and the blend are reused.
  GridModeStats again;
  const MosaicArtifacts b = run_grid_mode(c.ctx, c.ctx.options, run_->result.ingest.frames, run_->result.ingest.key,
                                            run_->result.plan, run_->result.grid, again);
  EXPECT_EQ(again.tiles_reused, static_cast<int>(st.layout.tiles.size()));
  EXPECT_TRUE(b.reused);
}

}  // namespace
}  // namespace zm::route_test
