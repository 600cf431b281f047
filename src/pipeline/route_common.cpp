#include "pipeline/route_common.hpp"

#include <fmt/format.h>

#include "core/hash.hpp"

namespace zm {

RejectParams global_coadd_reject(const Config& cfg) {
  RejectParams p;
  const std::string m = cfg.get_string("global_coadd_method");
  const auto k = static_cast<float>(cfg.get_double("global_coadd_k"));
  p.kappa_low = k;
  p.kappa_high = k;
  p.combine = CombineMethod::Mean;
  if (m == "kappa_sigma") p.algo = RejectAlgo::KappaSigma;
  else if (m == "winsorized") p.algo = RejectAlgo::WinsorizedSigmaClip;
  else p.algo = RejectAlgo::None;
  if (m == "median") p.combine = CombineMethod::Median;
  return p;
}

HarmonizeOptions route_harmonize_options(const Config& cfg) {
  HarmonizeOptions o;
  o.overlap_min = cfg.get_double("intertile_overlap_min");
  o.prune_k = static_cast<int>(cfg.get_int("intertile_prune_k"));
  o.clip_sigma = cfg.get_double("intertile_robust_clip_sigma");
  const auto lim = cfg.get_double_list("intertile_gain_limits");
  if (lim.size() == 2) {
    o.gain_min = lim[0];
    o.gain_max = lim[1];
  }
  const double off = cfg.get_double("intertile_offset_limit_adu");
  if (off > 0) o.offset_limit = off;
  return o;
}

std::vector<CoaddFrame> coadd_frames(const RunContext& ctx, const std::vector<FrameRecord>& frames,
                                     const std::vector<int>& members) {
  std::vector<CoaddFrame> out;
  auto add = [&](const FrameRecord& r) {
    out.push_back(CoaddFrame{ctx.cache_dir / "frames" / r.cache_file, r.width, r.height, r.channels, r.make_wcs()});
    out.back().flat = r.flat;
  };
  if (members.empty())
    for (const auto& r : frames) add(r);
  else
    for (int m : members) add(frames.at(static_cast<std::size_t>(m)));
  return out;
}

std::string frames_signature(const std::vector<FrameRecord>& frames) {
  Hasher h;
  for (const auto& r : frames)
    h.update(fmt::format("{}|{}|{}|{}|{}|{}|{}\n", r.path, r.size, r.mtime_ns, r.cache_file, r.wcs_cards, r.channels,
                         r.flat.q));
  return h.hex();
}

std::vector<std::string_view> global_coadd_config_keys() {
  return {"global_coadd_method", "global_coadd_k", "global_coadd_interpolation", "global_coadd_normalize",
          "intertile_overlap_min", "intertile_prune_k", "intertile_robust_clip_sigma", "intertile_gain_limits",
          "intertile_offset_limit_adu"};
}

GlobalCoaddOptions global_coadd_options(const RunContext& ctx, const ParallelPlan& plan) {
  GlobalCoaddOptions o;
  o.reject = global_coadd_reject(ctx.config);
  o.kernel = parse_kernel(ctx.config.get_string("global_coadd_interpolation")).value_or(Kernel::Lanczos3);
  o.band_rows = static_cast<int>(ctx.config.get_int("global_coadd_rows_per_chunk"));
  o.memory_budget_bytes = plan.max_chunk_bytes;
  o.workers = std::max(1, plan.cpu_workers);
  o.cancel = ctx.cancel;
  return o;
}

}  // namespace zm
