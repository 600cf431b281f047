// The cutout is streamed in row bands: for each band every member's needed input rows are read, masked with its
// ALPHA, warped onto the band and combined pixel by pixel. A pixel's value depends only on its own samples (the
// pixel maps are anchored on the cutout, not on the band), so the tile does not depend on the band height or the
// thread count. Photometry runs first, on the members' block-mean previews (harmonize_tiles, anchored on one
// member), so the stack itself needs a single pass.
#include "pipeline/merge/super_tile.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "io/fits_reader.hpp"
#include "io/fits_stream_writer.hpp"
#include "photometry/tile_preview.hpp"
#include "pipeline/run_errors.hpp"
#include "reproject/coadd_io.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "stack/method_names.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<TileCorrection> solve_photometry(const std::vector<TileInfo>& members, int anchor,
                                             const SuperTileOptions& o) {
  std::vector<std::optional<TilePreview>> slots(members.size());
  tbb::parallel_for(std::size_t{0}, members.size(), [&](std::size_t k) {
    slots[k].emplace(read_tile_preview(members[k].path, static_cast<int>(k), o.preview_side));
    slots[k]->weight = std::max(1, members[k].frames);
  });
  std::vector<TilePreview> previews;
  for (auto& s : slots) previews.push_back(std::move(*s));
  HarmonizeOptions h = o.photometry;
  h.anchor = anchor;
  HarmonizeResult r = harmonize_tiles(previews, h);
  for (std::size_t k = 0; k < members.size(); ++k) r.tiles[k].id = members[k].id;
  return r.tiles;
}

// What the band loop keeps of one member for the whole tile.
struct Member {
  std::unique_ptr<FitsImageReader> reader;
  std::optional<std::vector<std::uint8_t>> alpha;
  std::optional<std::vector<float>> coverage;
  MapGrid grid;
  int width = 0, height = 0;
  float frames = 1.0f;
};

FitsHeader super_header(int id, const std::vector<TileInfo>& members, int anchor, const Wcs& wcs,
                        const SuperTileOptions& o) {
  FitsHeader h;
  wcs.write_to_header(h);
  long long frames = 0;
  double exposure = 0.0;
  std::string first, last, ids;
  for (const auto& m : members) {
    frames += m.frames;
    exposure += m.exposure_s;
    if (!m.date_beg.empty() && (first.empty() || m.date_beg < first)) first = m.date_beg;
    if (!m.date_end.empty() && (last.empty() || m.date_end > last)) last = m.date_end;
    if (!ids.empty()) ids += ',';
    ids += std::to_string(m.id);
  }
  h.set("ZMT_TYPE", std::string("Super Tile"));
  h.set("ZMT_ID", static_cast<long long>(id));
  h.set("ZMT_NSTK", frames, "frames stacked (sum over the merged master tiles)");
  h.set("ZMT_NRAW", frames, "raw frames in the merged master tiles");
  h.set("ZMT_NMRG", static_cast<long long>(members.size()), "master tiles merged");
  h.set("ZMT_MEMB", ids, "ids of the merged master tiles");
  h.set("ZMT_ANCH", static_cast<long long>(members[anchor].id), "member whose photometric scale is kept");
  h.set("EXPTOTAL", exposure, "total exposure of the stacked frames (s)");
  if (!first.empty()) h.set("DATE-BEG", first);
  if (!last.empty()) h.set("DATE-END", last);
  h.set("ZMT_REJ", std::string(to_string(o.reject.algo)));
  h.set("ZMT_KAPLO", static_cast<double>(o.reject.kappa_low));
  h.set("ZMT_KAPHI", static_cast<double>(o.reject.kappa_high));
  h.set("ZMT_KERN", std::string(to_string(o.kernel)));
  h.set("ALPHAEXT", 1LL, "ALPHA extension: 255 = data, 0 = no data");
  return h;
}

// Member k's samples over `band`, NaN outside its data; adds its coverage where a sample is valid.
ImageF warp_member(const Member& m, const Wcs& cutout, const Wcs& member_wcs, const PixelRect& band, int channels,
                   Kernel kernel, float* band_coverage) {
  const PixelMap map = compute_pixel_map(cutout, member_wcs, band, m.grid);
  const RowRange need = input_rows_needed(map, kernel, m.width, m.height);
  if (need.empty()) return ImageF(channels, band.cols, band.rows, kNaN);
  ImageF in(channels, m.width, need.count());
  m.reader->read_rows(need.begin, need.count(), in.data);
  if (m.alpha) {
    const std::size_t plane = in.plane_size();
    const std::uint8_t* a = m.alpha->data() + static_cast<std::size_t>(need.begin) * m.width;
    for (std::size_t i = 0; i < plane; ++i)
      if (a[i] == 0)
        for (int c = 0; c < channels; ++c) in.data[c * plane + i] = kNaN;
  }
  WarpedBand w = warp_band(InputBand{&in, need.begin, m.height}, map, kernel);
  for (std::size_t i = 0; i < w.footprint.size(); ++i) {
    if (!w.footprint[i]) continue;
    const int ix = std::clamp(static_cast<int>(std::floor(map.x[i] + 0.5)), 0, m.width - 1);
    const int iy = std::clamp(static_cast<int>(std::floor(map.y[i] + 0.5)), 0, m.height - 1);
    band_coverage[i] += m.coverage ? (*m.coverage)[static_cast<std::size_t>(iy) * m.width + ix] : m.frames;
  }
  return std::move(w.image);
}

}  // namespace

LocalGrid group_cutout(const std::vector<TileInfo>& members, const OutputGrid& grid) {
  int x0 = grid.width, y0 = grid.height, x1 = 0, y1 = 0;
  for (const auto& m : members) {
    const PixelRect r = output_bbox(m.wcs, grid.wcs);
    if (r.empty()) continue;
    x0 = std::min(x0, r.x0);
    y0 = std::min(y0, r.y0);
    x1 = std::max(x1, r.x0 + r.cols);
    y1 = std::max(y1, r.y0 + r.rows);
  }
  const PixelRect rect = x1 > x0 && y1 > y0 ? PixelRect{x0, y0, x1 - x0, y1 - y0} : PixelRect{};
  const PixelCoord crpix = grid.wcs.crpix();
  return {rect, Wcs::make_tan(grid.wcs.crval(), {crpix.x - rect.x0, crpix.y - rect.y0}, grid.wcs.cd(),
                              std::max(1, rect.cols), std::max(1, rect.rows))};
}

int choose_anchor(const std::vector<TileInfo>& members) {
  int best = 0;
  for (std::size_t k = 1; k < members.size(); ++k)
    if (members[k].frames > members[best].frames) best = static_cast<int>(k);
  return best;
}

SuperTileMemory super_tile_memory(const std::vector<TileInfo>& members, int cutout_width, int cutout_height) {
  SuperTileMemory m;
  const std::uint64_t W = static_cast<std::uint64_t>(cutout_width);
  int channels = 1;
  std::uint64_t widest = 0;
  for (const auto& t : members) {
    m.resident += static_cast<std::uint64_t>(t.width) * t.height * (1 + sizeof(float));  // ALPHA + COVERAGE
    channels = std::max(channels, t.channels);
    widest = std::max<std::uint64_t>(widest, t.width);
  }
  m.resident += W * cutout_height * sizeof(float);  // the cutout's coverage until the extensions are written
  const std::uint64_t n = members.size();
  m.per_row = n * W * channels * sizeof(float)                       // warped members
              + W * (kPixelMapBytesPerPixel + warped_bytes_per_pixel(channels))  // map + the band being warped
              + 2 * widest * channels * sizeof(float)                // input rows (a tilted tile reads more)
              + W * (channels + 2) * sizeof(float);                  // output, kept counts, coverage
  return m;
}

int super_tile_band_rows(const SuperTileMemory& m, std::uint64_t budget, int cutout_height) {
  constexpr int kMinRows = 16;
  if (budget == 0 || m.per_row == 0) return std::max(1, cutout_height);
  const std::uint64_t left = budget > m.resident ? budget - m.resident : 0;
  const std::uint64_t rows = left / m.per_row;
  return static_cast<int>(std::clamp<std::uint64_t>(rows, std::min(kMinRows, cutout_height),
                                                    std::max(1, cutout_height)));
}

SuperTileResult build_super_tile(int id, const std::vector<TileInfo>& members, const OutputGrid& grid,
                                 const fs::path& path, const SuperTileOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (members.size() < 2) throw std::invalid_argument("a super tile needs at least two members");
  SuperTileResult result;
  result.path = path.string();
  result.anchor = choose_anchor(members);
  const LocalGrid local = group_cutout(members, grid);
  if (local.rect.empty()) throw std::invalid_argument("super tile members do not land on the output grid");
  result.cutout = local.rect;
  const int W = local.rect.cols, H = local.rect.rows, C = members.front().channels;
  const int n = static_cast<int>(members.size());
  result.corrections = solve_photometry(members, result.anchor, o);

  std::vector<Member> mem(n);
  for (int k = 0; k < n; ++k) {
    const TileInfo& t = members[k];
    if (t.channels != C) throw std::invalid_argument("super tile members differ in channel count");
    mem[k].reader = std::make_unique<FitsImageReader>(t.path);
    coadd_io::TileExtensions ext = coadd_io::read_tile_extensions(t.path, t.width, t.height);
    mem[k].alpha = std::move(ext.alpha);
    mem[k].coverage = std::move(ext.coverage);
    mem[k].grid = choose_map_grid(local.wcs, t.wcs, PixelRect{0, 0, W, H});
    mem[k].width = t.width;
    mem[k].height = t.height;
    mem[k].frames = static_cast<float>(std::max(1, t.frames));
  }
  result.band_rows = o.rows_per_band > 0 ? std::min(o.rows_per_band, H)
                                         : super_tile_band_rows(super_tile_memory(members, W, H),
                                                                o.memory_budget_bytes, H);

  fs::create_directories(path.parent_path());
  FitsStreamWriter writer(path, W, H, C, super_header(id, members, result.anchor, local.wcs, o));
  std::vector<float> coverage(static_cast<std::size_t>(W) * H, 0.0f);
  std::vector<float> weights(n);
  for (int k = 0; k < n; ++k) weights[k] = mem[k].frames;
  const int green = std::min(1, C - 1);
  for (int y0 = 0; y0 < H; y0 += result.band_rows) {
    if (o.cancel != nullptr && o.cancel->requested()) throw RunCancelled();
    const int nr = std::min(result.band_rows, H - y0);
    const PixelRect band{0, y0, W, nr};
    float* band_cov = coverage.data() + static_cast<std::size_t>(y0) * W;
    std::vector<ImageF> warped;
    warped.reserve(n);
    for (int k = 0; k < n; ++k)
      warped.push_back(warp_member(mem[k], local.wcs, members[k].wcs, band, C, o.kernel, band_cov));
    ImageF out(C, W, nr);
    std::vector<float> kept(band.area());
    for (int c = 0; c < C; ++c) {
      std::vector<const float*> ptrs(n);
      std::vector<LinearCoeffs> coeffs(n);
      for (int k = 0; k < n; ++k) {
        ptrs[k] = warped[k].plane(c);
        const auto& corr = result.corrections[k];
        coeffs[k] = {static_cast<float>(corr.gain[std::min(c, 2)]), static_cast<float>(corr.offset[std::min(c, 2)])};
      }
      combine_band(ptrs.data(), weights.data(), n, band.area(), o.reject, out.plane(c), kept.data(), result.stats,
                   coeffs.data());
    }
    const float* g = out.plane(green);
    for (std::size_t i = 0; i < static_cast<std::size_t>(band.area()); ++i)
      if (!std::isfinite(g[i])) band_cov[i] = 0.0f;
    writer.write_rows(y0, nr, out.data);
  }
  std::vector<std::uint8_t> alpha(coverage.size());
  for (std::size_t i = 0; i < coverage.size(); ++i) alpha[i] = coverage[i] > 0 ? 255 : 0;
  FitsExtension a{"ALPHA", W, H, std::move(alpha), {}, {}};
  FitsExtension cov{"COVERAGE", W, H, {}, std::move(coverage), {}};
  cov.header.set("BUNIT", std::string("count"), "frames of the members with data here");
  writer.add_extension(a);
  writer.add_extension(cov);
  writer.set_key("ZMT_REJF", result.stats.rejected_fraction(), "fraction of member samples rejected");
  writer.commit();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace zm
