// `zemosaic simulate --out DIR ...`: writes a deterministic Seestar-S50-like dataset with its ground truth.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "sim/dataset.hpp"

namespace zm::cli {
namespace {

struct SimulateArgs {
  std::string out;
  std::string grid = "2x2";
  std::string sky_levels;
  std::string gradient_colour;
  bool no_nebula = false;
  bool no_noise = false;
  bool no_truth = false;
  sim::SimConfig config;
};

void parse_grid(const std::string& text, sim::SimConfig& c) {
  int cols = 0, rows = 0;
  char x = 0, tail = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &cols, &x, &rows, &tail) != 3 || (x != 'x' && x != 'X'))
    throw InputError(InputErrorKind::BadConfig, "simulate", "--grid must read COLSxROWS (e.g. 2x2), got '" + text + "'");
  c.layout.grid_cols = cols;
  c.layout.grid_rows = rows;
}

std::vector<double> parse_levels(const std::string& text) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      v.push_back(std::stod(item));
    } catch (const std::exception&) {
      throw InputError(InputErrorKind::BadConfig, "simulate", "--sky-levels must be numbers separated by commas");
    }
  }
  return v;
}

void run(SimulateArgs& a) {
  auto& c = a.config;
  parse_grid(a.grid, c);
  if (!a.sky_levels.empty()) c.observing.sky_levels_adu = parse_levels(a.sky_levels);
  if (!a.gradient_colour.empty()) {
    const std::vector<double> rgb = parse_levels(a.gradient_colour);
    if (rgb.size() != 3) throw InputError(InputErrorKind::BadConfig, "simulate", "--gradient-colour needs three ratios R,G,B");
    c.observing.gradient_colour = {rgb[0], rgb[1], rgb[2]};
  }
  if (a.no_nebula) c.sky.nebula = false;
  if (a.no_noise) c.observing.noise = false;
  if (a.no_truth) c.write_truth = false;

  const auto t0 = std::chrono::steady_clock::now();
  const sim::DatasetPlan plan = sim::plan_dataset(c);
  const sim::DatasetFiles files = sim::write_dataset(plan, a.out);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const auto& l = c.layout;
  int no_wcs = 0, trails = 0;
  for (const auto& f : plan.frames) {
    no_wcs += f.has_wcs ? 0 : 1;
    trails += static_cast<int>(f.trails.size());
  }
  std::cout << fmt::format("simulated {} frames ({}x{} GRBG uint16, {:.2f}\"/px): {}x{} pointings x {} frames x {} night(s), seed {}\n",
                           files.frames.size(), l.width, l.height, l.pixel_scale_arcsec, l.grid_cols, l.grid_rows,
                           l.frames_per_pointing, l.nights, c.seed);
  std::cout << fmt::format("  folder       {}\n", files.dir.string());
  std::cout << fmt::format("  frames       {} ... {}\n", files.frames.front(), files.frames.back());
  if (!files.truth.empty())
    std::cout << fmt::format("  truth        {} ({}x{} RGB float32, north-up TAN)\n", files.truth, plan.sky.truth.width,
                             plan.sky.truth.height);
  std::cout << fmt::format("  catalogue    {} ({} stars)\n", files.stars_csv, plan.sky.stars.size());
  std::cout << fmt::format("  manifest     {} ({} trails, {} hot pixels, {} frames without WCS)\n", files.manifest, trails,
                           plan.hot_pixels.size(), no_wcs);
  for (const auto& f : files.corrupt) std::cout << fmt::format("  corrupt      {} ({})\n", f.file, f.defect);
  std::cout << fmt::format("  took {:.2f} s\n", secs);
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  static SimulateArgs a;
  auto& c = a.config;
  auto* cmd = app.add_subcommand("simulate", "Write a deterministic Seestar-S50-like dataset with its ground truth");
  cmd->add_option("--out", a.out, "output folder (created)")->required();
  cmd->add_option("--grid", a.grid, "pointings, COLSxROWS")->capture_default_str();
  cmd->add_option("--frames-per-pointing", c.layout.frames_per_pointing, "frames per pointing and night")->capture_default_str();
  cmd->add_option("--nights", c.layout.nights, "observing nights (different sky levels and dates)")->capture_default_str();
  cmd->add_option("--seed", c.seed, "random seed (same seed = identical files)")->capture_default_str();
  cmd->add_option("--width", c.layout.width, "frame width in px")->capture_default_str();
  cmd->add_option("--height", c.layout.height, "frame height in px")->capture_default_str();
  cmd->add_option("--scale", c.layout.pixel_scale_arcsec, "pixel scale, arcsec/px")->capture_default_str();
  cmd->add_option("--ra", c.layout.centre.ra, "mosaic centre RA (deg)")->capture_default_str();
  cmd->add_option("--dec", c.layout.centre.dec, "mosaic centre Dec (deg)")->capture_default_str();
  cmd->add_option("--pa", c.layout.position_angle_deg, "base position angle of +Y, deg E of N (Seestar: ~ -178.7)")
      ->capture_default_str();
  cmd->add_option("--overlap", c.layout.overlap, "overlap between neighbouring pointings (fraction)")->capture_default_str();
  cmd->add_option("--dither", c.layout.dither_sigma_px, "dither sigma per axis (px)")->capture_default_str();
  cmd->add_option("--roll", c.layout.roll_deg, "per-frame roll, uniform in +-deg")->capture_default_str();
  cmd->add_flag("--altaz", c.layout.altaz, "alt-az field rotation drifting across each night");
  cmd->add_option("--altaz-deg", c.layout.altaz_rotation_deg, "field rotation reaches +-this over a night")->capture_default_str();
  cmd->add_option("--night-rotation", c.layout.night_rotation_deg, "night k's frames turned by k x this (deg)")
      ->capture_default_str();
  cmd->add_option("--drift-px", c.layout.drift_px, "each pointing's frames drift this far along x over their sequence (px)")
      ->capture_default_str();
  cmd->add_option("--exposure", c.layout.exposure_s, "exposure time (s)")->capture_default_str();
  cmd->add_option("--start", c.layout.start_utc, "UTC start of night 1, YYYY-MM-DDTHH:MM:SS")->capture_default_str();
  cmd->add_option("--object", c.object, "OBJECT name (also in file names)")->capture_default_str();
  cmd->add_option("--star-density", c.sky.star_density_per_deg2, "stars per deg2 brighter than the limit")->capture_default_str();
  cmd->add_option("--mag-limit", c.sky.mag_limit, "faintest magnitude")->capture_default_str();
  cmd->add_option("--fwhm", c.sky.fwhm_px, "PSF FWHM (px)")->capture_default_str();
  cmd->add_option("--beta", c.sky.moffat_beta, "Moffat beta")->capture_default_str();
  cmd->add_option("--seeing-var", c.sky.seeing_variation, "per-frame relative FWHM sigma")->capture_default_str();
  cmd->add_flag("--no-nebula", a.no_nebula, "no extended nebulosity");
  cmd->add_option("--sky-levels", a.sky_levels, "green sky level per night, ADU, comma separated (default 900,650)");
  cmd->add_option("--gradient", c.observing.gradient_fraction, "sky gradient across the frame diagonal (fraction)")
      ->capture_default_str();
  cmd->add_option("--gradient-colour", a.gradient_colour,
                  "channel / green ratios of the light-pollution gradient, R,G,B (default: the sky's colour; "
                  "sodium-like glow: 1.4,1,0.55)");
  cmd->add_option("--gradient-rotation", c.observing.gradient_rotation_deg,
                  "with --altaz: the gradient's direction on the sensor turns by +-this over a night (deg)")
      ->capture_default_str();
  cmd->add_option("--vignetting", c.observing.vignetting, "relative loss at the corners (0 = none)")->capture_default_str();
  cmd->add_option("--hot-fraction", c.observing.hot_pixel_fraction, "fraction of hot sensor pixels")->capture_default_str();
  cmd->add_flag("--no-noise", a.no_noise, "no Poisson/read noise (expected values, rounded)");
  cmd->add_option("--trail-fraction", c.defects.trail_fraction, "fraction of frames with a satellite/plane trail")
      ->capture_default_str();
  cmd->add_option("--drop-wcs", c.defects.drop_wcs, "number of frames written without WCS (RA/DEC hint only)")
      ->capture_default_str();
  cmd->add_flag("--corrupt", c.defects.corrupt, "also write corrupt files (truncated, text, all-NaN, empty)");
  cmd->add_flag("--no-truth", a.no_truth, "skip truth.fits (large for big mosaics)");
  cmd->callback([] { run(a); });
}

}  // namespace zm::cli
