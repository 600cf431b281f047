#include "pipeline/classic/stack_plan.hpp"

#include <fmt/format.h>

#include "core/hash.hpp"
#include "io/atomic_file.hpp"

namespace zm {

namespace {
std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
}  // namespace

void write_stack_plan(const std::filesystem::path& dir, const std::vector<FrameGroup>& groups,
                      const std::vector<FrameRecord>& records) {
  std::string csv = "group,frame_index,file_path,date_obs,ra_deg,dec_deg\n";
  nlohmann::json j = {{"schema", 1}, {"groups", nlohmann::json::array()}};
  for (const auto& g : groups) {
    nlohmann::json members = nlohmann::json::array();
    for (int m : g.members) {
      const FrameRecord& r = records.at(m);
      csv += fmt::format("{},{},{},{},{:.7f},{:.7f}\n", g.id, r.index, csv_quote(r.path), r.date_obs, r.centre.ra,
                         r.centre.dec);
      members.push_back(r.path);
    }
    j["groups"].push_back({{"id", g.id}, {"signature", group_signature(g, records)}, {"frames", members}});
  }
  write_text_atomic(dir / "zemosaic_stack_plan.csv", csv);
  write_text_atomic(dir / "zemosaic_stack_plan.json", j.dump(1));
}

std::string group_signature(const FrameGroup& group, const std::vector<FrameRecord>& records) {
  Hasher h;
  for (int m : group.members) {
    const FrameRecord& r = records.at(m);
    h.update(fmt::format("{}|{}|{}|{}\n", r.path, r.size, r.mtime_ns, r.flat.q));  // the flat changes the pixels
  }
  return h.hex();
}

}  // namespace zm
