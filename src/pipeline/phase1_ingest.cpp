// Phase 1. Inputs are read-only: nothing is moved, renamed or rewritten; every derived byte goes to the cache in the
// output folder. Frames are processed by the bounded scheduler (memory admission from the ingest plan) and committed
// in input order, so events, the manifest and the frame indices do not depend on the worker count. The manifest is
// rewritten atomically as frames complete, so a killed run resumes with the frames it already cached.
#include "pipeline/phase1_ingest.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <algorithm>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "events/event_keys.hpp"
#include "events/plan_summary.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/input_scan.hpp"
#include "pipeline/pipeline_events.hpp"
#include "pipeline/frame_cache.hpp"
#include "pipeline/preprocess.hpp"
#include "pipeline/vignetting.hpp"
#include "pipeline/wcs_acquire.hpp"
#include "plan/parallel_plan.hpp"
#include "sched/scheduler.hpp"
#include "stars/detect.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kManifestSchema = 1;
constexpr std::size_t kManifestFlushEvery = 32;

struct Outcome {
  std::optional<FrameRecord> frame;
  std::optional<SetAsideInput> set_aside;
  std::optional<PendingWcs> pending;
  bool reused = false;
};

struct PendingFrame {
  FrameRecord record;
  PendingWcs wcs;
};

PreprocessOptions options_from(const Config& cfg) {
  PreprocessOptions o;
  o.debayer = parse_debayer_method(cfg.get_string("debayer_method")).value_or(DebayerMethod::Bilinear);
  o.hot_pixels = cfg.get_bool("hot_pixel_correction");
  o.hot.threshold_sigma = static_cast<float>(cfg.get_double("hot_pixel_threshold_sigma"));
  o.wcs_bounds.min_scale_arcsec = cfg.get_double("wcs_min_pixel_scale_arcsec");
  o.wcs_bounds.max_scale_arcsec = cfg.get_double("wcs_max_pixel_scale_arcsec");
  o.limits.max_axis = cfg.get_int("input_max_axis_pixels");
  o.limits.max_pixels = cfg.get_int("input_max_pixels");
  o.acquire_missing_wcs = true;
  o.wcs_sidecar_dir = cfg.get_string("wcs_sidecar_dir");
  return o;
}

WcsAcquireSettings acquire_settings(const Config& cfg, int workers, const fs::path& work_root) {
  WcsAcquireSettings s;
  s.solver.kind = cfg.get_string("solver");
  s.solver.astap_path = cfg.get_string("solver_astap_path");
  s.solver.time_limit_s = cfg.get_double("solver_time_limit_s");
  s.solver.retries = static_cast<int>(cfg.get_int("solver_retries"));
  s.solver.search_radius_deg = cfg.get_double("solver_search_radius_deg");
  s.solver.downsample = static_cast<int>(cfg.get_int("solver_downsample"));
  s.group_radius_deg = cfg.get_double("wcs_group_radius_deg");
  s.group_max_gap_s = cfg.get_double("wcs_group_max_gap_s");
  s.propagation.max_rms_px = cfg.get_double("wcs_propagation_max_rms_px");
  s.propagation.min_matches = static_cast<int>(cfg.get_int("wcs_propagation_min_matches"));
  s.workers = std::max(1, workers);
  s.work_root = work_root;
  return s;
}

void emit_acquired(EventStream& events, const FrameRecord& r, const AcquireOutcome* o) {
  nlohmann::json f = {{"phase", "1"}, {"file", r.path}, {"provenance", r.wcs_provenance},
                      {"residual_px", r.wcs_residual_px}};
  if (o) {
    f["matches"] = o->matches;
    f["ref"] = o->ref_path;
    f["seconds"] = o->seconds;
  }
  events.info(wcs_keys_events::kWcsAcquired, std::move(f));
}

// After the parallel pass: solve / propagate the pending frames, move them into `result` or set them aside.
void acquire_pending(const RunContext& ctx, const ParallelPlan& plan, const fs::path& frames_dir,
                     const FitsReadLimits& limits,
                     std::vector<PendingFrame>& pending, IngestResult& result, std::string& solver_error) {
  const auto t0 = std::chrono::steady_clock::now();
  EventStream& events = ctx.events();
  const fs::path wcs_cache = ctx.cache_dir / "wcs";
  const fs::path work_root = ctx.cache_dir / "solve_tmp";
  fs::create_directories(wcs_cache);
  const std::size_t n_known = result.frames.size();
  std::vector<AcquireItem> items;
  for (const FrameRecord& r : result.frames) {
    AcquireItem it;
    it.path = r.path;
    it.width = r.width;
    it.height = r.height;
    it.wcs = FitsHeader::parse_cards(r.wcs_cards);
    it.position = r.centre;
    it.time_s = r.time_s;
    items.push_back(std::move(it));
  }
  for (PendingFrame& p : pending) {
    AcquireItem it;
    it.path = p.record.path;
    it.width = p.record.width;
    it.height = p.record.height;
    it.hint = p.wcs.hint;
    if (p.wcs.hint.ra_deg && p.wcs.hint.dec_deg) it.position = SkyCoord{*p.wcs.hint.ra_deg, *p.wcs.hint.dec_deg};
    it.time_s = p.record.time_s;
    it.stars = std::move(p.wcs.stars);
    items.push_back(std::move(it));
  }
  const auto ref_stars = [&](int i) -> std::vector<Star> {
    try {
      return solve_stars_from_input(result.frames.at(static_cast<std::size_t>(i)).path, limits);
    } catch (const std::exception&) {
      return {};
    }
  };
  AcquireSummary summary;
  const auto outcomes =
      acquire_wcs(items, acquire_settings(ctx.config, plan.io_workers, work_root), ref_stars, summary);
  std::error_code ec;
  fs::remove(work_root, ec);  // only when empty: failed solves keep their logs
  if (!summary.solver_unavailable.empty()) {
    solver_error = summary.solver_unavailable;
    events.error(wcs_keys_events::kSolverUnavailable,
                 {{"phase", "1"}, {"solver", ctx.config.get_string("solver")}, {"reason", solver_error}});
  }
  int unsolved = 0;
  for (std::size_t k = 0; k < pending.size(); ++k) {
    const AcquireOutcome& o = outcomes[n_known + k];
    FrameRecord& r = pending[k].record;
    bool placed = false;
    std::string reason = o.reason;
    if (o.ok) {
      try {
        describe_wcs_cards(o.wcs, o.provenance, r);
        r.wcs_residual_px = o.residual_px;
        write_text_atomic(wcs_cache_file(wcs_cache, pending[k].wcs.content_hash), r.wcs_cards);
        placed = true;
      } catch (const std::exception& e) {
        reason = e.what();
      }
    }
    if (placed) {
      emit_acquired(events, r, &o);
      result.frames.push_back(std::move(r));
      continue;
    }
    ++unsolved;
    fs::remove(frames_dir / r.cache_file, ec);
    SetAsideInput s{r.path, "no_wcs",
                    fmt::format("{}; no WCS could be acquired: {}", pending[k].wcs.header_problem,
                                reason.empty() ? std::string("unknown") : reason)};
    events.warn(pipeline_keys::kInputSetAside,
                {{"phase", "1"}, {"file", s.path}, {"kind", s.kind}, {"reason", s.reason}});
    result.set_aside.push_back(std::move(s));
  }
  std::sort(result.frames.begin(), result.frames.end(),
            [](const FrameRecord& a, const FrameRecord& b) { return a.index < b.index; });
  events.info(wcs_keys_events::kWcsAcquisitionSummary,
              {{"phase", "1"},
               {"groups", summary.groups},
               {"absolute_solves", summary.absolute_solves},
               {"absolute_failures", summary.absolute_failures},
               {"propagated", summary.propagated},
               {"solve_seconds", summary.solve_seconds},
               {"unsolved", unsolved},
               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}});
}

JobSizes ingest_job(const std::vector<InputFile>& files, const FitsReadLimits& limits) {
  JobSizes job;
  job.frames_total = files.size();
  for (const auto& f : files) {
    try {
      const FitsImageInfo info = read_fits_info(f.path.string(), limits);
      job.frame_width = info.width;
      job.frame_height = info.height;
      job.input_channels = info.channels;
      job.input_bytes_per_sample = std::max(1, std::abs(info.bitpix) / 8);
      break;
    } catch (const InputError&) {
      continue;  // reported when the file's turn comes
    }
  }
  return job;
}

std::map<std::string, FrameRecord> load_reusable(const fs::path& manifest, const std::string& config_hash) {
  std::map<std::string, FrameRecord> out;
  std::ifstream in(manifest);
  if (!in) return out;
  try {
    const auto j = nlohmann::json::parse(in);
    if (j.at("schema").get<int>() != kManifestSchema || j.at("config_hash").get<std::string>() != config_hash)
      return out;
    for (const auto& e : j.at("frames")) {
      FrameRecord r = e.get<FrameRecord>();
      out.emplace(r.path, std::move(r));
    }
  } catch (const std::exception&) {
    out.clear();  // a damaged manifest only costs recomputation
  }
  return out;
}

bool cache_is_valid(const fs::path& cache_dir, const FrameRecord& r) {
  std::error_code ec;
  const auto size = fs::file_size(cache_dir / r.cache_file, ec);
  return !ec && size == sizeof(float) * static_cast<std::uint64_t>(r.width) * r.height * r.channels;
}

void write_manifest(const fs::path& path, const std::string& config_hash, const std::vector<FrameRecord>& frames,
                    const std::vector<SetAsideInput>& set_aside) {
  nlohmann::json j = {{"schema", kManifestSchema}, {"config_hash", config_hash}, {"frames", frames}};
  j["set_aside"] = nlohmann::json::array();
  for (const auto& s : set_aside) j["set_aside"].push_back({{"path", s.path}, {"kind", s.kind}, {"reason", s.reason}});
  write_text_atomic(path, j.dump());
}

}  // namespace

std::vector<std::string_view> phase1_config_keys() {
  return {"debayer_method", "hot_pixel_correction", "hot_pixel_threshold_sigma", "wcs_min_pixel_scale_arcsec",
          "wcs_max_pixel_scale_arcsec", "input_max_axis_pixels", "input_max_pixels"};
}

namespace {

// The run's vignetting profile (vignetting.hpp), given to every frame record so that each read of a cached frame
// divides it out; the event says what was found, or why nothing is applied.
void apply_run_vignetting(EventStream& events, std::vector<FrameRecord>& frames) {
  if (frames.empty()) return;
  const VignettingEstimate v = estimate_vignetting(frames);
  for (auto& f : frames) {
    f.flat = v.flat;
    // The routes' frame offsets start from the sky median, which must be that of the frame as read (divided by the
    // flat), not of the raw frame: the two differ by ~q/2 of the sky (not written back: the manifest keeps raw).
    const double k = flattened_sky_factor(f.sky_mesh, f.flat, f.width, f.height);
    for (float& m : f.sky_median) m = static_cast<float>(m * k);
  }
  events.info(pipeline_keys::kVignettingModel, {{"phase", "1"},
                                                {"applied", v.flat.q != 0.0},
                                                {"q", v.q},
                                                {"frames", v.frames},
                                                {"width", v.flat.width},
                                                {"height", v.flat.height},
                                                {"reason", v.reason}});
}

IngestResult ingest_files(const RunContext& ctx, const std::vector<InputFile>& files,
                          std::vector<SetAsideInput> set_aside);

}  // namespace

IngestResult run_phase1(const RunContext& ctx) {
  return ingest_files(ctx, scan_input_folder(ctx.input_dir, ctx.output_dir), {});
}

IngestResult run_phase1(const RunContext& ctx, const std::vector<fs::path>& paths) {
  std::vector<InputFile> files;
  std::vector<SetAsideInput> missing;
  for (const auto& p : paths) {
    std::error_code ec;
    InputFile f;
    f.path = p;
    f.size = fs::file_size(p, ec);
    if (!ec) {
      const auto t = fs::last_write_time(p, ec);
      f.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    }
    if (ec) missing.push_back({p.string(), "not_found", "cannot read the file: " + ec.message()});
    else files.push_back(std::move(f));
  }
  return ingest_files(ctx, files, std::move(missing));
}

namespace {

IngestResult ingest_files(const RunContext& ctx, const std::vector<InputFile>& files,
                          std::vector<SetAsideInput> set_aside) {
  const auto t0 = std::chrono::steady_clock::now();
  PhaseScope scope(*ctx.progress, "1", "Preprocessing");
  EventStream& events = ctx.events();
  PreprocessOptions options = options_from(ctx.config);
  options.wcs_cache_dir = ctx.cache_dir / "wcs";
  const auto keys = phase1_config_keys();
  const std::string config_hash = ctx.config.hash_of(keys);
  const fs::path frames_dir = ctx.cache_dir / "frames";
  const fs::path manifest_path = ctx.cache_dir / "phase1_manifest.json";
  fs::create_directories(frames_dir);

  const JobSizes job = ingest_job(files, options.limits);
  const ParallelPlan plan = make_plan(PlanKind::ingest, ctx.caps, ctx.config, job);
  emit_plan_summary(events, "1", plan);
  const auto reusable = load_reusable(manifest_path, config_hash);

  IngestResult result;
  result.inputs_found = static_cast<int>(files.size() + set_aside.size());
  for (auto& s : set_aside) {
    events.warn(pipeline_keys::kInputSetAside,
                {{"phase", "1"}, {"file", s.path}, {"kind", s.kind}, {"reason", s.reason}});
    result.set_aside.push_back(std::move(s));
  }
  ProgressCounter counter(*ctx.progress, "preprocess", files.size(), std::string(event_keys::kRawFileCountUpdate));
  const std::uint64_t footprint =
      preprocess_footprint_bytes(std::max(job.frame_width, 1), std::max(job.frame_height, 1));

  SchedOptions so;
  so.workers = plan.cpu_workers;
  so.max_in_flight = std::max(1, plan.tiles_in_flight);
  so.memory_budget_bytes = plan.ram_budget_bytes;
  so.on_error = OnItemError::skip;
  so.cancel = ctx.cancel;
  so.item_name = [&](std::size_t i) { return files[i].path.string(); };
  so.on_item_failed = [&](const ItemFailure& f) {
    result.set_aside.push_back({f.name, "internal_error", f.message});
    events.warn(pipeline_keys::kInputSetAside,
                {{"phase", "1"}, {"file", f.name}, {"kind", "internal_error"}, {"reason", f.message}});
    counter.advance();
  };
  std::vector<std::size_t> order(files.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;

  auto work = [&](const std::size_t& i, WorkContext& wc) -> Outcome {
    wc.throw_if_cancelled();
    const InputFile& in = files[i];
    Outcome o;
    if (auto it = reusable.find(in.path.string()); it != reusable.end()) {
      const FrameRecord& r = it->second;
      if (r.size == in.size && r.mtime_ns == in.mtime_ns && cache_is_valid(frames_dir, r)) {
        o.frame = r;
        o.frame->index = static_cast<int>(i);
        o.reused = true;
        return o;
      }
    }
    try {
      o.frame = preprocess_frame(in, static_cast<int>(i), options, frames_dir, o.pending);
    } catch (const InputError& e) {
      o.set_aside = SetAsideInput{in.path.string(), std::string(to_string(e.kind())), e.reason()};
    }
    return o;
  };
  std::vector<PendingFrame> pending;
  auto commit = [&](const std::size_t&, Outcome&& o) {
    if (o.frame && o.pending) {
      pending.push_back({std::move(*o.frame), std::move(*o.pending)});
    } else if (o.frame) {
      if (o.frame->wcs_provenance != "header" && !o.reused) emit_acquired(events, *o.frame, nullptr);
      result.reused_from_cache += o.reused ? 1 : 0;
      result.frames.push_back(std::move(*o.frame));
    } else {
      events.warn(pipeline_keys::kInputSetAside, {{"phase", "1"},
                                                   {"file", o.set_aside->path},
                                                   {"kind", o.set_aside->kind},
                                                   {"reason", o.set_aside->reason}});
      result.set_aside.push_back(std::move(*o.set_aside));
    }
    counter.advance();
    if (counter.done() % kManifestFlushEvery == 0)
      write_manifest(manifest_path, config_hash, result.frames, result.set_aside);
  };
  const RunSummary summary = run_items<std::size_t>(order, [&](const std::size_t&) { return footprint; }, work,
                                                    commit, so);
  if (summary.cancelled) {
    write_manifest(manifest_path, config_hash, result.frames, result.set_aside);
    throw RunCancelled();
  }
  std::string solver_error;
  if (!pending.empty()) acquire_pending(ctx, plan, frames_dir, options.limits, pending, result, solver_error);
  write_manifest(manifest_path, config_hash, result.frames, result.set_aside);
  if (result.reused_from_cache > 0)
    events.info(pipeline_keys::kResumeReused,
                {{"phase", "1"}, {"reused", result.reused_from_cache}, {"total", files.size()}});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  events.info(pipeline_keys::kIngestSummary, {{"phase", "1"},
                                               {"usable", result.frames.size()},
                                               {"set_aside", result.set_aside.size()},
                                               {"found", result.inputs_found},
                                               {"seconds", seconds}});
  if (ctx.config.get_bool("vignetting_correction")) apply_run_vignetting(events, result.frames);
  if (result.frames.empty())
    throw PipelineError(fmt::format("no usable frame in {}: {} FITS file(s) found, {} set aside (see the "
                                    "INPUT_SET_ASIDE events for each reason){}",
                                    ctx.input_dir.string(), result.inputs_found, result.set_aside.size(),
                                    solver_error.empty() ? "" : "; frames without WCS need a plate solver: " +
                                                                    solver_error));
  return result;
}

}  // namespace

}  // namespace zm
