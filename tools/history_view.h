// HistoryView: what `castor history` shows (issue 20): both nodes' event histories (svcmgr's
// STATE_DIR/history/NODE.jsonl files, control/history_record.h) merged into one timeline by wall time, the
// same record read twice (a file copied over, the rotated file) shown once, filtered by time and service,
// as a table a person reads in one screen ("why did web move at 03:12") or as JSON lines.
// Pure: no I/O and no clock (the caller gives "now" for a relative --since); never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "control/history_record.h"

namespace castor {

// Every line of `text` (one history file, named `file` in messages) that parses; a line that does not (a
// torn last line after a crash, a foreign line) is counted in *skipped.
std::vector<HistoryRecord> parse_history_text(std::string_view text, size_t* skipped);

// All the records, by wall time (then node, then their order in their file), each distinct record once.
std::vector<HistoryRecord> merge_history(std::vector<std::vector<HistoryRecord>> files);

struct HistoryFilter {
  std::optional<int64_t> since_wall_ns;  // records at or after
  std::optional<std::string> service;    // records of this service only (node events kept out)
};
std::vector<HistoryRecord> filter_history(const std::vector<HistoryRecord>& all, const HistoryFilter& f);

// --since: "30s", "10m", "2h", "3d" (that long before `now_wall_ns`), or a local time "YYYY-MM-DD HH:MM[:SS]",
// "YYYY-MM-DDTHH:MM[:SS]" or "HH:MM[:SS]" (today). invalid_argument otherwise.
Result<int64_t> parse_history_since(std::string_view text, int64_t now_wall_ns);

// The table: a header, then one line per record (local time with milliseconds, node, event, service, epoch,
// then what and why). Every text from a file is shown escaped (common/text_sanitize.h: printable).
std::string format_history_table(const std::vector<HistoryRecord>& records);

}  // namespace castor
