// Phase 1. Inputs are read-only: nothing is moved, renamed or rewritten; every derived byte goes to the cache in the
// output folder. Frames are processed by the bounded scheduler (memory admission from the ingest plan) and committed
// in input order, so events, the manifest and the frame indices do not depend on the worker count. The manifest is
// rewritten atomically as frames complete, so a killed run resumes with the frames it already cached.
#include "pipeline/ingest/phase1_ingest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "events/event_keys.hpp"
#include "events/plan_summary.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "pipeline/ingest/preprocess.hpp"
#include "pipeline/ingest/vignetting.hpp"
#include "pipeline/ingest/wcs_acquire.hpp"
#include "io/atomic_file.hpp"
#include "pipeline/model/manifest.hpp"
#include "pipeline/pipeline_events.hpp"
#include "plan/parallel_plan.hpp"
#include "sched/scheduler.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

constexpr int kManifestSchema = 2;  // 2: frames carry their data box
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

// Every input left out of the run goes through here: the warning and the result list always agree.
void set_aside(EventStream& events, IngestResult& result, SetAsideInput s) {
  events.warn(pipeline_keys::kInputSetAside, {{"phase", "1"}, {"file", s.path}, {"kind", s.kind}, {"reason", s.reason}});
  result.set_aside.push_back(std::move(s));
}

void emit_acquired(EventStream& events, const FrameRecord& r, const AcquireOutcome* o) {
  nlohmann::json f = {{"phase", "1"}, {"file", r.path}, {"provenance", r.wcs_provenance},
                      {"residual_px", r.wcs_residual_px}};
  if (o) {
    f["matches"] = o->matches;
    f["ref"] = o->ref_path;
    f["seconds"] = o->seconds;
  }
  events.info(pipeline_keys::kWcsAcquired, std::move(f));
}

AcquireItem item_of(const FrameRecord& r) {
  AcquireItem it;
  it.path = r.path;
  it.width = r.width;
  it.height = r.height;
  it.time_s = r.time_s;
  return it;
}

// Frames with a WCS first (references), then the pending ones (to acquire), in that order.
std::vector<AcquireItem> acquire_items(const std::vector<FrameRecord>& known, std::vector<PendingFrame>& pending) {
  std::vector<AcquireItem> items;
  for (const FrameRecord& r : known) {
    AcquireItem it = item_of(r);
    it.wcs = FitsHeader::parse_cards(r.wcs_cards);
    it.position = r.centre;
    items.push_back(std::move(it));
  }
  for (PendingFrame& p : pending) {
    AcquireItem it = item_of(p.record);
    it.hint = p.wcs.hint;
    if (p.wcs.hint.ra_deg && p.wcs.hint.dec_deg) it.position = SkyCoord{*p.wcs.hint.ra_deg, *p.wcs.hint.dec_deg};
    it.stars = std::move(p.wcs.stars);
    items.push_back(std::move(it));
  }
  return items;
}

// The acquired WCS into the record (and the solution cache); the reason when it cannot be used.
std::string place_acquired(const AcquireOutcome& o, const fs::path& wcs_cache, PendingFrame& p) {
  if (!o.ok) return o.reason.empty() ? std::string("unknown") : o.reason;
  try {
    describe_wcs_cards(o.wcs, o.provenance, p.record);
    p.record.wcs_residual_px = o.residual_px;
    write_text_atomic(wcs_cache_file(wcs_cache, p.wcs.content_hash), p.record.wcs_cards);
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

struct AcquireReport {
  AcquireSummary summary;
  int unsolved = 0;
  double seconds = 0.0;
};

void emit_acquisition_summary(EventStream& events, const AcquireReport& r) {
  events.info(pipeline_keys::kWcsAcquisitionSummary, {{"phase", "1"},
                                                       {"groups", r.summary.groups},
                                                       {"absolute_solves", r.summary.absolute_solves},
                                                       {"absolute_failures", r.summary.absolute_failures},
                                                       {"propagated", r.summary.propagated},
                                                       {"solve_seconds", r.summary.solve_seconds},
                                                       {"unsolved", r.unsolved},
                                                       {"seconds", r.seconds}});
}

// After the parallel pass: solve / propagate the pending frames, move them into `result` or set them aside.
// Returns why no solver could be used (empty when one was).
std::string acquire_pending(const RunContext& ctx, const IngestOptions& options, const ParallelPlan& plan,
                            std::vector<PendingFrame>& pending, IngestResult& result) {
  const auto t0 = std::chrono::steady_clock::now();
  EventStream& events = ctx.events();
  const fs::path wcs_cache = ctx.cache.wcs_solutions();
  fs::create_directories(wcs_cache);
  const std::size_t n_known = result.frames.size();
  std::vector<AcquireItem> items = acquire_items(result.frames, pending);
  const auto ref_stars = [&](int i) -> std::vector<Star> {
    try {
      return solve_stars_from_input(result.frames.at(static_cast<std::size_t>(i)).path, options.preprocess.limits);
    } catch (const std::exception&) {
      return {};  // a reference without stars only cannot serve as one
    }
  };
  WcsAcquireSettings settings = options.acquire;
  settings.workers = std::max(1, plan.io_workers);
  settings.work_root = ctx.cache.solve_scratch();
  AcquireReport report;
  const auto outcomes = acquire_wcs(items, settings, ref_stars, report.summary);
  std::error_code ec;
  fs::remove(settings.work_root, ec);  // only when empty: failed solves keep their logs
  if (!report.summary.solver_unavailable.empty())
    events.error(pipeline_keys::kSolverUnavailable,
                 {{"phase", "1"}, {"solver", settings.solver.kind}, {"reason", report.summary.solver_unavailable}});
  for (std::size_t k = 0; k < pending.size(); ++k) {
    PendingFrame& p = pending[k];
    const std::string why = place_acquired(outcomes[n_known + k], wcs_cache, p);
    if (why.empty()) {
      emit_acquired(events, p.record, &outcomes[n_known + k]);
      result.frames.push_back(std::move(p.record));
      continue;
    }
    ++report.unsolved;
    fs::remove(ctx.cache.frames() / p.record.cache_file, ec);
    set_aside(events, result,
              {p.record.path, "no_wcs", fmt::format("{}; no WCS could be acquired: {}", p.wcs.header_problem, why)});
  }
  std::sort(result.frames.begin(), result.frames.end(),
            [](const FrameRecord& a, const FrameRecord& b) { return a.index < b.index; });
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  emit_acquisition_summary(events, report);
  return report.summary.solver_unavailable;
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

// Records of an earlier run with the same Phase 1 settings, by input path.
std::map<std::string, FrameRecord> load_reusable(const fs::path& manifest, const std::string& settings,
                                                 EventStream& events) {
  using Records = std::map<std::string, FrameRecord>;
  return read_manifest<Records>(manifest, events, [&](const nlohmann::json& j) {
           Records out;
           if (j.at("schema").get<int>() != kManifestSchema || j.at("config_hash").get<std::string>() != settings)
             return out;
           for (const auto& e : j.at("frames")) {
             FrameRecord r = e.get<FrameRecord>();
             out.emplace(r.path, std::move(r));
           }
           return out;
         }).value_or(Records{});
}

bool cache_is_valid(const fs::path& frames_dir, const FrameRecord& r) {
  std::error_code ec;
  const auto size = fs::file_size(frames_dir / r.cache_file, ec);
  return !ec && size == sizeof(float) * static_cast<std::uint64_t>(r.width) * r.height * r.channels;
}

void save_manifest(const fs::path& path, const std::string& settings, const IngestResult& result) {
  nlohmann::json j = {{"schema", kManifestSchema}, {"config_hash", settings}, {"frames", result.frames}};
  j["set_aside"] = nlohmann::json::array();
  for (const auto& s : result.set_aside)
    j["set_aside"].push_back({{"path", s.path}, {"kind", s.kind}, {"reason", s.reason}});
  write_manifest(path, j);
}

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

// One frame: reused from an earlier run's cache when its file and cache are unchanged, else preprocessed.
Outcome ingest_one(const InputFile& in, int index, const std::map<std::string, FrameRecord>& reusable,
                   const PreprocessOptions& options, const fs::path& frames_dir) {
  Outcome o;
  if (auto it = reusable.find(in.path.string()); it != reusable.end()) {
    const FrameRecord& r = it->second;
    if (r.size == in.size && r.mtime_ns == in.mtime_ns && cache_is_valid(frames_dir, r)) {
      o.frame = r;
      o.frame->index = index;
      o.reused = true;
      return o;
    }
  }
  try {
    o.frame = preprocess_frame(in, index, options, frames_dir, o.pending);
  } catch (const InputError& e) {
    o.set_aside = SetAsideInput{in.path.string(), std::string(to_string(e.kind())), e.reason()};
  }
  return o;
}

// The parallel pass over the files: every outcome committed in input order into `result` or `pending`.
void preprocess_all(const RunContext& ctx, const std::vector<InputFile>& files, const PreprocessOptions& options,
                    const ParallelPlan& plan, const JobSizes& job, const std::string& settings,
                    IngestResult& result, std::vector<PendingFrame>& pending) {
  EventStream& events = ctx.events();
  const fs::path frames_dir = ctx.cache.frames();
  const auto reusable = load_reusable(ctx.cache.phase1_manifest(), settings, events);
  ProgressCounter counter(*ctx.progress, "preprocess", files.size(), std::string(event_keys::kRawFileCountUpdate));
  const std::uint64_t footprint =
      preprocess_footprint_bytes(std::max(job.frame_width, 1), std::max(job.frame_height, 1));
  SchedOptions so;
  so.workers = plan.cpu_workers;
  so.max_in_flight = std::max(1, plan.tiles_in_flight);
  so.memory_budget_bytes = plan.ram_budget_bytes;
  // A bad input is set aside inside ingest_one (InputError); anything else (a full disk, a bug) stops the run.
  so.on_error = OnItemError::rethrow;
  so.cancel = ctx.cancel;
  so.item_name = [&](std::size_t i) { return files[i].path.string(); };
  std::vector<std::size_t> order(files.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto work = [&](const std::size_t& i, WorkContext& wc) -> Outcome {
    wc.throw_if_cancelled();
    return ingest_one(files[i], static_cast<int>(i), reusable, options, frames_dir);
  };
  auto commit = [&](const std::size_t&, Outcome&& o) {
    if (o.frame && o.pending) {
      pending.push_back({std::move(*o.frame), std::move(*o.pending)});
    } else if (o.frame) {
      if (o.frame->wcs_provenance != "header" && !o.reused) emit_acquired(events, *o.frame, nullptr);
      result.reused_from_cache += o.reused ? 1 : 0;
      result.frames.push_back(std::move(*o.frame));
    } else {
      set_aside(events, result, std::move(*o.set_aside));
    }
    counter.advance();
    if (counter.done() % kManifestFlushEvery == 0) save_manifest(ctx.cache.phase1_manifest(), settings, result);
  };
  const RunSummary summary =
      run_items<std::size_t>(order, [&](const std::size_t&) { return footprint; }, work, commit, so);
  if (summary.cancelled) {
    save_manifest(ctx.cache.phase1_manifest(), settings, result);
    throw RunCancelled();
  }
}

IngestResult ingest_files(const RunContext& ctx, const IngestOptions& options, const std::vector<InputFile>& files,
                          std::vector<SetAsideInput> missing) {
  const auto t0 = std::chrono::steady_clock::now();
  PhaseScope scope(*ctx.progress, "1", "Preprocessing");
  EventStream& events = ctx.events();
  PreprocessOptions preprocess = options.preprocess;
  preprocess.wcs_cache_dir = ctx.cache.wcs_solutions();
  fs::create_directories(ctx.cache.frames());

  const JobSizes job = ingest_job(files, preprocess.limits);
  const ParallelPlan plan = make_plan(PlanKind::ingest, ctx.caps, ctx.options.plan, job);
  emit_plan_summary(events, "1", plan);

  IngestResult result;
  result.key = options.settings;
  result.inputs_found = static_cast<int>(files.size() + missing.size());
  for (auto& s : missing) set_aside(events, result, std::move(s));
  std::vector<PendingFrame> pending;
  preprocess_all(ctx, files, preprocess, plan, job, options.settings, result, pending);
  std::string solver_error;
  if (!pending.empty()) solver_error = acquire_pending(ctx, options, plan, pending, result);
  save_manifest(ctx.cache.phase1_manifest(), options.settings, result);
  if (result.reused_from_cache > 0)
    events.info(pipeline_keys::kResumeReused,
                {{"phase", "1"}, {"reused", result.reused_from_cache}, {"total", files.size()}});
  events.info(pipeline_keys::kIngestSummary,
              {{"phase", "1"},
               {"usable", result.frames.size()},
               {"set_aside", result.set_aside.size()},
               {"found", result.inputs_found},
               {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}});
  if (options.vignetting_correction) apply_run_vignetting(events, result.frames);
  if (result.frames.empty())
    throw PipelineError(fmt::format("no usable frame in {}: {} FITS file(s) found, {} set aside (see the "
                                    "INPUT_SET_ASIDE events for each reason){}",
                                    ctx.input_dir.string(), result.inputs_found, result.set_aside.size(),
                                    solver_error.empty() ? "" : "; frames without WCS need a plate solver: " +
                                                                    solver_error));
  return result;
}

}  // namespace

IngestResult run_phase1(const RunContext& ctx, const IngestOptions& options) {
  return ingest_files(ctx, options, scan_input_folder(ctx.input_dir, ctx.output_dir), {});
}

IngestResult run_phase1(const RunContext& ctx, const IngestOptions& options, const std::vector<fs::path>& paths) {
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
  return ingest_files(ctx, options, files, std::move(missing));
}

}  // namespace zm
