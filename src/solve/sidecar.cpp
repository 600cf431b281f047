#include "solve/sidecar.hpp"

#include <fstream>
#include <sstream>

namespace zm {
namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// ASTAP's .ini: KEY=value, one per line; strings may be quoted.
FitsHeader parse_ini(const std::string& text) {
  std::string cards;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (key.empty() || key.size() > 8 || value.empty()) continue;
    cards += key + std::string(8 - key.size(), ' ') + "= " + value + "\n";
  }
  return FitsHeader::parse_cards(cards);
}

}  // namespace

std::optional<FitsHeader> read_wcs_sidecar(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::string ext = path.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  FitsHeader h = ext == ".ini" ? parse_ini(text) : FitsHeader::parse_cards(text);
  if (!h.has("CTYPE1") && h.has("CRVAL1") && h.has("CD1_1")) {
    // ASTAP .ini files may leave the projection implicit: it is always TAN.
    h.set("CTYPE1", std::string("RA---TAN"));
    h.set("CTYPE2", std::string("DEC--TAN"));
  }
  if (!h.has("CTYPE1") || !h.has("CRVAL1")) return std::nullopt;
  return h;
}

std::vector<fs::path> sidecar_candidates(const fs::path& input, const fs::path& sidecar_dir) {
  std::vector<fs::path> out;
  std::vector<fs::path> dirs{input.parent_path()};
  if (!sidecar_dir.empty()) dirs.push_back(sidecar_dir);
  std::error_code ec;
  for (const auto& d : dirs)
    for (const char* ext : {".wcs", ".ini"}) {
      fs::path p = d / input.stem();
      p += ext;
      if (fs::is_regular_file(p, ec)) out.push_back(p);
    }
  return out;
}

}  // namespace zm
