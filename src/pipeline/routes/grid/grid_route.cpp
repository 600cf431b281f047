#include "pipeline/routes/grid/grid_route.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <unordered_map>

#include "core/hash.hpp"
#include "events/event_keys.hpp"
#include "io/fits_reader.hpp"
#include "io/fits_stream_writer.hpp"
#include "pipeline/assembly/phase5_assembly.hpp"
#include "pipeline/ingest/phase1_ingest.hpp"
#include "pipeline/merge/phase45_photometry.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/model/output_grid.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/routes/global_grid.hpp"
#include "pipeline/routes/route_common.hpp"
#include "plan/parallel_plan.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kConvertRows = 256;

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
std::vector<CoaddFrame> weighted_inputs(const RunContext& ctx, bool normalize, const std::vector<FrameRecord>& frames,
                                        const std::vector<double>& exposures, int workers) {
  std::vector<CoaddFrame> inputs = coadd_frames(ctx.cache.frames(), frames);
  if (normalize && frames.size() > 1) {
    normalize_frames(ctx, frames, inputs, workers, "3");
  } else {
    for (std::size_t k = 0; k < inputs.size(); ++k)
      for (int c = 0; c < 3; ++c) {
        const float sigma = frames[k].sky_sigma[c];
        inputs[k].weight[c] = sigma > 0 ? 1.0f / (sigma * sigma) : 1.0f;
      }
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

ParallelPlan grid_plan(const RunContext& ctx, long long chunk_ram_mb, const std::vector<FrameRecord>& frames,
                       const GridLayout& layout) {
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
  ParallelPlan plan = make_plan(PlanKind::mosaic_first, ctx.caps, ctx.options.plan, job);
  const long long mb = chunk_ram_mb;
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

// The raw coadd planes of a tile, next to its FITS (removed once the FITS is written).
MosaicArtifacts raw_planes_of(const TileJob& j, int channels) {
  const fs::path dir = j.fits.parent_path();
  const std::string stem = j.fits.stem().string();
  MosaicArtifacts raw;
  raw.image = dir / (stem + ".f32");
  raw.weight = dir / (stem + "_weight.f32");
  raw.coverage = dir / (stem + "_coverage.f32");
  raw.width = j.grid.width;
  raw.height = j.grid.height;
  raw.channels = channels;
  return raw;
}

void report_tile(EventStream& events, const TileJob& j, const GlobalCoaddStats& st) {
  events.info(pipeline_keys::kGridTileDone, {{"phase", "3"},
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
}

// Builds the tiles that cannot be reused, one after another (each tile's bands use every worker).
struct TileBuilder {
  const RunContext& ctx;
  const RunOptions& options;
  const std::vector<FrameRecord>& frames;
  const std::vector<double>& exposures;
  const ParallelPlan& plan;
  std::vector<CoaddFrame> inputs;  // solved only when some tile must be built
  std::vector<char> used;          // frames that landed in a tile

  GlobalCoaddStats build(const TileJob& j) {
    if (inputs.empty())
      inputs = weighted_inputs(ctx, options.global_coadd.normalize, frames, exposures, plan.cpu_workers);
    std::vector<CoaddFrame> members;
    for (int m : j.tile.members) members.push_back(inputs[static_cast<std::size_t>(m)]);
    const MosaicArtifacts raw = raw_planes_of(j, frames.front().channels);
    std::error_code ec;
    fs::remove(j.manifest, ec);
    GlobalCoaddStats st = global_coadd(members, j.grid, raw, global_coadd_options(ctx, options.global_coadd, plan));
    if (st.cancelled || ctx.cancelled()) throw RunCancelled();
    if (st.frames_used > 0) write_tile_fits(j.fits, raw, tile_header(j.tile, j.grid, frames, exposures), st);
    for (const auto& p : {raw.image, raw.weight, raw.coverage}) fs::remove(p, ec);
    std::vector<char> off(members.size(), 0);
    for (int k : st.frames_off_canvas) off[static_cast<std::size_t>(k)] = 1;
    for (std::size_t k = 0; k < members.size(); ++k)
      if (!off[k]) used[static_cast<std::size_t>(j.tile.members[k])] = 1;
    report_tile(ctx.events(), j, st);
    if (st.frames_used > 0) write_manifest(j.manifest, {{"key", j.key}});
    return st;
  }
};

// Builds (or reuses) every tile's FITS; fills stats.tiles / tiles_reused / frames_used.
void build_tiles(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                 const std::vector<double>& exposures, std::vector<TileJob>& jobs, const ParallelPlan& plan,
                 GridModeStats& stats) {
  EventStream& events = ctx.events();
  const int C = frames.front().channels;
  for (auto& j : jobs)
    j.reused = ctx.resume() && manifest_has_key(j.manifest, j.key, events) && tile_file_valid(j.fits, j.tile.rect, C);
  TileBuilder builder{ctx, options, frames, exposures, plan, {}, std::vector<char>(frames.size(), 0)};
  ProgressCounter counter(*ctx.progress, "grid_tiles", jobs.size());
  stats.tiles.assign(jobs.size(), GlobalCoaddStats{});
  for (std::size_t t = 0; t < jobs.size(); ++t) {
    if (ctx.cancelled()) throw RunCancelled();
    if (jobs[t].reused) {
      ++stats.tiles_reused;
      for (int m : jobs[t].tile.members) builder.used[static_cast<std::size_t>(m)] = 1;
    } else {
      stats.tiles[t] = builder.build(jobs[t]);
    }
    counter.advance();
  }
  for (std::size_t k = 0; k < frames.size(); ++k) {
    if (builder.used[k]) stats.frames_used.push_back(static_cast<int>(k));
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

MosaicArtifacts run_grid_mode(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                              const std::string& ingest_key, const StackPlan& plan, const OutputGrid& grid) {
  GridModeStats stats;
  return run_grid_mode(ctx, options, frames, ingest_key, plan, grid, stats);
}

namespace {

// One job per tile of the layout: its grid, files and resume key.
std::vector<TileJob> tile_jobs(const GridLayout& layout, const OutputGrid& grid, const fs::path& dir,
                               const std::string& common) {
  std::vector<TileJob> jobs;
  for (const auto& t : layout.tiles) {
    TileJob j{t, tile_grid(grid, t.rect), dir / fmt::format("tile_{:04d}.fits", t.id),
              dir / fmt::format("tile_{:04d}.json", t.id), {}, false};
    std::string members;
    for (int m : t.members) members += fmt::format("{},", m);
    j.key = hash_hex(common + fmt::format("|{},{},{},{}|", t.rect.x0, t.rect.y0, t.rect.cols, t.rect.rows) + members);
    jobs.push_back(std::move(j));
  }
  return jobs;
}

void report_layout(EventStream& events, const GridLayout& layout) {
  nlohmann::json rects = nlohmann::json::array();
  for (const auto& t : layout.tiles) rects.push_back({t.rect.x0, t.rect.y0, t.rect.cols, t.rect.rows, t.members.size()});
  events.info(pipeline_keys::kGridLayout, {{"phase", "3"},
                                           {"tile_side", layout.tile_side},
                                           {"step", layout.step},
                                           {"frame_side_px", layout.frame_side_px},
                                           {"cols", layout.cols},
                                           {"rows", layout.rows},
                                           {"tiles", rects}});
}

// Phase "3" of grid mode: the layout and every tile's FITS.
std::vector<TileJob> make_grid_tiles(const RunContext& ctx, const RunOptions& options,
                                     const std::vector<FrameRecord>& frames, const std::string& ingest_key,
                                     const std::vector<double>& exposures, const OutputGrid& grid,
                                     GridModeStats& stats) {
  PhaseScope scope(*ctx.progress, "3", "Grid tiles");
  stats.layout = plan_grid_tiles(frames, grid, options.grid_mode.size_factor, options.grid_mode.overlap_pct);
  if (stats.layout.tiles.empty()) throw PipelineError("grid mode: no frame lands on the global grid");
  const fs::path dir = ctx.cache.grid();
  fs::create_directories(dir);
  std::string exp_text;
  for (double e : exposures) exp_text += fmt::format("{:.6g},", e);
  std::vector<TileJob> jobs = tile_jobs(stats.layout, grid, dir,
                                        frames_signature(frames) + exp_text + grid_cards(grid) + ingest_key +
                                            options.grid_mode.settings);
  report_layout(ctx.events(), stats.layout);
  const ParallelPlan p = grid_plan(ctx, options.grid_mode.chunk_ram_mb, frames, stats.layout);
  build_tiles(ctx, options, frames, exposures, jobs, p, stats);
  if (stats.tiles_reused > 0)
    ctx.events().info(pipeline_keys::kResumeReused,
                      {{"phase", "3"}, {"reused", stats.tiles_reused}, {"total", jobs.size()}});
  return jobs;
}

}  // namespace

MosaicArtifacts run_grid_mode(const RunContext& ctx, const RunOptions& options, const std::vector<FrameRecord>& frames,
                              const std::string& ingest_key, const StackPlan& plan, const OutputGrid& grid,
                              GridModeStats& stats) {
  if (frames.empty()) throw PipelineError("grid mode: no frame to stack");
  const std::vector<double> exposures = frame_exposures(frames, plan);
  const std::vector<TileJob> jobs = make_grid_tiles(ctx, options, frames, ingest_key, exposures, grid, stats);
  for (std::size_t t = 0; t < jobs.size(); ++t)
    if (jobs[t].reused || stats.tiles[t].frames_used > 0) stats.tile_infos.push_back(tile_info(jobs[t], frames, exposures));
  if (stats.tile_infos.empty()) throw PipelineError("grid mode: every tile is empty (no frame lands on the grid)");
  ctx.check();
  stats.tile_corrections = run_phase45(ctx, options.tile_match, stats.tile_infos);
  ctx.check();
  // Tiles are cutouts of the grid itself: the nearest kernel is an exact integer shift (no resampling, no
  // kernel-wide erosion of the tiles' edges).
  AssemblyOptions blend = options.assembly;
  blend.kernel = Kernel::Nearest;
  return run_phase5(ctx, blend, stats.tile_infos, stats.tile_corrections, grid);
}

GridRunResult run_grid_route(const RunContext& ctx, const RunOptions& options) {
  const auto csv = find_stack_plan(ctx.input_dir);
  if (!csv) throw PipelineError("grid mode: no stack_plan.csv in " + ctx.input_dir.string());
  StackPlan plan = load_stack_plan(*csv);
  report_stack_plan(ctx.events(), plan);
  if (plan.rows.empty())
    throw PipelineError(fmt::format("grid mode: {} lists no existing file ({} row(s) skipped)", csv->string(),
                                    plan.skipped.size()));
  IngestResult ingest = run_phase1(ctx, options.ingest, plan.paths());
  ingest.inputs_found += static_cast<int>(plan.skipped.size());
  ctx.check();
  std::optional<OutputGrid> grid;
  {
    PhaseScope scope(*ctx.progress, "2", "Grid WCS");  // "2" as the global grid of Mosaic-First and SDS
    grid = global_grid(options.global_grid, ingest.frames);
    report_output_grid(ctx.events(), ctx.cache.output_grid(), *grid, ingest.frames.size(), Route::grid);
  }
  GridRunResult r{std::move(plan), std::move(ingest), std::move(*grid), {}, {}, {}};
  r.mosaic = run_grid_mode(ctx, options, r.ingest.frames, r.ingest.key, r.plan, r.grid, r.stats);
  std::vector<FrameRecord> used;
  for (int k : r.stats.frames_used) used.push_back(r.ingest.frames[static_cast<std::size_t>(k)]);
  r.summary = summarize_frames(used, r.ingest.inputs_found, Route::grid);
  r.summary.master_tiles = static_cast<int>(r.stats.tile_infos.size());
  return r;
}

}  // namespace zm
