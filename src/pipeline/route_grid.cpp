#include "pipeline/route_grid.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <unordered_map>

#include "core/hash.hpp"
#include "events/event_keys.hpp"
#include "io/atomic_file.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_stream_writer.hpp"
#include "pipeline/frame_cache.hpp"
#include "pipeline/mosaic_result.hpp"
#include "pipeline/phase45_photometry.hpp"
#include "pipeline/phase4_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/route_common.hpp"
#include "pipeline/route_mosaic_first.hpp"
#include "pipeline/route_photometry.hpp"
#include "plan/parallel_plan.hpp"
#include "reproject/warp.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kMinTileSide = 64;
constexpr int kConvertRows = 256;

double median_of(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Evenly spread starts of `side`-long intervals covering [0, extent) with steps of at most `step`.
std::vector<int> axis_starts(int extent, int side, int step) {
  if (side >= extent) return {0};
  const int n = (extent - side + step - 1) / step + 1;
  std::vector<int> s(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    s[static_cast<std::size_t>(i)] =
        static_cast<int>(std::llround(static_cast<double>(i) * (extent - side) / std::max(1, n - 1)));
  return s;
}

PixelRect intersect(const PixelRect& a, const PixelRect& b) {
  const int x0 = std::max(a.x0, b.x0), y0 = std::max(a.y0, b.y0);
  const int x1 = std::min(a.x0 + a.cols, b.x0 + b.cols), y1 = std::min(a.y0 + a.rows, b.y0 + b.rows);
  if (x1 <= x0 || y1 <= y0) return {};
  return {x0, y0, x1 - x0, y1 - y0};
}

std::vector<double> frame_exposures(const std::vector<FrameRecord>& frames, const StackPlan& plan) {
  std::unordered_map<std::string, const StackPlanRow*> rows;  // thousands of frames: no linear search per frame
  for (const auto& r : plan.rows) rows.emplace(r.path.string(), &r);
  std::vector<double> e;
  e.reserve(frames.size());
  for (const auto& f : frames) {
    const auto it = rows.find(f.path);
    const StackPlanRow* row = it == rows.end() ? nullptr : it->second;
    e.push_back(row != nullptr && row->exposure_s ? *row->exposure_s : f.exptime_s > 0 ? f.exptime_s : 1.0);
  }
  return e;
}

// Every frame's coadd input with its photometric correction and weight exposure / (gain x sigma)^2.
std::vector<CoaddFrame> weighted_inputs(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                        const std::vector<double>& exposures, int workers) {
  std::vector<CoaddFrame> inputs = coadd_frames(ctx, frames, {});
  std::vector<std::array<float, 3>> sigmas, skies;
  for (const auto& f : frames) {
    sigmas.push_back(f.sky_sigma);
    skies.push_back(f.sky_median);
  }
  if (ctx.config.get_bool("global_coadd_normalize") && frames.size() > 1) {
    const RoutePhotometry p = solve_star_photometry(inputs, skies, workers);
    apply_route_photometry(inputs, p, sigmas);
    nlohmann::json gains = nlohmann::json::array();
    for (const auto& c : p.corrections) gains.push_back({c.gain, c.offset});
    ctx.events().info(pipeline_keys::kPhotometrySolved, {{"phase", "3"},
                                                         {"inputs", "frames"},
                                                         {"anchor", p.anchor},
                                                         {"pairs", p.pairs},
                                                         {"disconnected", p.disconnected},
                                                         {"corrections", std::move(gains)}});
  } else {
    for (std::size_t k = 0; k < inputs.size(); ++k)
      for (int c = 0; c < 3; ++c)
        inputs[k].weight[c] = sigmas[k][c] > 0 ? 1.0f / (sigmas[k][c] * sigmas[k][c]) : 1.0f;
  }
  for (std::size_t k = 0; k < inputs.size(); ++k)
    for (int c = 0; c < 3; ++c) inputs[k].weight[c] *= static_cast<float>(exposures[k]);
  return inputs;
}

FitsHeader tile_header(const GridTile& t, const OutputGrid& tg, const std::vector<FrameRecord>& frames,
                       const std::vector<double>& exposures) {
  FitsHeader h = FitsHeader::parse_cards(frames[static_cast<std::size_t>(t.members.front())].header_cards);
  tg.wcs.write_to_header(h);
  double exposure = 0.0;
  std::string first, last;
  for (int m : t.members) {
    exposure += exposures[static_cast<std::size_t>(m)];
    const std::string& d = frames[static_cast<std::size_t>(m)].date_obs;
    if (!d.empty() && (first.empty() || d < first)) first = d;
    if (!d.empty() && (last.empty() || d > last)) last = d;
  }
  h.set("ZMT_TYPE", std::string("Grid Tile"));
  h.set("ZMT_ID", static_cast<long long>(t.id));
  h.set("ZMT_NSTK", static_cast<long long>(t.members.size()), "frames touching the tile");
  h.set("ZMT_NRAW", static_cast<long long>(t.members.size()), "frames touching the tile");
  h.set("ZMT_GRDX", static_cast<long long>(t.rect.x0), "tile origin on the global grid (0-based x)");
  h.set("ZMT_GRDY", static_cast<long long>(t.rect.y0), "tile origin on the global grid (0-based y)");
  h.set("EXPTOTAL", exposure, "total exposure of the frames (s)");
  if (!first.empty()) h.set("DATE-BEG", first);
  if (!last.empty()) h.set("DATE-END", last);
  h.set("ALPHAEXT", 1LL, "ALPHA extension: 255 = data, 0 = no data");
  return h;
}

// The raw coadd planes of a tile as a master-tile-like FITS (float32 C x H x W, ALPHA u8, COVERAGE float32).
void write_tile_fits(const fs::path& path, const MosaicArtifacts& raw, const FitsHeader& header,
                     const GlobalCoaddStats& st) {
  const int W = raw.width, H = raw.height, C = raw.channels;
  FitsStreamWriter w(path, W, H, C, header);
  const CachedFrameReader img(raw.image, W, H, C), cov(raw.coverage, W, H, 1);
  std::vector<float> buf;
  for (int y0 = 0; y0 < H; y0 += kConvertRows) {
    const int nr = std::min(kConvertRows, H - y0);
    buf.resize(static_cast<std::size_t>(W) * nr * C);
    img.read_rows(y0, nr, buf);
    w.write_rows(y0, nr, std::span<const float>(buf));
  }
  std::vector<std::uint8_t> alpha;
  w.add_extension_streamed("ALPHA", W, H, FitsPixelType::UInt8);
  for (int y0 = 0; y0 < H; y0 += kConvertRows) {
    const int nr = std::min(kConvertRows, H - y0);
    buf.resize(static_cast<std::size_t>(W) * nr);
    cov.read_rows(y0, nr, buf);
    alpha.resize(buf.size());
    for (std::size_t i = 0; i < buf.size(); ++i) alpha[i] = buf[i] > 0 ? 255 : 0;
    w.write_rows(y0, nr, std::span<const std::uint8_t>(alpha));
  }
  FitsHeader ch;
  ch.set("BUNIT", std::string("count"), "frames with data per pixel (green channel)");
  w.add_extension_streamed("COVERAGE", W, H, FitsPixelType::Float32, ch);
  for (int y0 = 0; y0 < H; y0 += kConvertRows) {
    const int nr = std::min(kConvertRows, H - y0);
    buf.resize(static_cast<std::size_t>(W) * nr);
    cov.read_rows(y0, nr, buf);
    w.write_rows(y0, nr, std::span<const float>(buf));
  }
  w.set_key("ZMT_REJF", st.reject.rejected_fraction(), "fraction of samples rejected");
  w.set_key("ZMT_USED", static_cast<long long>(st.frames_used), "frames with data on the tile");
  w.commit();
}

bool tile_file_valid(const fs::path& path, const PixelRect& rect, int channels) {
  try {
    const FitsImageInfo info = read_fits_info(path.string());
    return info.width == rect.cols && info.height == rect.rows && info.channels == channels;
  } catch (const std::exception&) {
    return false;
  }
}

struct TileJob {
  GridTile tile;
  OutputGrid grid;
  fs::path fits, manifest;
  std::string key;
  bool reused = false;
};

ParallelPlan grid_plan(const RunContext& ctx, const std::vector<FrameRecord>& frames, const GridLayout& layout) {
  JobSizes job;
  job.frame_width = frames.front().width;
  job.frame_height = frames.front().height;
  job.frame_channels = frames.front().channels;
  job.frames_total = frames.size();
  job.groups = layout.tiles.size();
  job.output_width = layout.tile_side;
  job.output_height = layout.tile_side;
  job.output_channels = frames.front().channels;
  job.notes.push_back("grid mode: a mosaic_first plan per tile (output = one tile)");
  ParallelPlan plan = make_plan(PlanKind::mosaic_first, ctx.caps, ctx.config, job);
  const long long mb = ctx.config.get_int("grid_chunk_ram_mb");
  if (mb > 0) {
    plan.max_chunk_bytes = static_cast<std::uint64_t>(mb) << 20;
    plan.reasons.push_back(fmt::format("max_chunk_bytes: grid_chunk_ram_mb = {}", mb));
  }
  nlohmann::json fields = to_json(plan);
  fields["phase"] = "3";
  fields["kind"] = "grid_mode";
  fields["tiles"] = layout.tiles.size();
  ctx.events().info(event_keys::kParallelPlanSummary, std::move(fields));
  return plan;
}

// Builds (or reuses) every tile's FITS; fills stats.tiles / tiles_reused / frames_used.
void build_tiles(const RunContext& ctx, const std::vector<FrameRecord>& frames, const std::vector<double>& exposures,
                 std::vector<TileJob>& jobs, const ParallelPlan& plan, GridModeStats& stats) {
  EventStream& events = ctx.events();
  const bool resume = ctx.config.get_string("resume") != "off";
  const int C = frames.front().channels;
  for (auto& j : jobs) j.reused = resume && manifest_matches(j.manifest, j.key) && tile_file_valid(j.fits, j.tile.rect, C);
  std::vector<CoaddFrame> inputs;  // solved only when some tile must be built
  std::vector<char> used(frames.size(), 0);
  ProgressCounter counter(*ctx.progress, "grid_tiles", jobs.size());
  stats.tiles.assign(jobs.size(), GlobalCoaddStats{});
  for (std::size_t t = 0; t < jobs.size(); ++t) {
    TileJob& j = jobs[t];
    if (ctx.cancelled()) throw RunCancelled();
    if (j.reused) {
      ++stats.tiles_reused;
      for (int m : j.tile.members) used[static_cast<std::size_t>(m)] = 1;
      counter.advance();
      continue;
    }
    if (inputs.empty()) inputs = weighted_inputs(ctx, frames, exposures, plan.cpu_workers);
    std::vector<CoaddFrame> members;
    for (int m : j.tile.members) members.push_back(inputs[static_cast<std::size_t>(m)]);
    const fs::path dir = j.fits.parent_path();
    MosaicArtifacts raw;
    const std::string stem = j.fits.stem().string();
    raw.image = dir / (stem + ".f32");
    raw.weight = dir / (stem + "_weight.f32");
    raw.coverage = dir / (stem + "_coverage.f32");
    raw.width = j.grid.width;
    raw.height = j.grid.height;
    raw.channels = C;
    std::error_code ec;
    fs::remove(j.manifest, ec);
    GlobalCoaddStats st = global_coadd(members, j.grid, raw, global_coadd_options(ctx, plan));
    if (st.cancelled || ctx.cancelled()) throw RunCancelled();
    if (st.frames_used > 0) write_tile_fits(j.fits, raw, tile_header(j.tile, j.grid, frames, exposures), st);
    for (const auto& p : {raw.image, raw.weight, raw.coverage}) fs::remove(p, ec);
    std::vector<char> off(members.size(), 0);
    for (int k : st.frames_off_canvas) off[static_cast<std::size_t>(k)] = 1;
    for (std::size_t k = 0; k < members.size(); ++k)
      if (!off[k]) used[static_cast<std::size_t>(j.tile.members[k])] = 1;
    events.info("GRID_TILE_DONE", {{"phase", "3"},
                                   {"tile", j.tile.id},
                                   {"path", j.fits.string()},
                                   {"x0", j.tile.rect.x0},
                                   {"y0", j.tile.rect.y0},
                                   {"width", j.grid.width},
                                   {"height", j.grid.height},
                                   {"frames", st.frames_used},
                                   {"covered_pixels", st.covered_pixels},
                                   {"rejected_fraction", st.reject.rejected_fraction()},
                                   {"peak_band_bytes", st.peak_band_bytes},
                                   {"seconds", st.seconds}});
    if (st.frames_used > 0) write_text_atomic(j.manifest, nlohmann::json{{"key", j.key}}.dump());
    stats.tiles[t] = st;
    counter.advance();
  }
  for (std::size_t k = 0; k < frames.size(); ++k) {
    if (used[k]) stats.frames_used.push_back(static_cast<int>(k));
    else
      events.warn(pipeline_keys::kInputSetAside, {{"phase", "3"},
                                                  {"file", frames[k].path},
                                                  {"kind", "off_canvas"},
                                                  {"reason", "the frame lands on no grid tile"}});
  }
}

TileInfo tile_info(const TileJob& j, const std::vector<FrameRecord>& frames, const std::vector<double>& exposures) {
  TileInfo ti{.id = j.tile.id,
              .path = j.fits.string(),
              .signature = j.key,
              .wcs = j.grid.wcs,
              .width = j.grid.width,
              .height = j.grid.height,
              .channels = frames.front().channels,
              .frames = static_cast<int>(j.tile.members.size()),
              .exposure_s = 0.0,
              .date_beg = {},
              .date_end = {}};
  for (int m : j.tile.members) {
    ti.exposure_s += exposures[static_cast<std::size_t>(m)];
    const std::string& d = frames[static_cast<std::size_t>(m)].date_obs;
    if (!d.empty() && (ti.date_beg.empty() || d < ti.date_beg)) ti.date_beg = d;
    if (!d.empty() && (ti.date_end.empty() || d > ti.date_end)) ti.date_end = d;
  }
  return ti;
}

}  // namespace

std::vector<std::string_view> grid_mode_config_keys() {
  auto keys = global_coadd_config_keys();
  keys.push_back("grid_size_factor");
  keys.push_back("batch_overlap_pct");
  return keys;
}

GridLayout plan_grid_tiles(const std::vector<FrameRecord>& frames, const OutputGrid& grid, double size_factor,
                           double overlap_pct) {
  GridLayout L;
  std::vector<double> sides;
  std::vector<PixelRect> boxes;
  for (const auto& f : frames) {
    const double ratio = f.scale_arcsec > 0 && grid.pixel_scale_arcsec > 0 ? f.scale_arcsec / grid.pixel_scale_arcsec
                                                                           : 1.0;
    sides.push_back(std::sqrt(static_cast<double>(f.width) * f.height) * ratio);
    boxes.push_back(output_bbox(f.make_wcs(), grid.wcs, 2));
  }
  L.frame_side_px = median_of(sides);
  L.tile_side = std::max(kMinTileSide, static_cast<int>(std::lround(size_factor * L.frame_side_px)));
  L.step = std::max(1, static_cast<int>(std::lround(L.tile_side * (1.0 - std::clamp(overlap_pct, 0.0, 90.0) / 100.0))));
  const std::vector<int> xs = axis_starts(grid.width, L.tile_side, L.step);
  const std::vector<int> ys = axis_starts(grid.height, L.tile_side, L.step);
  L.cols = static_cast<int>(xs.size());
  L.rows = static_cast<int>(ys.size());
  for (int y : ys)
    for (int x : xs) {
      const PixelRect cell{x, y, std::min(L.tile_side, grid.width - x), std::min(L.tile_side, grid.height - y)};
      GridTile t;
      int ux0 = cell.x0 + cell.cols, uy0 = cell.y0 + cell.rows, ux1 = cell.x0, uy1 = cell.y0;
      for (std::size_t k = 0; k < boxes.size(); ++k) {
        const PixelRect part = intersect(boxes[k], cell);
        if (part.empty()) continue;
        t.members.push_back(static_cast<int>(k));
        ux0 = std::min(ux0, part.x0);
        uy0 = std::min(uy0, part.y0);
        ux1 = std::max(ux1, part.x0 + part.cols);
        uy1 = std::max(uy1, part.y0 + part.rows);
      }
      if (t.members.empty()) continue;
      t.rect = {ux0, uy0, ux1 - ux0, uy1 - uy0};
      t.id = static_cast<int>(L.tiles.size());
      L.tiles.push_back(std::move(t));
    }
  return L;
}

OutputGrid tile_grid(const OutputGrid& grid, const PixelRect& rect) {
  OutputGrid g = grid;
  const PixelCoord c = grid.wcs.crpix();
  g.wcs = Wcs::make_tan(grid.wcs.crval(), PixelCoord{c.x - rect.x0, c.y - rect.y0}, grid.wcs.cd(), rect.cols, rect.rows);
  g.width = rect.cols;
  g.height = rect.rows;
  return g;
}

MosaicArtifacts run_grid_mode(const RunContext& ctx, const std::vector<FrameRecord>& frames, const StackPlan& plan,
                              const OutputGrid& grid) {
  GridModeStats stats;
  return run_grid_mode(ctx, frames, plan, grid, stats);
}

MosaicArtifacts run_grid_mode(const RunContext& ctx, const std::vector<FrameRecord>& frames, const StackPlan& plan,
                              const OutputGrid& grid, GridModeStats& stats) {
  if (frames.empty()) throw PipelineError("grid mode: no frame to stack");
  const std::vector<double> exposures = frame_exposures(frames, plan);
  std::vector<TileJob> jobs;
  {
    PhaseScope scope(*ctx.progress, "3", "Grid tiles");
    stats.layout = plan_grid_tiles(frames, grid, ctx.config.get_double("grid_size_factor"),
                                   ctx.config.get_double("batch_overlap_pct"));
    if (stats.layout.tiles.empty()) throw PipelineError("grid mode: no frame lands on the global grid");
    const fs::path dir = ctx.cache_dir / "grid";
    fs::create_directories(dir);
    std::string exp_text;
    for (double e : exposures) exp_text += fmt::format("{:.6g},", e);
    const std::string common = frames_signature(frames) + exp_text + grid_cards(grid) +
                               ctx.config.hash_of(phase1_config_keys()) + ctx.config.hash_of(grid_mode_config_keys());
    nlohmann::json rects = nlohmann::json::array();
    for (const auto& t : stats.layout.tiles) {
      TileJob j{t, tile_grid(grid, t.rect), dir / fmt::format("tile_{:04d}.fits", t.id),
                dir / fmt::format("tile_{:04d}.json", t.id), {}, false};
      std::string members;
      for (int m : t.members) members += fmt::format("{},", m);
      j.key = hash_hex(common + fmt::format("|{},{},{},{}|", t.rect.x0, t.rect.y0, t.rect.cols, t.rect.rows) + members);
      rects.push_back({t.rect.x0, t.rect.y0, t.rect.cols, t.rect.rows, t.members.size()});
      jobs.push_back(std::move(j));
    }
    ctx.events().info("GRID_LAYOUT", {{"phase", "3"},
                                      {"tile_side", stats.layout.tile_side},
                                      {"step", stats.layout.step},
                                      {"frame_side_px", stats.layout.frame_side_px},
                                      {"cols", stats.layout.cols},
                                      {"rows", stats.layout.rows},
                                      {"tiles", rects}});
    const ParallelPlan p = grid_plan(ctx, frames, stats.layout);
    build_tiles(ctx, frames, exposures, jobs, p, stats);
    if (stats.tiles_reused > 0)
      ctx.events().info(pipeline_keys::kResumeReused,
                        {{"phase", "3"}, {"reused", stats.tiles_reused}, {"total", jobs.size()}});
  }
  for (std::size_t t = 0; t < jobs.size(); ++t)
    if (jobs[t].reused || stats.tiles[t].frames_used > 0) stats.tile_infos.push_back(tile_info(jobs[t], frames, exposures));
  if (stats.tile_infos.empty()) throw PipelineError("grid mode: every tile is empty (no frame lands on the grid)");
  if (ctx.cancelled()) throw RunCancelled();
  stats.tile_corrections = run_phase45(ctx, stats.tile_infos);
  if (ctx.cancelled()) throw RunCancelled();
  // Tiles are cutouts of the grid itself: the nearest kernel is an exact integer shift (no resampling, no
  // kernel-wide erosion of the tiles' edges).
  RunContext blend = ctx;
  blend.config.set("phase5_interpolation", "nearest", "grid mode");
  return run_phase5(blend, stats.tile_infos, stats.tile_corrections, grid);
}

GridRunResult run_grid_route(const RunContext& ctx) {
  const auto csv = find_stack_plan(ctx.input_dir);
  if (!csv) throw PipelineError("grid mode: no stack_plan.csv in " + ctx.input_dir.string());
  StackPlan plan = load_stack_plan(*csv);
  report_stack_plan(ctx.events(), plan);
  if (plan.rows.empty())
    throw PipelineError(fmt::format("grid mode: {} lists no existing file ({} row(s) skipped)", csv->string(),
                                    plan.skipped.size()));
  IngestResult ingest = run_phase1(ctx, plan.paths());
  ingest.inputs_found += static_cast<int>(plan.skipped.size());
  if (ctx.cancelled()) throw RunCancelled();
  std::optional<OutputGrid> grid;
  {
    PhaseScope scope(*ctx.progress, "2", "Grid WCS");  // "2" as the global grid of Mosaic-First and SDS
    grid = global_grid(ctx, ingest.frames);
    Wcs centre_wcs = grid->wcs;
    const SkyCoord c = image_centre(centre_wcs);
    ctx.events().info(pipeline_keys::kOutputGrid, {{"phase", "2"},
                                                   {"width", grid->width},
                                                   {"height", grid->height},
                                                   {"pixel_scale_arcsec", grid->pixel_scale_arcsec},
                                                   {"rotation_deg", grid->rotation_deg},
                                                   {"centre_ra", c.ra},
                                                   {"centre_dec", c.dec},
                                                   {"route", "grid"},
                                                   {"tiles", ingest.frames.size()}});
  }
  GridRunResult r{std::move(plan), std::move(ingest), std::move(*grid), {}, {}, {}};
  r.mosaic = run_grid_mode(ctx, r.ingest.frames, r.plan, r.grid, r.stats);
  std::vector<FrameRecord> used;
  for (int k : r.stats.frames_used) used.push_back(r.ingest.frames[static_cast<std::size_t>(k)]);
  r.summary = summarize_frames(used, r.ingest.inputs_found, "grid");
  r.summary.master_tiles = static_cast<int>(r.stats.tile_infos.size());
  return r;
}

}  // namespace zm
