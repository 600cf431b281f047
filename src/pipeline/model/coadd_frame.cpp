#include "pipeline/model/coadd_frame.hpp"

#include <fmt/format.h>

#include "core/hash.hpp"

namespace zm {

std::vector<CoaddFrame> coadd_frames(const std::filesystem::path& frames_dir, const std::vector<FrameRecord>& frames,
                                     const std::vector<int>& members) {
  std::vector<CoaddFrame> out;
  auto add = [&](const FrameRecord& r) {
    out.push_back(CoaddFrame{frames_dir / r.cache_file, r.width, r.height, r.channels, r.make_wcs()});
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

}  // namespace zm
