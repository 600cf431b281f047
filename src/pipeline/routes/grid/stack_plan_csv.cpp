#include "pipeline/routes/grid/stack_plan_csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "pipeline/ingest/input_scan.hpp"
#include "pipeline/pipeline_events.hpp"

namespace zm {
namespace fs = std::filesystem;

namespace {

struct CsvRecord {
  int line = 0;
  std::vector<std::string> cells;
};

std::string lower_trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// The delimiter occurring most often outside quotes in the first line that is neither blank nor a comment.
char sniff_delimiter(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    std::array<int, 3> count{0, 0, 0};
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (!quoted && c == ',') ++count[0];
      else if (!quoted && c == ';') ++count[1];
      else if (!quoted && c == '\t') ++count[2];
    }
    const char delims[3] = {',', ';', '\t'};
    int best = 0;
    for (int k = 1; k < 3; ++k)
      if (count[k] > count[best]) best = k;
    return delims[best];
  }
  return ',';
}

// RFC 4180 records; blank and '#' lines (outside quotes) dropped.
std::vector<CsvRecord> split_records(std::string_view text, char delim, const fs::path& source) {
  std::vector<CsvRecord> out;
  CsvRecord rec;
  std::string cell;
  bool quoted = false, cell_was_quoted = false, at_line_start = true;
  int line = 1;
  rec.line = 1;
  auto end_record = [&] {
    rec.cells.push_back(std::move(cell));
    cell.clear();
    const bool blank = rec.cells.size() == 1 && !cell_was_quoted && trim(rec.cells[0]).empty();
    if (!blank) out.push_back(std::move(rec));
    rec = CsvRecord{};
    cell_was_quoted = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (at_line_start) {
      rec.line = line;
      std::size_t j = i;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t') && text[j] != delim) ++j;
      if (j < text.size() && text[j] == '#') {  // comment line
        const std::size_t nl = text.find('\n', j);
        if (nl == std::string_view::npos) return out;
        i = nl;
        ++line;
        continue;
      }
      at_line_start = false;
    }
    if (c == '"' && trim(cell).empty()) {
      cell.clear();
      quoted = cell_was_quoted = true;
    } else if (c == delim) {
      rec.cells.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      end_record();
      ++line;
      at_line_start = true;
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (quoted) throw InputError(InputErrorKind::BadConfig, source.string(), fmt::format("unterminated quote (line {})", rec.line));
  if (!at_line_start) end_record();
  return out;
}

int find_column(const std::vector<std::string>& header, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    for (std::size_t k = 0; k < header.size(); ++k)
      if (lower_trim(header[k]) == n) return static_cast<int>(k);
  return -1;
}

std::optional<double> parse_number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  double v = 0;
  const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

bool is_windows_absolute(const std::string& p) {
  return (p.size() >= 3 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':' &&
          (p[2] == '\\' || p[2] == '/')) ||
         p.rfind("\\\\", 0) == 0;
}

// Last component whatever the separator ('/' or '\').
std::string file_name_of(const std::string& p) {
  const std::size_t cut = p.find_last_of("/\\");
  return cut == std::string::npos ? p : p.substr(cut + 1);
}

bool exists_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// The existing file a written path names, nullopt when none.
std::optional<fs::path> resolve(const std::string& written, const fs::path& base) {
  if (written.empty()) return std::nullopt;
  const bool foreign = is_windows_absolute(written);
  if (!foreign) {
    std::string native = written;
    if (!fs::path(written).is_absolute()) std::replace(native.begin(), native.end(), '\\', '/');
    const fs::path p = fs::path(native).is_absolute() ? fs::path(native) : base / native;
    if (exists_file(p)) return p.lexically_normal();
    if (!fs::path(native).is_absolute()) return std::nullopt;
  }
  const fs::path by_name = base / file_name_of(written);
  if (exists_file(by_name)) return by_name.lexically_normal();
  return std::nullopt;
}

}  // namespace

std::vector<fs::path> StackPlan::paths() const {
  std::vector<fs::path> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.path);
  return out;
}

const StackPlanRow* StackPlan::find(const std::string& path) const {
  for (const auto& r : rows)
    if (r.path.string() == path) return &r;
  return nullptr;
}

std::optional<fs::path> find_stack_plan(const fs::path& input_dir) {
  std::error_code ec;
  for (fs::directory_iterator it(input_dir, ec), end; !ec && it != end; it.increment(ec))
    if (lower_trim(it->path().filename().string()) == kStackPlanFileName && it->is_regular_file(ec)) return it->path();
  return std::nullopt;
}

bool has_stack_plan(const fs::path& input_dir) { return find_stack_plan(input_dir).has_value(); }

StackPlan parse_stack_plan(std::string_view text, const fs::path& base_dir) {
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.remove_prefix(3);
  StackPlan plan;
  plan.csv = base_dir / kStackPlanFileName;
  plan.delimiter = sniff_delimiter(text);
  const std::vector<CsvRecord> records = split_records(text, plan.delimiter, plan.csv);
  if (records.empty()) throw InputError(InputErrorKind::Empty, plan.csv.string(), "no header and no row");
  const std::vector<std::string>& header = records.front().cells;
  int path_col = find_column(header, {"file_path", "filepath", "file", "path", "filename", "fits", "raw"});
  const int exp_col = find_column(header, {"exposure", "exp", "exptime"});
  const int batch_col = find_column(header, {"batch_id", "batch", "session", "night"});
  const int order_col = find_column(header, {"order", "seq", "index"});
  const bool headerless = path_col < 0 && exp_col < 0 && batch_col < 0 && order_col < 0 &&
                          has_fits_extension(fs::path(file_name_of(trim(header[0]))));
  if (path_col < 0) path_col = 0;
  plan.path_column = headerless ? "" : trim(header[static_cast<std::size_t>(path_col)]);

  std::set<std::string> seen;
  auto cell = [](const CsvRecord& r, int col) -> std::string {
    return col >= 0 && static_cast<std::size_t>(col) < r.cells.size() ? r.cells[static_cast<std::size_t>(col)] : "";
  };
  for (std::size_t k = headerless ? 0 : 1; k < records.size(); ++k) {
    const CsvRecord& r = records[k];
    const std::string written = trim(cell(r, path_col));
    if (written.empty()) {
      plan.skipped.push_back({r.line, written, "the row names no file"});
      continue;
    }
    const auto resolved = resolve(written, base_dir);
    if (!resolved) {
      plan.skipped.push_back({r.line, written, fmt::format("file not found (looked for it as written and as {} "
                                                           "in {})", file_name_of(written), base_dir.string())});
      continue;
    }
    if (!seen.insert(resolved->string()).second) {
      plan.skipped.push_back({r.line, written, "the file is already listed on an earlier row"});
      continue;
    }
    StackPlanRow row;
    row.line = r.line;
    row.written_path = written;
    row.path = *resolved;
    row.exposure_s = parse_number(cell(r, exp_col));
    if (row.exposure_s && *row.exposure_s <= 0) row.exposure_s.reset();
    row.batch = trim(cell(r, batch_col));
    row.order = parse_number(cell(r, order_col));
    plan.rows.push_back(std::move(row));
  }
  if (order_col >= 0)  // rows without an order value go last, in file order
    std::stable_sort(plan.rows.begin(), plan.rows.end(), [](const StackPlanRow& a, const StackPlanRow& b) {
      if (a.order.has_value() != b.order.has_value()) return a.order.has_value();
      return a.order.has_value() && *a.order < *b.order;
    });
  return plan;
}

StackPlan load_stack_plan(const fs::path& csv) {
  std::ifstream in(csv, std::ios::binary);
  if (!in) throw InputError(InputErrorKind::NotFound, csv.string(), "cannot open the stack plan");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw InputError(InputErrorKind::Io, csv.string(), "cannot read the stack plan");
  StackPlan plan = parse_stack_plan(ss.str(), csv.parent_path());
  plan.csv = csv;
  return plan;
}

void report_stack_plan(EventStream& events, const StackPlan& plan) {
  for (const auto& s : plan.skipped) {
    const bool duplicate = s.reason.find("already listed") != std::string::npos;
    events.warn(pipeline_keys::kInputSetAside,
                {{"phase", "1"},
                 {"file", s.written_path},
                 {"row", s.line},
                 {"kind", duplicate ? "duplicate" : "not_found"},
                 {"reason", fmt::format("{} row {}: {}", plan.csv.filename().string(), s.line, s.reason)}});
  }
  events.info(pipeline_keys::kStackPlanLoaded, {{"file", plan.csv.string()},
                                    {"rows", plan.rows.size()},
                                    {"skipped", plan.skipped.size()},
                                    {"delimiter", std::string(1, plan.delimiter)},
                                    {"path_column", plan.path_column}});
}

}  // namespace zm
