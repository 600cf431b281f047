// Memory: one band of the mosaic at a time plus a low-resolution overview (preview and hole-fill source) and the
// background model's grid, so the canvas never has to fit in RAM. The science data are the Phase 5 values less the
// final background model (final_dbe.hpp: gradients removed, sky level kept; none with final_mosaic_dbe_enabled
// off), with no baseline shift: NaN marks pixels without data and ALPHA says the same in 0/255.
#include "pipeline/output/phase6_save.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/hash.hpp"
#include "io/atomic_file.hpp"
#include "io/fits_stream_writer.hpp"
#include "io/png_writer.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/output/final_dbe.hpp"
#include "pipeline/output/mosaic_overview.hpp"
#include "pipeline/pipeline_events.hpp"

#ifndef ZM_VERSION
#define ZM_VERSION "dev"
#endif

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBandBytes = 32u << 20;

int band_rows_for(const MosaicArtifacts& m) {
  const std::size_t row = static_cast<std::size_t>(m.width) * (m.channels + 2) * sizeof(float);
  return static_cast<int>(std::clamp<std::size_t>(kBandBytes / std::max<std::size_t>(1, row), 1, 4096));
}

void add_config_history(FitsHeader& h, const Config& cfg) {
  h.add_history("zemosaic-cpp configuration (key = value):");
  for (const auto& [key, value] : cfg.values().items()) {
    std::string line = key + " = " + value.dump();
    while (!line.empty()) {
      h.add_history(line.substr(0, 70));
      line = line.size() > 70 ? "  " + line.substr(70) : std::string();
    }
  }
}

FitsHeader science_header(const RunContext& ctx, const SaveOptions& options, const MosaicSummary& s,
                          const OutputGrid& grid, std::string_view role) {
  FitsHeader h;
  grid.wcs.write_to_header(h);
  h.set("SOFTWARE", std::string("zemosaic-cpp ") + ZM_VERSION);
  h.set("ZMROLE", std::string(role), "SCI = science data, AESTH = hole-filled for display");
  h.set("ZMROUTE", std::string(to_string(s.route)), "classic | mosaic_first | sds | grid");
  h.set("NMASTILE", static_cast<long long>(s.master_tiles), "master tiles assembled");
  h.set("NRAWINIT", static_cast<long long>(s.frames_found), "input files found");
  h.set("NRAWPROC", static_cast<long long>(s.frames_used), "frames stacked into the mosaic");
  h.set("EXPTOTAL", s.exposure_s, "total exposure of the stacked frames (s)");
  if (!s.date_beg.empty()) h.set("DATE-BEG", s.date_beg);
  if (!s.date_end.empty()) h.set("DATE-END", s.date_end);
  h.set("ZMSKYKPT", s.sky_kept_fraction, "fraction of the frames' sky union with data here");
  h.set("ZMASMBMTH", options.assembly_method);
  h.set("ALPHAEXT", 1LL, "ALPHA extension: 255 = data, 0 = no data");
  add_config_history(h, ctx.config);
  return h;
}

// Fills the non-finite pixels of a band that lie within radius_px of data from the smoothed overview.
struct HoleFill {
  ImageF smooth;            // C x h x w on a grid `factor` times coarser than the mosaic
  std::vector<float> dist;  // overview pixels to the nearest valid one
  int factor = 1;
  double radius_px = 0;

  void apply(float* band, int y0, int rows, int width, int channels) const {
    const std::size_t plane = static_cast<std::size_t>(rows) * width;
    for (int r = 0; r < rows; ++r)
      for (int x = 0; x < width; ++x) {
        const std::size_t i = static_cast<std::size_t>(r) * width + x;
        bool hole = false;
        for (int c = 0; c < channels; ++c) hole = hole || !std::isfinite(band[c * plane + i]);
        if (!hole) continue;
        const int ox = std::min(x / factor, smooth.width - 1), oy = std::min((y0 + r) / factor, smooth.height - 1);
        if (dist[static_cast<std::size_t>(oy) * smooth.width + ox] * factor > radius_px) continue;
        for (int c = 0; c < channels; ++c) band[c * plane + i] = sample(c, (x + 0.5) / factor - 0.5, (y0 + r + 0.5) / factor - 0.5);
      }
  }

  // Bilinear on the finite neighbours only (renormalised), so NaN cells of the smooth grid never leak in.
  float sample(int c, double fx, double fy) const {
    const int x0 = static_cast<int>(std::floor(fx)), y0 = static_cast<int>(std::floor(fy));
    const double tx = fx - x0, ty = fy - y0;
    double sum = 0, wsum = 0;
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) {
        const int xx = std::clamp(x0 + dx, 0, smooth.width - 1), yy = std::clamp(y0 + dy, 0, smooth.height - 1);
        const float v = smooth.at(c, yy, xx);
        if (!std::isfinite(v)) continue;
        const double w = (dx ? tx : 1 - tx) * (dy ? ty : 1 - ty);
        sum += w * v;
        wsum += w;
      }
    return wsum > 1e-9 ? static_cast<float>(sum / wsum) : std::numeric_limits<float>::quiet_NaN();
  }
};

ImageF block_mean(const ImageF& im, int g) {
  if (g <= 1) return im;
  const int w = (im.width + g - 1) / g, h = (im.height + g - 1) / g;
  ImageF out(im.channels, w, h);
  for (int c = 0; c < im.channels; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double s = 0;
        int n = 0;
        for (int yy = y * g; yy < std::min(im.height, (y + 1) * g); ++yy)
          for (int xx = x * g; xx < std::min(im.width, (x + 1) * g); ++xx)
            if (const float v = im.at(c, yy, xx); std::isfinite(v)) {
              s += v;
              ++n;
            }
        out.at(c, y, x) = n ? static_cast<float>(s / n) : std::numeric_limits<float>::quiet_NaN();
      }
  return out;
}

HoleFill make_hole_fill(const MosaicOverview& ov, double radius_px) {
  HoleFill hf;
  hf.radius_px = radius_px;
  // A coarse grid keeps the smoothing kernel small (sigma <= ~4 cells) whatever the radius.
  const int g = std::max(1, static_cast<int>(radius_px / 2.0 / ov.factor / 4.0));
  const ImageF coarse = block_mean(ov.image, g);
  hf.factor = ov.factor * g;
  hf.smooth = smooth_fill(coarse, std::max(1.0, radius_px / 2.0 / hf.factor));
  hf.dist = distance_to_valid(coarse);
  return hf;
}

// Streams the mosaic (optionally hole-filled) into a FITS with an ALPHA extension.
void write_mosaic_fits(const fs::path& path, const MosaicArtifacts& m, const FitsHeader& header, const FinalDbe& dbe,
                       const HoleFill* fill, const CancelToken* cancel) {
  const int rows = band_rows_for(m);
  FitsStreamWriter w(path, m.width, m.height, m.channels, header);
  CachedFrameReader reader(m.image, m.width, m.height, m.channels);
  std::vector<float> band;
  for (int y0 = 0; y0 < m.height; y0 += rows) {
    if (cancel != nullptr && cancel->requested()) throw RunCancelled();
    const int n = std::min(rows, m.height - y0);
    band.resize(static_cast<std::size_t>(m.channels) * n * m.width);
    reader.read_rows(y0, n, band);
    dbe.apply(band.data(), y0, n, m.width, m.channels);  // before the fill, which reads the corrected overview
    if (fill != nullptr) fill->apply(band.data(), y0, n, m.width, m.channels);
    w.write_rows(y0, n, std::span<const float>(band));
  }
  FitsHeader ah;
  ah.set("ALPHADSC", std::string("255=data, 0=no data"));
  w.add_extension_streamed("ALPHA", m.width, m.height, FitsPixelType::UInt8, ah);
  std::vector<std::uint8_t> alpha;
  for (int y0 = 0; y0 < m.height; y0 += rows) {
    const int n = std::min(rows, m.height - y0);
    band.resize(static_cast<std::size_t>(m.channels) * n * m.width);
    reader.read_rows(y0, n, band);
    if (fill != nullptr) fill->apply(band.data(), y0, n, m.width, m.channels);
    const std::size_t plane = static_cast<std::size_t>(n) * m.width;
    alpha.assign(plane, 255);
    for (int c = 0; c < m.channels; ++c)
      for (std::size_t i = 0; i < plane; ++i)
        if (!std::isfinite(band[c * plane + i])) alpha[i] = 0;
    w.write_rows(y0, n, std::span<const std::uint8_t>(alpha));
  }
  w.commit();
}

void write_coverage_fits(const fs::path& path, const MosaicArtifacts& m, const OutputGrid& grid) {
  FitsHeader h;
  grid.wcs.write_to_header(h);
  h.set("EXTNAME", std::string("COVERAGE"));
  h.set("BUNIT", std::string("count"), "frames stacked per pixel");
  const int rows = band_rows_for(m);
  FitsStreamWriter w(path, m.width, m.height, 1, h);
  CachedFrameReader reader(m.coverage, m.width, m.height, 1);
  std::vector<float> band;
  for (int y0 = 0; y0 < m.height; y0 += rows) {
    const int n = std::min(rows, m.height - y0);
    band.resize(static_cast<std::size_t>(n) * m.width);
    reader.read_rows(y0, n, band);
    w.write_rows(y0, n, std::span<const float>(band));
  }
  w.commit();
}

void write_preview(const fs::path& path, const MosaicOverview& ov, const SaveOptions& o) {
  const auto rgba = stretch_rgba(ov.image, o.preview_p_low, o.preview_p_high, o.preview_asinh_a);
  // FITS row 0 is the bottom of the sky image; PNG row 0 is the top.
  std::vector<std::uint8_t> flipped(rgba.size());
  const std::size_t stride = static_cast<std::size_t>(ov.image.width) * 4;
  for (int y = 0; y < ov.image.height; ++y)
    std::copy_n(rgba.data() + static_cast<std::size_t>(y) * stride, stride,
                flipped.data() + static_cast<std::size_t>(ov.image.height - 1 - y) * stride);
  write_png_rgba8(path, ov.image.width, ov.image.height, flipped);
}

bool outputs_reusable(const fs::path& manifest, const std::string& key, const SavedOutputs& o, EventStream& events) {
  if (!manifest_has_key(manifest, key, events)) return false;
  for (const auto& p : {o.science, o.aesthetic, o.coverage, o.preview})
    if (!p.empty() && !fs::exists(p)) return false;
  return true;
}

}  // namespace

std::string output_stem(const SaveOptions& options, int tiles, int frames) {
  return options.basename.empty() ? "zemosaic_MT" + std::to_string(tiles) + "_R" + std::to_string(frames)
                                  : options.basename;
}

SavedOutputs run_phase6(const RunContext& ctx, const SaveOptions& options, const MosaicSummary& summary,
                        const OutputGrid& grid, const MosaicArtifacts& mosaic) {
  PhaseScope scope(*ctx.progress, "6", "Save");
  EventStream& events = ctx.events();
  const std::string stem = output_stem(options, summary.master_tiles, summary.frames_used);
  SavedOutputs out;
  out.science = ctx.output_dir / (stem + options.science_suffix + ".fits");
  if (options.export_aesthetic) out.aesthetic = ctx.output_dir / (stem + options.aesthetic_suffix + ".fits");
  out.coverage = ctx.output_dir / (stem + "_coverage.fits");
  out.preview = ctx.output_dir / (stem + "_preview.png");
  const std::string key =
      hash_hex(mosaic.key + options.settings + stem + std::string(to_string(summary.route)));
  const fs::path manifest = ctx.cache.phase6_manifest();
  if (ctx.resume() && outputs_reusable(manifest, key, out, events)) {
    events.info(pipeline_keys::kResumeReused, {{"phase", "6"}, {"reused", 1}, {"total", 1}});
    out.reused = true;
    return out;
  }
  std::error_code ec;
  fs::remove(manifest, ec);
  const int steps = out.aesthetic.empty() ? 5 : 6;
  ProgressCounter counter(*ctx.progress, "save", steps);
  auto written = [&](std::string_view role, const fs::path& p) {
    events.info(pipeline_keys::kOutputWritten, {{"phase", "6"}, {"role", role}, {"path", p.string()}});
    counter.advance();
  };
  const auto t0 = std::chrono::steady_clock::now();
  const FinalDbe dbe = fit_final_dbe(mosaic, options.dbe, band_rows_for(mosaic));
  events.info(pipeline_keys::kBackgroundModel,
              dbe.event_fields(options.dbe, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
  counter.advance();
  ctx.check();
  MosaicOverview ov = build_overview(mosaic, options.preview_max_dim, band_rows_for(mosaic));
  dbe.apply(ov);
  counter.advance();
  auto header = [&](std::string_view role) {
    FitsHeader h = science_header(ctx, options, summary, grid, role);
    dbe.describe(h, options.dbe);
    return h;
  };
  write_mosaic_fits(out.science, mosaic, header("SCI"), dbe, nullptr, ctx.cancel);
  written("science", out.science);
  if (!out.aesthetic.empty()) {
    FitsHeader h = header("AESTH");
    const bool fill = options.hole_fill;
    const double radius = options.hole_fill_radius_px;
    h.set("ZMHFILL", fill, "holes near data filled from a smoothed mosaic");
    h.set("ZMHFRAD", radius, "hole fill radius (px)");
    const HoleFill hf = fill ? make_hole_fill(ov, radius) : HoleFill{};
    write_mosaic_fits(out.aesthetic, mosaic, h, dbe, fill ? &hf : nullptr, ctx.cancel);
    written("aesthetic", out.aesthetic);
  }
  write_coverage_fits(out.coverage, mosaic, grid);
  written("coverage", out.coverage);
  write_preview(out.preview, ov, options);
  written("preview", out.preview);
  write_manifest(manifest, {{"key", key}, {"science", out.science.string()}});
  return out;
}

}  // namespace zm
