// Dataset planning, FITS headers, the truth products and the parallel writer.
#include "sim/dataset.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tbb/parallel_for.h>

#include "io/atomic_file.hpp"
#include "io/fits_writer.hpp"

namespace zm::sim {
namespace {

void set_str(FitsHeader& h, std::string_view key, const std::string& v, std::string_view comment) {
  h.set(key, FitsCard::Value{v}, comment);
}
void set_num(FitsHeader& h, std::string_view key, double v, std::string_view comment) {
  h.set(key, FitsCard::Value{v}, comment);
}
void set_int(FitsHeader& h, std::string_view key, long long v, std::string_view comment) {
  h.set(key, FitsCard::Value{v}, comment);
}

}  // namespace

DatasetPlan plan_dataset(const SimConfig& config) {
  validate(config);
  DatasetPlan plan;
  plan.config = config;
  plan.frames = plan_frames(config);
  plan.hot_pixels = plan_hot_pixels(config);
  plan.sky = build_sky_model(config, plan_truth_grid(config, plan.frames));
  return plan;
}

FitsHeader frame_header(const DatasetPlan& plan, const FramePlan& f) {
  const auto& c = plan.config;
  FitsHeader h;
  set_str(h, "CREATOR", "zemosaic-cpp simulate", "Capture software (simulated Seestar S50)");
  set_str(h, "IMAGETYP", "Light", "Type of image");
  set_num(h, "EXPOSURE", c.layout.exposure_s, "Exposure time in seconds");
  set_num(h, "EXPTIME", c.layout.exposure_s, "Exposure time in seconds");
  set_num(h, "RA", f.hint.ra, "Object Right Ascension in degrees (target, not centre)");
  set_num(h, "DEC", f.hint.dec, "Object Declination in degrees (target, not centre)");
  set_str(h, "DATE-OBS", f.date_obs, "Image created time (UTC)");
  set_str(h, "FILTER", "IRCUT", "Filter used when taking image");
  set_str(h, "INSTRUME", "Seestar S50", "Camera model");
  set_str(h, "TELESCOP", "Seestar S50", "Telescope name");
  set_str(h, "BAYERPAT", "GRBG", "Bayer pattern");
  set_int(h, "GAIN", 80, "Gain setting (not e-/ADU)");
  set_num(h, "EGAIN", c.observing.gain_e_per_adu, "Electrons per ADU");
  set_num(h, "FOCALLEN", 250.0, "Focal length of telescope in mm");
  set_num(h, "XPIXSZ", 2.9, "pixel size in microns (with binning)");
  set_num(h, "YPIXSZ", 2.9, "pixel size in microns (with binning)");
  set_int(h, "XBINNING", 1, "Camera X Bin");
  set_int(h, "YBINNING", 1, "Camera Y Bin");
  set_str(h, "OBJECT", c.object, "name or catalog number of object being imaged");
  set_int(h, "SIMSEED", static_cast<long long>(c.seed & 0x7fffffffffffffffULL), "simulator seed");
  set_int(h, "SIMFRAME", f.index, "simulator frame index (see manifest.json)");
  if (f.has_wcs) f.geometry.to_wcs().write_to_header(h);
  return h;
}

ImageF render_truth(const DatasetPlan& plan) { return render_sky_rgb(plan.sky, plan.sky.truth.to_wcs(), plan.sky.fwhm_px); }

FitsHeader truth_header(const DatasetPlan& plan) {
  FitsHeader h;
  plan.sky.truth.to_wcs().write_to_header(h);
  set_str(h, "BUNIT", "ADU", "per frame exposure, before transparency/vignetting");
  set_str(h, "OBJECT", plan.config.object, "simulated field");
  set_num(h, "EXPTIME", plan.config.layout.exposure_s, "exposure the fluxes refer to (s)");
  set_num(h, "PSFFWHM", plan.sky.fwhm_px, "Moffat FWHM (px)");
  set_num(h, "PSFBETA", plan.sky.moffat_beta, "Moffat beta");
  set_str(h, "CREATOR", "zemosaic-cpp simulate", "ground truth of a simulated dataset");
  set_int(h, "SIMSEED", static_cast<long long>(plan.config.seed & 0x7fffffffffffffffULL), "simulator seed");
  h.add_comment("Noise-free sky signal: stars convolved with the PSF plus nebulosity; planes R, G, B.");
  h.add_comment("No sky background, no vignetting, transparency 1.");
  return h;
}

std::string truth_stars_csv(const SkyModel& sky) {
  std::string out = "id,ra,dec,flux_r,flux_g,flux_b,x_truth,y_truth,mag\n";
  out.reserve(out.size() + sky.stars.size() * 110);
  for (const Star& s : sky.stars)
    out += fmt::format("{},{:.10f},{:.10f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.4f}\n", s.id, s.pos.ra, s.pos.dec,
                       s.flux[0], s.flux[1], s.flux[2], s.x_truth, s.y_truth, s.mag);
  return out;
}

DatasetFiles write_dataset(const DatasetPlan& plan, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  DatasetFiles files;
  files.dir = dir;
  // Frames (and corrupt inputs) go to lights/, apart from the truth products, so `lights/` is exactly the
  // pipeline's input folder.
  const std::filesystem::path lights = dir / kLightsFolder;
  std::filesystem::create_directories(lights);
  const int n = static_cast<int>(plan.frames.size());
  files.frames.resize(n);
  tbb::parallel_for(0, n, [&](int i) {
    const FramePlan& f = plan.frames[i];
    const auto pixels = render_raw_frame(plan.inputs(i));
    write_fits_u16(lights / f.file_name, f.geometry.width, f.geometry.height, pixels, frame_header(plan, f));
    files.frames[i] = std::string(kLightsFolder) + "/" + f.file_name;
  });
  if (plan.config.write_truth) {
    files.truth = "truth.fits";
    write_fits_float(dir / files.truth, render_truth(plan), truth_header(plan));
  }
  files.stars_csv = "truth_stars.csv";
  write_text_atomic(dir / files.stars_csv, truth_stars_csv(plan.sky));
  if (plan.config.defects.corrupt) {
    files.corrupt = write_corrupt_files(plan, lights);
    for (auto& c : files.corrupt) c.file = std::string(kLightsFolder) + "/" + c.file;
  }
  files.manifest = "manifest.json";
  write_text_atomic(dir / files.manifest, build_manifest(plan, files).dump(1) + "\n");
  return files;
}

DatasetFiles write_dataset(const SimConfig& config, const std::filesystem::path& dir) {
  return write_dataset(plan_dataset(config), dir);
}

}  // namespace zm::sim
