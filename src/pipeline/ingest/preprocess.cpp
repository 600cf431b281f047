#include "pipeline/ingest/preprocess.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "image/sensor_flat.hpp"
#include "pipeline/model/frame_cache.hpp"
#include "solve/sidecar.hpp"
#include "stars/cfa_detect.hpp"
#include "wcs/geometry.hpp"

namespace zm {
namespace {

// Header cards worth carrying from frames to master tiles.
constexpr const char* kCopiedKeys[] = {"OBJECT", "FILTER", "INSTRUME", "TELESCOP", "FOCALLEN", "XPIXSZ", "YPIXSZ",
                                       "GAIN", "OFFSET", "CREATOR"};

bool is_cfa(const FitsImageInfo& info) {
  if (info.channels != 1) return false;
  auto has_text = [&](const char* key) {
    auto v = info.header.get_string(key);
    return v && v->find_first_not_of(' ') != std::string::npos;
  };
  return has_text("BAYERPAT") || has_text("CFAIMAGE");
}

std::string copied_cards(const FitsHeader& h) {
  FitsHeader out;
  for (const char* key : kCopiedKeys)
    if (const FitsCard* c = h.find(key)) out.set(key, c->value, c->comment);
  return out.to_card_string();
}

std::string cache_name(const InputFile& in, int index) {
  return fmt::format("frame_{:06d}_{}.f32", index,
                     hash_hex(fmt::format("{}|{}|{}", in.path.string(), in.size, in.mtime_ns)).substr(0, 16));
}

// The smallest rectangle holding every pixel whose channels are all finite ({0, 0, 0, 0} when none is).
std::array<int, 4> data_box(const ImageF& image) {
  int x0 = image.width, y0 = image.height, x1 = 0, y1 = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      bool all = true;
      for (int c = 0; c < image.channels && all; ++c) all = std::isfinite(image.at(c, y, x));
      if (!all) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
      y0 = std::min(y0, y), y1 = std::max(y1, y + 1);
    }
  return x1 > x0 ? std::array<int, 4>{x0, y0, x1, y1} : std::array<int, 4>{0, 0, 0, 0};
}

// Sidecar next to the input (or in the sidecar folder), then the solution cache: the cheap WCS sources.
bool known_wcs(const InputFile& input, const FitsImageInfo& info, const PreprocessOptions& options,
               const std::string& content_hash, FrameRecord& r) {
  auto accept = [&](const FitsHeader& h, const char* provenance) {
    if (!validate_wcs_header(h, options.wcs_bounds, info.width, info.height).ok) return false;
    try {
      describe_wcs_cards(h, provenance, r);
      return true;
    } catch (const InputError&) {
      return false;
    }
  };
  for (const auto& p : sidecar_candidates(input.path, options.wcs_sidecar_dir))
    if (auto h = read_wcs_sidecar(p); h && accept(*h, "sidecar")) return true;
  if (!options.wcs_cache_dir.empty())
    if (auto h = read_wcs_sidecar(wcs_cache_file(options.wcs_cache_dir, content_hash)); h && accept(*h, "cache"))
      return true;
  return false;
}

}  // namespace

std::vector<Star> solve_stars(const ImageF& image, const FitsImageInfo& info, bool cfa) {
  DetectParams p;
  p.max_stars = 400;
  StarDetector det(p);
  if (cfa)
    return det.detect_cfa(image.plane(0), image.width, image.height, bayer_pattern_from_header(info.header),
                          CfaDetectMode::Binned2x2);
  if (image.channels == 1) return det.detect(image.plane(0), image.width, image.height);
  std::vector<float> lum(image.plane_size(), 0.0f);
  for (int c = 0; c < image.channels; ++c) {
    const float* src = image.plane(c);
    for (std::size_t k = 0; k < lum.size(); ++k) lum[k] += src[k] / static_cast<float>(image.channels);
  }
  return det.detect(lum.data(), image.width, image.height);
}

std::vector<Star> solve_stars_from_input(const std::string& path, const FitsReadLimits& limits) {
  FitsImageReader reader(path, limits);
  const ImageF raw = reader.read_all(true);
  return solve_stars(raw, reader.info(), is_cfa(reader.info()));
}

std::filesystem::path wcs_cache_file(const std::filesystem::path& dir, const std::string& content_hash) {
  return dir / (content_hash + ".wcs");
}

void describe_wcs_cards(const FitsHeader& h, const std::string& provenance, FrameRecord& record) {
  Wcs wcs = Wcs::from_header(h, record.path, record.width, record.height);
  FitsHeader cards;
  wcs.write_to_header(cards);
  record.wcs_cards = cards.to_card_string();
  record.wcs_provenance = provenance;
  record.centre = image_centre(wcs);
  record.position_angle_deg = position_angle_deg(wcs);
  record.scale_arcsec = pixel_scale_arcsec(wcs);
}

std::uint64_t preprocess_footprint_bytes(int width, int height) {
  const std::uint64_t plane = static_cast<std::uint64_t>(width) * height * sizeof(float);
  return plane * 6;  // raw plane, hot-pixel copy, 3 RGB planes, statistics scratch
}

void sky_statistics(const ImageF& image, std::array<float, 3>& median, std::array<float, 3>& sigma) {
  median.fill(0.0f);
  sigma.fill(0.0f);
  const int step = std::max(1, static_cast<int>(std::sqrt(static_cast<double>(image.plane_size()) / 200000.0)));
  std::vector<float> s;
  for (int c = 0; c < std::min(image.channels, 3); ++c) {
    s.clear();
    for (int y = step / 2; y < image.height; y += step)
      for (int x = step / 2; x < image.width; x += step) {
        const float v = image.at(c, y, x);
        if (std::isfinite(v)) s.push_back(v);
      }
    if (s.empty()) continue;
    auto mid = s.begin() + static_cast<std::ptrdiff_t>(s.size() / 2);
    std::nth_element(s.begin(), mid, s.end());
    const float m = *mid;
    for (float& v : s) v = std::fabs(v - m);
    std::nth_element(s.begin(), mid, s.end());
    median[c] = m;
    sigma[c] = 1.4826f * *mid;
  }
}

void describe_wcs(const FitsImageInfo& info, const WcsBounds& bounds, FrameRecord& record) {
  const WcsValidation v = validate_wcs_header(info.header, bounds, info.width, info.height);
  if (!v.ok) {
    const bool missing = !info.header.has("CTYPE1") && !info.header.has("CTYPE2");
    throw InputError(missing ? InputErrorKind::NoWcs : InputErrorKind::BadWcs, info.path, "WCS: " + v.reason);
  }
  Wcs wcs = Wcs::from_header(info.header, info.path, info.width, info.height);
  FitsHeader cards;
  wcs.write_to_header(cards);
  record.wcs_cards = cards.to_card_string();
  record.wcs_provenance = "header";
  record.centre = image_centre(wcs);
  record.position_angle_deg = position_angle_deg(wcs);
  record.scale_arcsec = pixel_scale_arcsec(wcs);
}

FrameRecord preprocess_frame(const InputFile& input, int index, const PreprocessOptions& options,
                             const std::filesystem::path& cache_dir) {
  std::optional<PendingWcs> pending;
  PreprocessOptions strict = options;
  strict.acquire_missing_wcs = false;
  return preprocess_frame(input, index, strict, cache_dir, pending);
}

FrameRecord preprocess_frame(const InputFile& input, int index, const PreprocessOptions& options,
                             const std::filesystem::path& cache_dir, std::optional<PendingWcs>& pending) {
  pending.reset();
  FitsImageReader reader(input.path.string(), options.limits);
  const FitsImageInfo& info = reader.info();
  FrameRecord r;
  r.index = index;
  r.path = input.path.string();
  r.size = input.size;
  r.mtime_ns = input.mtime_ns;
  r.width = info.width;
  r.height = info.height;
  ImageF image = reader.read_all(/*reject_all_nan=*/true);  // before the WCS: a data defect is the first problem
  try {
    describe_wcs(info, options.wcs_bounds, r);
  } catch (const InputError& e) {
    const bool wcs_problem = e.kind() == InputErrorKind::NoWcs || e.kind() == InputErrorKind::BadWcs;
    if (!options.acquire_missing_wcs || !wcs_problem) throw;
    const std::string hash = file_content_hash(input.path);
    if (!known_wcs(input, info, options, hash, r)) {
      pending.emplace();
      pending->hint = solve_hint_from_header(info.header);
      pending->content_hash = hash;
      pending->header_problem = e.reason();
      r.wcs_provenance = "pending";
    }
  }
  r.exptime_s = info.header.get_double("EXPTIME").value_or(info.header.get_double_or("EXPOSURE", 0.0));
  r.date_obs = info.header.get_string("DATE-OBS").value_or("");
  r.time_s = parse_fits_date(r.date_obs).value_or(0.0);
  r.header_cards = copied_cards(info.header);

  if (is_cfa(info)) {
    const BayerPattern pattern = bayer_pattern_from_header(info.header);
    r.bayer_pattern = std::string(to_string(pattern));
    if (options.hot_pixels) r.hot_pixels = correct_hot_pixels_cfa(image, pattern, options.hot);
    if (pending) pending->stars = solve_stars(image, info, true);
    image = debayer(image, pattern, options.debayer);
  } else if (options.hot_pixels) {
    r.hot_pixels = correct_hot_pixels(image, options.hot);
  }
  if (pending && pending->stars.empty()) pending->stars = solve_stars(image, info, false);
  r.channels = image.channels;
  sky_statistics(image, r.sky_median, r.sky_sigma);
  const int green = image.channels >= 3 ? 1 : 0;
  r.sky_mesh = sky_mesh(image, green, r.sky_median[static_cast<std::size_t>(green)]);
  r.data_box = data_box(image);
  r.cache_file = cache_name(input, index);
  write_cached_frame(cache_dir / r.cache_file, image);
  return r;
}

}  // namespace zm
