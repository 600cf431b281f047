// One master tile. Pass 1 visits each frame once (whole, one at a time): detect stars on its green plane, register
// it onto the reference frame, and sample it on a fixed grid of reference pixels for normalisation and weights.
// Pass 2 streams the output in row bands: for each band every frame's needed input rows are read from the cache,
// warped onto the band, and the stack is combined pixel by pixel. A pixel's value depends only on its own samples,
// so the tile is bit-identical whatever the band height and the worker count. Memory is bands x frames, never the
// whole group.
#include "pipeline/classic/master_tile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.hpp"
#include "io/fits_stream_writer.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/classic/tile_geometry.hpp"
#include "pipeline/frame_photometry/frame_photometry.hpp"
#include "reproject/pixel_map.hpp"
#include "reproject/warp.hpp"
#include "stack/method_names.hpp"
#include "stack/robust_stats.hpp"
#include "stars/detect.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kSampleStep = 16;  // reference pixels between normalisation samples
constexpr int kMaxStars = 300;

Affine2x3 to_2x3(const Affine2D& a) { return {a.a, a.b, a.c, a.d, a.e, a.f}; }

std::vector<Star> green_stars(const ImageF& rgb) {
  DetectParams p;
  p.max_stars = kMaxStars;
  const int plane = rgb.channels >= 3 ? 1 : 0;
  return detect_stars(rgb.plane(plane), rgb.width, rgb.height, p);
}

// Values of `img` (all channels) at the reference sample grid mapped through ref -> frame, each the mean of the
// kSampleBox x kSampleBox pixels around the mapped point. Not an interpolation: the reference maps onto its own
// pixel centres, so a kernel would smooth every other frame's noise (up to 2x for bilinear at half-pixel shifts)
// but not the reference's. Nor single pixels: after debayering the noise depends on the CFA site (native samples
// vs interpolated ones), and the reference's regular grid would always hit the same site. An even box covers every
// site of the 2x2 CFA cell equally, whatever the shift, so the percentile spreads of linear_fit and the MADs of
// noise_variance compare like with like across frames; averaging also makes the spreads reflect the sky's signal
// more than its noise.
constexpr int kSampleBox = 4;

FrameSamples sample_frame(const ImageF& img, const Affine2D& ref_to_frame, int ref_w, int ref_h) {
  std::vector<Point2> pts;
  for (int y = kSampleStep / 2; y < ref_h; y += kSampleStep)
    for (int x = kSampleStep / 2; x < ref_w; x += kSampleStep) pts.push_back(ref_to_frame.apply({double(x), double(y)}));
  FrameSamples s(img.channels, pts.size());
  constexpr float kInvArea = 1.0f / (kSampleBox * kSampleBox);
  for (std::size_t i = 0; i < pts.size(); ++i) {
    const int x0 = static_cast<int>(std::floor(pts[i].x)) - (kSampleBox / 2 - 1);
    const int y0 = static_cast<int>(std::floor(pts[i].y)) - (kSampleBox / 2 - 1);
    const bool inside = std::isfinite(pts[i].x) && std::isfinite(pts[i].y) && x0 >= 0 && y0 >= 0 &&
                        x0 + kSampleBox <= img.width && y0 + kSampleBox <= img.height;
    for (int c = 0; c < img.channels; ++c) {
      float sum = 0.0f;
      if (inside)
        for (int dy = 0; dy < kSampleBox; ++dy) {
          const float* row = img.plane(c) + static_cast<std::size_t>(y0 + dy) * img.width + x0;
          for (int dx = 0; dx < kSampleBox; ++dx) sum += row[dx];
        }
      s.channel(c)[i] = inside ? sum * kInvArea : std::numeric_limits<float>::quiet_NaN();  // NaN pixels stay NaN
    }
  }
  return s;
}

// The tile's background model per channel, from the normalisation samples: at each sample position the median over
// frames of the normalised values is a low-resolution, noise-reduced view of the stack (sources are clipped by the
// fit). No pixel is read again for it.
std::vector<BackgroundModel> fit_tile_background(const std::vector<FrameSamples>& samples,
                                                 const PerFrameChannel<LinearCoeffs>& norm, int W, int H) {
  std::vector<float> xs, ys;
  for (int y = kSampleStep / 2; y < H; y += kSampleStep)
    for (int x = kSampleStep / 2; x < W; x += kSampleStep) {
      xs.push_back(static_cast<float>(x));
      ys.push_back(static_cast<float>(y));
    }
  const int C = samples.empty() ? 0 : samples.front().channels;
  std::vector<BackgroundModel> models;
  std::vector<float> stack, med(xs.size());
  for (int c = 0; c < C; ++c) {
    for (std::size_t i = 0; i < xs.size(); ++i) {
      stack.clear();
      for (std::size_t k = 0; k < samples.size(); ++k) {
        const float v = samples[k].channel(c)[i];
        if (std::isfinite(v)) stack.push_back(norm.at(static_cast<int>(k), c).apply(v));
      }
      if (stack.empty()) {
        med[i] = std::numeric_limits<float>::quiet_NaN();
        continue;
      }
      std::nth_element(stack.begin(), stack.begin() + stack.size() / 2, stack.end());
      med[i] = stack[stack.size() / 2];
    }
    models.push_back(fit_background_model(xs, ys, med, W, H));
  }
  return models;
}

// Replaces linear_fit's gains by star-flux gains against the reference where the stars give one (per channel); the
// offset still matches the low percentile of the samples (the sky), as linear_fit does.
void apply_star_gains(const std::vector<int>& members, int ref_pos, const std::vector<FrameRecord>& records,
                      const fs::path& frames_dir, const std::vector<FrameSamples>& samples, double max_fwhm,
                      PerFrameChannel<LinearCoeffs>& norm) {
  std::vector<CoaddFrame> inputs;
  for (int m : members) {
    const FrameRecord& r = records[static_cast<std::size_t>(m)];
    inputs.push_back(CoaddFrame{frames_dir / r.cache_file, r.width, r.height, r.channels, r.make_wcs()});
    inputs.back().flat = r.flat;
  }
  const auto gains = star_gains_against(inputs, ref_pos, photometry_aperture_radius(max_fwhm));
  const double lo = NormParams{}.low_percentile;
  for (int k = 0; k < norm.frames; ++k) {
    if (k == ref_pos) continue;
    for (int c = 0; c < norm.channels && c < 3; ++c) {
      const double g = gains[static_cast<std::size_t>(k)][static_cast<std::size_t>(c)];
      const double ref_lo = percentile(samples[static_cast<std::size_t>(ref_pos)].channel(c), lo);
      const double src_lo = percentile(samples[static_cast<std::size_t>(k)].channel(c), lo);
      if (!(g > 0) || !std::isfinite(ref_lo) || !std::isfinite(src_lo)) continue;
      norm.at(k, c) = {static_cast<float>(g), static_cast<float>(ref_lo - g * src_lo)};
    }
  }
}

struct Prepared {
  std::vector<Affine2D> ref_to_frame;
  std::vector<FrameSamples> samples;
  std::vector<double> fwhm;
  double photometry_fwhm = 0.0;  // widest over the frames (route_photometry.hpp): sizes the star-gain apertures
};

Prepared prepare_frames(const std::vector<int>& members, int ref_pos, const std::vector<FrameRecord>& records,
                        const fs::path& frames_dir, MasterTileResult& result) {
  const FrameRecord& ref = records[members[ref_pos]];
  Wcs ref_wcs = ref.make_wcs();
  const ImageF ref_img = CachedFrameReader(frames_dir / ref.cache_file, ref.width, ref.height, ref.channels, ref.flat).read_all();
  const std::vector<Star> ref_stars = green_stars(ref_img);
  Prepared p;
  for (std::size_t k = 0; k < members.size(); ++k) {
    const FrameRecord& r = records[members[k]];
    const ImageF img = static_cast<int>(k) == ref_pos
                           ? ref_img
                           : CachedFrameReader(frames_dir / r.cache_file, r.width, r.height, r.channels, r.flat).read_all();
    const std::vector<Star> stars = static_cast<int>(k) == ref_pos ? ref_stars : green_stars(img);
    FrameRegistration reg;
    if (static_cast<int>(k) == ref_pos) {
      reg.ok = true;
      reg.method = "identity";
      reg.matched = static_cast<int>(stars.size());
    } else {
      Wcs w = r.make_wcs();
      reg = register_frame(ref_stars, stars, wcs_predicted_affine(w, ref_wcs, r.width, r.height));
    }
    const Affine2D inv = reg.frame_to_ref.inverse();
    p.samples.push_back(sample_frame(img, inv, ref.width, ref.height));
    p.ref_to_frame.push_back(inv);
    p.fwhm.push_back(std::max(median_fwhm(stars), 0.5));
    p.photometry_fwhm = std::max(p.photometry_fwhm, photometry_fwhm(stars));
    result.registrations.push_back(std::move(reg));
  }
  return p;
}

FitsHeader tile_header(int tile_id, const std::vector<int>& members, int ref_index,
                       const std::vector<FrameRecord>& records, const MasterTileOptions& o, const TileGeometry& g) {
  const FrameRecord& ref = records[ref_index];
  FitsHeader h = FitsHeader::parse_cards(ref.header_cards);
  Wcs w = ref.make_wcs();
  w.write_to_header(h);
  // The tile's pixel (0, 0) is the reference's (x0, y0): the same projection, CRPIX moved (SIP terms are relative
  // to CRPIX, so they carry over unchanged).
  h.set("CRPIX1", h.get_double("CRPIX1").value_or(0.0) - g.x0);
  h.set("CRPIX2", h.get_double("CRPIX2").value_or(0.0) - g.y0);
  h.set("ZMT_X0", static_cast<long long>(g.x0), "tile origin on the reference frame's pixels (x)");
  h.set("ZMT_Y0", static_cast<long long>(g.y0), "tile origin on the reference frame's pixels (y)");
  h.set("ZMT_REFW", static_cast<long long>(ref.width), "reference frame width (px)");
  h.set("ZMT_REFH", static_cast<long long>(ref.height), "reference frame height (px)");
  double exposure = 0.0;
  std::string first, last;
  for (int m : members) {
    exposure += records[m].exptime_s;
    const std::string& d = records[m].date_obs;
    if (!d.empty() && (first.empty() || d < first)) first = d;
    if (!d.empty() && (last.empty() || d > last)) last = d;
  }
  h.set("ZMT_TYPE", std::string("Master Tile"));
  h.set("ZMT_ID", static_cast<long long>(tile_id));
  h.set("ZMT_NSTK", static_cast<long long>(members.size()), "frames stacked");
  h.set("ZMT_NRAW", static_cast<long long>(members.size()), "raw frames in the group");
  h.set("EXPTOTAL", exposure, "total exposure of the stacked frames (s)");
  if (!first.empty()) h.set("DATE-BEG", first);
  if (!last.empty()) h.set("DATE-END", last);
  h.set("ZMT_REF", fs::path(ref.path).filename().string(), "reference frame");
  h.set("ZMT_NORM", std::string(to_string(o.norm)));
  h.set("ZMT_WGHT", std::string(to_string(o.weight)));
  h.set("ZMT_REJ", std::string(to_string(o.reject.algo)));
  h.set("ZMT_KAPLO", static_cast<double>(o.reject.kappa_low));
  h.set("ZMT_KAPHI", static_cast<double>(o.reject.kappa_high));
  h.set("ZMT_COMB", std::string(to_string(o.reject.combine)));
  h.set("ZMT_KERN", std::string(to_string(o.kernel)));
  h.set("ALPHAEXT", 1LL, "ALPHA extension: 255 = data, 0 = no data");
  return h;
}

}  // namespace

std::uint64_t master_tile_footprint(int frames, int tile_width, int tile_height, int frame_width, int frame_height,
                                    int channels, int rows) {
  const std::uint64_t band = static_cast<std::uint64_t>(rows) * tile_width;
  const std::uint64_t stack = band * frames * (channels * sizeof(float) + 1);
  const std::uint64_t frame = static_cast<std::uint64_t>(frame_width) * frame_height * channels * sizeof(float);
  return stack + 2 * frame + band * channels * sizeof(float) * 3 +
         static_cast<std::uint64_t>(tile_width) * tile_height * 4;
}

TileGeometry group_tile_geometry(const std::vector<int>& members, const std::vector<FrameRecord>& records) {
  std::vector<const FrameRecord*> ptrs;
  for (int m : members) ptrs.push_back(&records[static_cast<std::size_t>(m)]);
  return tile_geometry(records[static_cast<std::size_t>(members[choose_reference(records, members)])], ptrs);
}

int choose_reference(const std::vector<FrameRecord>& records, const std::vector<int>& members) {
  double sx = 0, sy = 0, sz = 0;
  for (int m : members) {
    const double ra = records[m].centre.ra * M_PI / 180, dec = records[m].centre.dec * M_PI / 180;
    sx += std::cos(dec) * std::cos(ra);
    sy += std::cos(dec) * std::sin(ra);
    sz += std::sin(dec);
  }
  const SkyCoord mean{std::fmod(std::atan2(sy, sx) * 180 / M_PI + 360.0, 360.0),
                      std::atan2(sz, std::hypot(sx, sy)) * 180 / M_PI};
  int best = 0;
  for (std::size_t k = 1; k < members.size(); ++k)
    if (angular_distance_deg(records[members[k]].centre, mean) <
        angular_distance_deg(records[members[best]].centre, mean))
      best = static_cast<int>(k);
  return best;
}

namespace {

// Every member resampled onto one band of the reference grid (NaN where a member has no data there).
std::vector<ImageF> warp_members(const std::vector<int>& members, const std::vector<FrameRecord>& records,
                                 const fs::path& frames_dir, const Prepared& prep, const TileGeometry& g,
                                 const PixelRect& band, int C, Kernel kernel) {
  const int n = static_cast<int>(members.size());
  const Affine2D tile_to_ref = Affine2D::translation(g.x0, g.y0);
  std::vector<ImageF> warped(n);
  for (int k = 0; k < n; ++k) {
    const PixelMap map = affine_pixel_map(to_2x3(prep.ref_to_frame[k].compose(tile_to_ref)), band);
    // Opened per band rather than all at once: a group of thousands of frames must not exhaust descriptors.
    const FrameRecord& r = records[members[k]];
    const CachedFrameReader rd(frames_dir / r.cache_file, r.width, r.height, r.channels, r.flat);
    const RowRange need = input_rows_needed(map, kernel, rd.width(), rd.height());
    if (need.empty()) {
      warped[k] = ImageF(C, band.cols, band.rows, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    ImageF in(C, rd.width(), need.count());
    rd.read_rows(need.begin, need.count(), in.data);
    warped[k] = std::move(warp_band(InputBand{&in, need.begin, rd.height()}, map, kernel).image);
  }
  return warped;
}

// The stack of one band, channel by channel (normalised, weighted, with rejection); the green channel's kept counts
// go to `coverage`, and the tile's background model is applied.
ImageF combine_members(const std::vector<ImageF>& warped, const PerFrameChannel<float>& weights,
                       const PerFrameChannel<LinearCoeffs>& norm, const TileGeometry& g, const PixelRect& band,
                       const MasterTileOptions& o, std::vector<float>& coverage, MasterTileResult& result) {
  const int n = static_cast<int>(warped.size()), C = warped.front().channels, W = band.cols;
  ImageF out(C, W, band.rows);
  std::vector<float> kept(band.area());
  for (int c = 0; c < C; ++c) {
    std::vector<const float*> ptrs(n);
    std::vector<float> w(n);
    std::vector<LinearCoeffs> coeffs(n);
    for (int k = 0; k < n; ++k) {
      ptrs[k] = warped[k].plane(c);
      w[k] = weights.at(k, c);
      coeffs[k] = norm.at(k, c);
    }
    combine_band(ptrs.data(), w.data(), n, band.area(), o.reject, out.plane(c), kept.data(), result.stats,
                 coeffs.data());
    if (c == std::min(1, C - 1))
      std::copy(kept.begin(), kept.end(), coverage.begin() + static_cast<std::ptrdiff_t>(band.y0) * W);
    if (static_cast<std::size_t>(c) < result.background.size())
      apply_background_model(result.background[static_cast<std::size_t>(c)], out.plane(c), W, band.y0 + g.y0,
                             band.rows, g.x0);
  }
  return out;
}

// ALPHA and COVERAGE extensions, the background and rejection keys; commits the file.
void finish_tile(FitsStreamWriter& writer, int W, int H, std::vector<float> coverage, const MasterTileResult& result) {
  std::vector<std::uint8_t> alpha(coverage.size());
  for (std::size_t i = 0; i < coverage.size(); ++i) alpha[i] = coverage[i] > 0 ? 255 : 0;
  FitsExtension a{"ALPHA", W, H, std::move(alpha), {}, {}};
  FitsExtension cov{"COVERAGE", W, H, {}, std::move(coverage), {}};
  cov.header.set("BUNIT", std::string("count"), "frames kept per pixel (green channel)");
  writer.add_extension(a);
  writer.add_extension(cov);
  for (std::size_t c = 0; c < result.background.size(); ++c) {
    const BackgroundModel& b = result.background[c];
    writer.set_key(fmt::format("ZMT_BGV{}", c), b.radial ? -b.q : 0.0, "vignetting divided out (loss at the corners)");
    writer.set_key(fmt::format("ZMT_BGX{}", c), b.plane ? b.gx : 0.0, "sky plane subtracted: ADU per half-diagonal, x");
    writer.set_key(fmt::format("ZMT_BGY{}", c), b.plane ? b.gy : 0.0, "sky plane subtracted: ADU per half-diagonal, y");
  }
  writer.set_key("ZMT_REJF", result.stats.rejected_fraction(), "fraction of samples rejected");
  writer.set_key("ZMT_REJL", static_cast<long long>(result.stats.rejected_low), "samples rejected low");
  writer.set_key("ZMT_REJH", static_cast<long long>(result.stats.rejected_high), "samples rejected high");
  writer.commit();
}

}  // namespace

MasterTileResult build_master_tile(int tile_id, const std::vector<int>& members, const std::vector<FrameRecord>& records,
                                   const fs::path& frames_dir, const fs::path& tiles_dir,
                                   const MasterTileOptions& o, EventStream& events) {
  const auto t0 = std::chrono::steady_clock::now();
  MasterTileResult result;
  const int ref_pos = choose_reference(records, members);
  result.reference = members[ref_pos];
  result.frames = static_cast<int>(members.size());
  const FrameRecord& ref = records[result.reference];
  const TileGeometry g = group_tile_geometry(members, records);
  const int W = g.width, H = g.height, C = ref.channels, n = static_cast<int>(members.size());

  Prepared prep = prepare_frames(members, ref_pos, records, frames_dir, result);
  for (std::size_t k = 0; k < members.size(); ++k)
    if (result.registrations[k].method == "wcs")
      events.warn(pipeline_keys::kFrameNotRegistered, {{"phase", "3"},
                                                        {"tile", tile_id},
                                                        {"file", records[members[k]].path},
                                                        {"reason", result.registrations[k].reason}});
  auto norm = compute_normalization(o.norm, prep.samples, ref_pos);
  if (o.star_gains && o.norm == NormMethod::LinearFit && n > 1)
    apply_star_gains(members, ref_pos, records, frames_dir, prep.samples, prep.photometry_fwhm, norm);
  PerFrameChannel<float> weights = o.weight == WeightMethod::NoiseVariance ? noise_variance_weights(prep.samples, &norm)
                                   : o.weight == WeightMethod::NoiseFwhm   ? fwhm_weights(prep.fwhm, C)
                                                                           : uniform_weights(n, C);
  if (o.flatten_background) result.background = fit_tile_background(prep.samples, norm, ref.width, ref.height);
  prep.samples.clear();

  fs::create_directories(tiles_dir);
  result.path = (tiles_dir / fmt::format("master_tile_{:04d}.fits", tile_id)).string();
  FitsStreamWriter writer(result.path, W, H, C, tile_header(tile_id, members, result.reference, records, o, g));
  std::vector<float> coverage(static_cast<std::size_t>(W) * H, 0.0f);
  const int rows = std::max(1, std::min(o.rows_per_chunk, H));
  for (int y0 = 0; y0 < H; y0 += rows) {
    const PixelRect band{0, y0, W, std::min(rows, H - y0)};
    const std::vector<ImageF> warped = warp_members(members, records, frames_dir, prep, g, band, C, o.kernel);
    writer.write_rows(y0, band.rows, combine_members(warped, weights, norm, g, band, o, coverage, result).data);
  }
  finish_tile(writer, W, H, std::move(coverage), result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace zm
