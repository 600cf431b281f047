#include "plan/input_survey.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <numbers>
#include <numeric>
#include <optional>

#include "core/error.hpp"
#include "io/fits_reader.hpp"
#include "wcs/geometry.hpp"
#include "wcs/validate.hpp"
#include "wcs/wcs.hpp"

namespace zm {
namespace {

constexpr double kDegPerRad = 180.0 / std::numbers::pi;
// Arcseconds per radian: pixel scale = 206264.8 * pixel size / focal length (same units), i.e. 206.265 with the
// pixel size in micrometres and the focal length in millimetres.
constexpr double kArcsecPerRadian = 206264.806;

bool has_fits_suffix(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".fit" || ext == ".fits" || ext == ".fts";
}

void locate_from_header(const FitsImageInfo& info, SurveyedFrame& f) {
  const WcsValidation v = validate_wcs_header(info.header, {}, info.width, info.height);
  if (v.ok) {
    try {
      Wcs wcs = Wcs::from_header(info.header, info.path, info.width, info.height);
      const SkyCoord c = image_centre(wcs);
      f.ra_deg = c.ra;
      f.dec_deg = c.dec;
      f.scale_arcsec = pixel_scale_arcsec(wcs);
      f.has_centre = f.centre_from_wcs = true;
      return;
    } catch (const std::exception&) {
      // fall through to the keywords
    }
  }
  const auto ra = info.header.get_double("RA");
  const auto dec = info.header.get_double("DEC");
  if (ra && dec && std::isfinite(*ra) && std::isfinite(*dec) && std::abs(*dec) <= 90.0) {
    f.ra_deg = *ra;
    f.dec_deg = *dec;
    f.has_centre = true;
  }
  const auto pixel_um = info.header.get_double("XPIXSZ");
  const auto focal_mm = info.header.get_double("FOCALLEN");
  if (pixel_um && focal_mm && *pixel_um > 0 && *focal_mm > 0)
    f.scale_arcsec = kArcsecPerRadian * 1e-3 * *pixel_um * info.header.get_double_or("XBINNING", 1.0) / *focal_mm;
}

std::optional<SurveyedFrame> survey_file(const std::string& path, std::string& error) {
  try {
    const FitsImageInfo info = read_fits_info(path);
    SurveyedFrame f;
    f.path = path;
    f.width = info.width;
    f.height = info.height;
    f.channels = info.channels;
    f.bitpix = info.bitpix;
    f.cfa = info.channels == 1 && (info.header.has("BAYERPAT") || info.header.has("CFAIMAGE"));
    locate_from_header(info, f);
    return f;
  } catch (const InputError& e) {
    error = e.what();
  } catch (const std::exception& e) {
    error = path + ": " + e.what();
  }
  return std::nullopt;
}

// Gnomonic projection about (ra0, dec0), in degrees on the tangent plane.
std::pair<double, double> tangent_offsets(double ra, double dec, double ra0, double dec0) {
  const double a = ra / kDegPerRad, d = dec / kDegPerRad, a0 = ra0 / kDegPerRad, d0 = dec0 / kDegPerRad;
  const double cos_c = std::sin(d0) * std::sin(d) + std::cos(d0) * std::cos(d) * std::cos(a - a0);
  const double x = std::cos(d) * std::sin(a - a0) / cos_c;
  const double y = (std::cos(d0) * std::sin(d) - std::sin(d0) * std::cos(d) * std::cos(a - a0)) / cos_c;
  return {x * kDegPerRad, y * kDegPerRad};
}

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(static_cast<size_t>(n)) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int i) {
    while (parent[static_cast<size_t>(i)] != i) i = parent[static_cast<size_t>(i)] = parent[static_cast<size_t>(parent[static_cast<size_t>(i)])];
    return i;
  }
  void unite(int a, int b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

// Sizes of the connected components of points closer than `threshold` (grid-hashed, linear time).
std::vector<std::uint64_t> link_groups(const std::vector<std::pair<double, double>>& xy, double threshold) {
  const int n = static_cast<int>(xy.size());
  UnionFind uf(n);
  std::map<std::pair<long long, long long>, std::vector<int>> cells;
  auto cell_of = [&](const std::pair<double, double>& p) {
    return std::pair<long long, long long>(static_cast<long long>(std::floor(p.first / threshold)),
                                           static_cast<long long>(std::floor(p.second / threshold)));
  };
  for (int i = 0; i < n; ++i) cells[cell_of(xy[static_cast<size_t>(i)])].push_back(i);
  for (int i = 0; i < n; ++i) {
    const auto [cx, cy] = cell_of(xy[static_cast<size_t>(i)]);
    for (long long dx = -1; dx <= 1; ++dx)
      for (long long dy = -1; dy <= 1; ++dy) {
        const auto it = cells.find({cx + dx, cy + dy});
        if (it == cells.end()) continue;
        for (int j : it->second) {
          const double ex = xy[static_cast<size_t>(i)].first - xy[static_cast<size_t>(j)].first;
          const double ey = xy[static_cast<size_t>(i)].second - xy[static_cast<size_t>(j)].second;
          if (j > i && std::hypot(ex, ey) <= threshold) uf.unite(i, j);
        }
      }
  }
  std::map<int, std::uint64_t> sizes;
  for (int i = 0; i < n; ++i) ++sizes[uf.find(i)];
  std::vector<std::uint64_t> out;
  for (const auto& [root, size] : sizes) out.push_back(size);
  return out;
}

// Mean direction of the centres (robust to the RA wrap at 0/360).
std::pair<double, double> mean_direction(const std::vector<const SurveyedFrame*>& frames) {
  double x = 0, y = 0, z = 0;
  for (const auto* f : frames) {
    const double a = f->ra_deg / kDegPerRad, d = f->dec_deg / kDegPerRad;
    x += std::cos(d) * std::cos(a);
    y += std::cos(d) * std::sin(a);
    z += std::sin(d);
  }
  double ra = std::atan2(y, x) * kDegPerRad;
  if (ra < 0) ra += 360.0;
  return {ra, std::atan2(z, std::hypot(x, y)) * kDegPerRad};
}

}  // namespace

InputSurvey survey_input_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw InputError(InputErrorKind::NotFound, dir.string(), "input folder does not exist or is not a folder");
  std::vector<std::string> paths;
  const auto opts = std::filesystem::directory_options::skip_permission_denied;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, opts, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && has_fits_suffix(it->path())) paths.push_back(it->path().string());
  }
  std::sort(paths.begin(), paths.end());

  std::vector<std::optional<SurveyedFrame>> frames(paths.size());
  std::vector<std::string> errors(paths.size());
  tbb::parallel_for(tbb::blocked_range<size_t>(0, paths.size()), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i != r.end(); ++i) frames[i] = survey_file(paths[i], errors[i]);
  });
  InputSurvey survey;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (frames[i]) survey.frames.push_back(std::move(*frames[i]));
    else survey.skipped.push_back(errors[i]);
  }
  return survey;
}

JobSizes job_sizes_from_survey(const InputSurvey& survey, double cluster_threshold_deg) {
  JobSizes j;
  j.frames_total = survey.frames.size();
  if (survey.frames.empty()) {
    j.notes.push_back("no readable FITS frame: sizes unknown");
    return j;
  }
  bool any_cfa = false;
  int max_channels = 1, max_in_bytes = 1;
  for (const auto& f : survey.frames) {
    j.frame_width = std::max(j.frame_width, f.width);
    j.frame_height = std::max(j.frame_height, f.height);
    any_cfa = any_cfa || f.cfa;
    max_channels = std::max(max_channels, f.channels);
    max_in_bytes = std::max(max_in_bytes, std::abs(f.bitpix) / 8);
  }
  j.input_channels = max_channels;
  j.input_bytes_per_sample = max_in_bytes;
  j.frame_channels = any_cfa ? 3 : max_channels;
  j.output_channels = j.frame_channels;
  j.notes.push_back(fmt::format("{} frames, largest {} x {} x {} (BITPIX {} B/sample), working channels {}{}",
                                j.frames_total, j.frame_width, j.frame_height, j.input_channels, max_in_bytes,
                                j.frame_channels, any_cfa ? " (Bayer frames are debayered)" : ""));

  std::vector<const SurveyedFrame*> located;
  std::vector<double> scales;
  bool any_keyword_centre = false;
  for (const auto& f : survey.frames) {
    if (f.has_centre) located.push_back(&f);
    if (f.scale_arcsec > 0) scales.push_back(f.scale_arcsec);
    any_keyword_centre = any_keyword_centre || (f.has_centre && !f.centre_from_wcs);
  }
  const std::uint64_t unlocated = j.frames_total - located.size();
  std::uint64_t largest = 0;
  double spread_x = 0, spread_y = 0;
  if (!located.empty()) {
    const auto [ra0, dec0] = mean_direction(located);
    std::vector<std::pair<double, double>> xy;
    double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    for (const auto* f : located) {
      xy.push_back(tangent_offsets(f->ra_deg, f->dec_deg, ra0, dec0));
      x0 = std::min(x0, xy.back().first), x1 = std::max(x1, xy.back().first);
      y0 = std::min(y0, xy.back().second), y1 = std::max(y1, xy.back().second);
    }
    spread_x = x1 - x0;
    spread_y = y1 - y0;
    const auto sizes = link_groups(xy, cluster_threshold_deg);
    j.groups = sizes.size();
    largest = *std::max_element(sizes.begin(), sizes.end());
    j.notes.push_back(fmt::format("groups estimated from {} frame centres ({}) linked within {} deg: {} groups, largest {}"
                                  " frames",
                                  located.size(), any_keyword_centre ? "RA/DEC keywords: target, not solved centres" : "WCS",
                                  cluster_threshold_deg, j.groups, largest));
  }
  if (unlocated > 0) {
    const std::uint64_t assumed = (unlocated + kAssumedFramesPerGroup - 1) / kAssumedFramesPerGroup;
    j.groups += assumed;
    largest = std::max<std::uint64_t>(largest, std::min<std::uint64_t>(unlocated, kAssumedFramesPerGroup));
    j.notes.push_back(fmt::format("{} frames without a centre: groups unknown before clustering, assumed frames / {} = {}",
                                  unlocated, kAssumedFramesPerGroup, assumed));
  }
  j.max_frames_per_group = largest;
  j.tile_width = j.frame_width;
  j.tile_height = j.frame_height;
  j.megatiles = (j.frames_total + plan_constants::kSdsFramesPerBatch - 1) / plan_constants::kSdsFramesPerBatch;

  const int extent = std::max(j.frame_width, j.frame_height);  // orientation unknown: a frame may lie either way
  if (!located.empty() && !scales.empty() && unlocated == 0) {
    std::nth_element(scales.begin(), scales.begin() + static_cast<long>(scales.size() / 2), scales.end());
    const double scale = scales[scales.size() / 2];
    j.output_width = static_cast<int>(std::ceil(spread_x * 3600.0 / scale)) + extent;
    j.output_height = static_cast<int>(std::ceil(spread_y * 3600.0 / scale)) + extent;
    j.notes.push_back(fmt::format("output grid estimated {} x {} from the centres' spread {:.3f} x {:.3f} deg at {:.3f}\"/px "
                                  "plus one frame",
                                  j.output_width, j.output_height, spread_x, spread_y, scale));
  } else {
    const int side = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(std::max<std::uint64_t>(1, j.groups)))));
    j.output_width = j.frame_width * side;
    j.output_height = j.frame_height * side;
    j.notes.push_back(fmt::format("output grid unknown (no centres or pixel scale): assumed {} x {} frames = {} x {}",
                                  side, side, j.output_width, j.output_height));
  }
  return j;
}

}  // namespace zm
