// Grid mode's input list: a user-written stack_plan.csv in the input folder naming the frames to mosaic.
//
// Format (tolerant, as such files come from spreadsheets and other tools):
// - delimiter sniffed from the header line: comma, semicolon or tab (the one that occurs most outside quotes);
// - RFC 4180 quoting ("a, b" and "say ""x""" ; quoted fields may hold delimiters and newlines);
// - blank lines and lines starting with '#' are skipped; a UTF-8 BOM and CRLF line ends are accepted;
// - a header row names the columns (case-insensitive, surrounding spaces ignored):
//     path:     the first of file_path, filepath, file, path, filename, fits, raw; else the first column
//     exposure: exposure, exp, exptime (seconds; empty = the frame's EXPTIME)
//     batch:    batch_id, batch, session, night (kept as text)
//     order:    order, seq, index (numeric; rows are run in ascending order, ties and blanks keep file order)
//   A header whose first cell is itself a FITS file name (no known column) is taken as a headerless one-column list.
// - paths: relative ones resolve against the CSV's folder ('\' accepted as separator); an absolute path that does
//   not exist here (a Windows "C:\..." or a path from another machine) is re-resolved by its file name in the CSV's
//   folder. Rows whose file cannot be found, and repeats of a file already listed, are skipped and reported.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_stream.hpp"

namespace zm {

inline constexpr std::string_view kStackPlanFileName = "stack_plan.csv";

struct StackPlanRow {
  int line = 0;                   // 1-based line of the row in the CSV
  std::string written_path;       // as in the CSV
  std::filesystem::path path;     // resolved, existing
  std::optional<double> exposure_s;
  std::string batch;
  std::optional<double> order;
};

// A row left out of the plan and why (the run goes on without it).
struct StackPlanSkip {
  int line = 0;
  std::string written_path;
  std::string reason;
};

struct StackPlan {
  std::filesystem::path csv;
  char delimiter = ',';
  std::string path_column;        // header name of the path column ("" when headerless)
  std::vector<StackPlanRow> rows; // in run order
  std::vector<StackPlanSkip> skipped;

  std::vector<std::filesystem::path> paths() const;
  // The row of a resolved path (compared as written by paths()), nullptr when not listed.
  const StackPlanRow* find(const std::string& path) const;
};

// The stack_plan.csv of `input_dir` (file name matched case-insensitively), nullopt when there is none.
std::optional<std::filesystem::path> find_stack_plan(const std::filesystem::path& input_dir);
bool has_stack_plan(const std::filesystem::path& input_dir);

// Parses CSV text; paths resolve against `base_dir`. Throws InputError(kind BadValue) on malformed CSV (unterminated
// quote, no header, no data row).
StackPlan parse_stack_plan(std::string_view text, const std::filesystem::path& base_dir);

// Reads and parses `csv` (InputError NotFound / Io when it cannot be read).
StackPlan load_stack_plan(const std::filesystem::path& csv);

// One INPUT_SET_ASIDE WARN per skipped row {"phase": "1", "file", "row", "kind": "not_found"|"duplicate", "reason"}
// and a STACK_PLAN_LOADED INFO {"file", "rows", "skipped", "delimiter", "path_column"}.
void report_stack_plan(EventStream& events, const StackPlan& plan);

}  // namespace zm
