// castor history: the event history of both nodes in one timeline (issue 20; tools/history_view.h). Reads
// the history files in svcmgr's STATE_DIR/history (this node's NODE.jsonl and NODE.jsonl.1, and any other
// node's files copied there), and any file or directory given. Read-only.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <iostream>

#include "common/cli_args.h"
#include "common/clock.h"
#include "common/read_file.h"
#include "common/text_sanitize.h"
#include "config/svcmgr_config.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/history_view.h"

namespace castor {
namespace {

constexpr size_t kMaxHistoryFileBytes = size_t(16) << 20;

const char* kHistoryHelp =
    "Usage: castor history [FILE|DIR...] [--since TIME] [--service NAME] [--json] [--config FILE]\n"
    "\n"
    "Every decision svcmgr made or saw that changed something -- the peer's verdicts and power fences,\n"
    "claims (with their epoch), starts, stops, failures, recoveries, relocations, admin requests, the\n"
    "lease at risk, a quorum device lost -- with wall time, node, service, epoch and reason, both nodes'\n"
    "records merged into one timeline. By default from svcmgr's state_dir/history ([svcmgr] state_dir in\n"
    "the config file, default /var/lib/castor): this node's NODE.jsonl and NODE.jsonl.1, and the peer's\n"
    "files when copied there (scp beta:/var/lib/castor/history/beta.jsonl* /var/lib/castor/history/);\n"
    "or the files and directories given.\n"
    "\n"
    "  --since TIME    records from TIME on: a duration before now (30s, 10m, 2h, 3d) or a local time\n"
    "                  (YYYY-MM-DD HH:MM[:SS], or HH:MM[:SS] for today)\n"
    "  --service NAME  that service's records only\n"
    "  --json          one JSON object a line, as the files hold them\n"
    "\n"
    "Exit 0 when shown (also when no record matched), 2 on a bad argument, 3 when no history file\n"
    "could be read.\n";

bool is_history_file(const std::string& name) { return name.ends_with(".jsonl") || name.ends_with(".jsonl.1"); }

}  // namespace

int cmd_history(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--since", true}, {"--service", true}, {"--json", false}, {"--config", true}});
  if (!args.ok()) return report_error("history", args.status());
  if (args->has("--help")) {
    std::cout << kHistoryHelp;
    return kExitOk;
  }
  HistoryFilter filter;
  if (auto s = args->value("--since")) {
    auto t = parse_history_since(*s, wall_time_ns());
    if (!t.ok()) return report_error("history", t.status());
    filter.since_wall_ns = *t;
  }
  if (auto s = args->value("--service")) filter.service = *s;
  std::vector<std::string> sources = args->positional;
  if (sources.empty()) {
    SvcmgrConfig config;
    const std::string config_path = args->value("--config").value_or("/etc/castor/castor.ini");
    Status st = load_svcmgr_config(config_path, config);
    if (!st.ok() && (args->value("--config") || st.code() != Code::not_found)) return report_error("history", st);
    sources.push_back(config.state_dir + "/history");
  }
  std::vector<std::string> files;
  for (const std::string& src : sources) {
    struct stat st;
    if (::stat(src.c_str(), &st) != 0)
      return report_error("history", Error(Code::not_found, src + ": no such file or directory (no event history there)"));
    if (!S_ISDIR(st.st_mode)) {
      files.push_back(src);
      continue;
    }
    DIR* d = ::opendir(src.c_str());
    if (!d) return report_error("history", Error(Code::io_error, "cannot read the directory " + src));
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d))
      if (is_history_file(e->d_name)) names.push_back(e->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) files.push_back(src + "/" + n);
  }
  std::vector<std::vector<HistoryRecord>> parsed;
  size_t read = 0;
  for (const std::string& f : files) {
    auto text = read_file_to_string(f, kMaxHistoryFileBytes);
    if (!text.ok()) {
      std::cerr << "castor history: " << printable(text.status().to_string()) << "\n";
      continue;
    }
    ++read;
    size_t skipped = 0;
    parsed.push_back(parse_history_text(*text, &skipped));
    if (skipped) std::cerr << "castor history: " << printable(f) << ": " << skipped << " line(s) that are not history records skipped\n";
  }
  if (read == 0) return report_error("history", Error(Code::not_found, "no event history file could be read"));
  const auto records = filter_history(merge_history(std::move(parsed)), filter);
  if (args->has("--json")) {
    for (const auto& r : records) std::cout << encode_history_record(r) << "\n";
  } else {
    std::cout << format_history_table(records);
    std::cout << records.size() << " record(s) from " << read << " file(s)\n";
  }
  return kExitOk;
}

}  // namespace castor
