// castor history: the event history of both nodes in one timeline (issue 20; tools/history_view.h). Reads
// the history files in svcmgr's STATE_DIR/history (this node's NODE.jsonl and NODE.jsonl.1, and any other
// node's files copied there), and any file or directory given; with --peer HOST, also the peer's own files,
// read there over ssh by `castor history --json --local` (tools/history_peer.h). Read-only.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "agent/agent_process.h"
#include "common/cli_args.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/names.h"
#include "common/read_file.h"
#include "common/text_sanitize.h"
#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "tools/cli_commands.h"
#include "tools/exit_codes.h"
#include "tools/history_peer.h"
#include "tools/history_view.h"

extern char** environ;

namespace castor {
namespace {

constexpr size_t kMaxHistoryFileBytes = size_t(16) << 20;
constexpr size_t kMaxPeerBytes = size_t(16) << 20;  // the peer's answer: its two files are 8 MiB at most
constexpr Duration kPeerTimeout = std::chrono::seconds(30);
constexpr size_t kPeerStderrLines = 5;

const char* kHistoryHelp =
    "Usage: castor history [FILE|DIR...] [--peer HOST] [--local] [--since TIME] [--service NAME] [--json]\n"
    "                      [--config FILE]\n"
    "\n"
    "Every decision svcmgr made or saw that changed something -- the peer's verdicts and power fences,\n"
    "claims (with their epoch), starts, stops, failures, recoveries, relocations, admin requests, the\n"
    "lease at risk, a quorum device lost -- with wall time, node, service, epoch and reason, both nodes'\n"
    "records merged into one timeline (a record read twice shown once). By default from svcmgr's\n"
    "state_dir/history ([svcmgr] state_dir in the config file, default /var/lib/castor): this node's\n"
    "NODE.jsonl and NODE.jsonl.1, and the peer's files if copied there; or the files and directories given.\n"
    "\n"
    "  --peer HOST     also the peer's records, read on HOST over ssh: runs $CASTOR_SSH HOST castor history\n"
    "                  --json --local [--since ..] [--service ..] (CASTOR_SSH default: ssh -o BatchMode=yes\n"
    "                  -o ConnectTimeout=5; split on spaces, no shell), bounded by 30 s and 16 MiB. The\n"
    "                  peer may allow that key this command only (castor(8), HISTORY OVER SSH)\n"
    "  --local         this node's own files only (NODE.jsonl, NODE.jsonl.1; NODE is [quorumd] node in the\n"
    "                  config file), not copies of the peer's: what --peer runs on the peer\n"
    "  --since TIME    records from TIME on: a duration before now (30s, 10m, 2h, 3d) or a local time\n"
    "                  (YYYY-MM-DD HH:MM[:SS], or HH:MM[:SS] for today)\n"
    "  --service NAME  that service's records only\n"
    "  --json          one JSON object a line, as the files hold them\n"
    "\n"
    "Exit 0 when shown (also when no record matched), 1 when the peer could not be read (why on stderr;\n"
    "this node's records are still shown), 2 on a bad argument, 3 when no history could be read.\n";

bool is_history_file(const std::string& name) { return name.ends_with(".jsonl") || name.ends_with(".jsonl.1"); }

// The history files of `sources` (files as given, directories' history files by name; with `own_node`,
// that node's own files only). An error for a source that cannot be read.
Result<std::vector<std::string>> history_files(const std::vector<std::string>& sources, const std::optional<std::string>& own_node) {
  std::vector<std::string> files;
  for (const std::string& src : sources) {
    struct stat st;
    if (::stat(src.c_str(), &st) != 0)
      return Error(Code::not_found, src + ": no such file or directory (no event history there)");
    if (!S_ISDIR(st.st_mode)) {
      files.push_back(src);
      continue;
    }
    DIR* d = ::opendir(src.c_str());
    if (!d) return Error(Code::io_error, "cannot read the directory " + src);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      if (is_history_file(e->d_name) && (!own_node || is_own_history_file(e->d_name, *own_node))) names.push_back(e->d_name);
      errno = 0;
    }
    const int read_errno = errno;
    ::closedir(d);
    if (read_errno != 0) return Error(Code::io_error, "cannot read the directory " + src);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) files.push_back(src + "/" + n);
  }
  return files;
}

// This node's name, as svcmgr names its files: quorumd's node ([quorumd] node of the config file).
Result<std::string> own_node_name(const std::string& config_path) {
  QuorumdConfig qc;
  Status st = load_quorumd_ini(config_path, qc);
  if (!st.ok()) return st.with_context("--local: this node's name is [quorumd] node in " + config_path);
  if (qc.node.empty()) return Error(Code::not_found, "--local: no [quorumd] node in " + config_path + " (this node's name)");
  return qc.node;
}

struct PeerRead {
  std::vector<HistoryRecord> records;
  size_t skipped = 0;
};

// Runs the peer's `castor history --json --local` over ssh and parses its answer. An error's message is
// printable already (common/text_sanitize.h), its lines joined by line feeds: its stderr's last lines.
Result<PeerRead> read_peer(const std::string& host, const HistoryFilter& filter, int64_t now_wall_ns) {
  const char* ssh_env = std::getenv("CASTOR_SSH");
  auto ssh = ssh_command_words(ssh_env ? ssh_env : kDefaultCastorSsh);
  if (!ssh.ok()) return Error(ssh.status().code(), printable(ssh.status().message()));
  std::optional<std::string> since;
  if (filter.since_wall_ns) since = peer_since_argument(*filter.since_wall_ns, now_wall_ns);
  AgentCommand cmd;
  cmd.argv = peer_history_argv(*ssh, host, since, filter.service);
  std::string shown;
  for (const auto& w : cmd.argv) shown += (shown.empty() ? "" : " ") + printable(w);
  char cwd_buf[4096];
  cmd.cwd = ::getcwd(cwd_buf, sizeof cwd_buf) ? std::string(cwd_buf) : "/";  // an ssh -F FILE relative to here
  const char* path_env = std::getenv("PATH");
  auto program = find_program((*ssh)[0], path_env ? path_env : "/usr/local/bin:/usr/bin:/bin", cmd.cwd);
  if (!program.ok()) return Error(program.status().code(), "cannot run " + shown + ": " + printable(program.status().message()));
  cmd.argv[0] = *program;
  for (char** e = environ; e && *e; ++e) {  // ssh needs the admin's own: HOME, SSH_AUTH_SOCK, USER...
    const std::string kv(*e);
    if (kv.find('=') != std::string::npos && kv[0] != '=') cmd.env.push_back(kv);
  }
  cmd.timeout = kPeerTimeout;
  cmd.kill_grace = std::chrono::seconds(2);
  // Also when this process is gone (Ctrl-C reaches castor's process group, not ssh's own): alarm(2) in ssh.
  cmd.hard_limit = kPeerTimeout + std::chrono::seconds(5);
  cmd.keep_output_bytes = 4096;  // the end of its stderr, for the message
  // The runner's own warnings ("agent timed out") would say again, less well, what the message below says.
  log::Options quiet;
  quiet.min_level = log::Level::error;
  log::init(quiet);
  BootClock clock;
  auto run = run_capturing(cmd, clock, kMaxPeerBytes);
  if (!run.ok()) return Error(run.status().code(), "cannot run " + shown + ": " + printable(run.status().message()));
  std::string why;
  if (run->overflow) why = "answered more than " + std::to_string(kMaxPeerBytes >> 20) + " MiB: stopped";
  else if (run->outcome.timed_out) why = "did not finish within " + std::to_string(kPeerTimeout.count() / 1000000000) + " s: stopped";
  else if (run->outcome.signal != 0) why = "killed by signal " + std::to_string(run->outcome.signal);
  else if (run->outcome.exit_code != 0) why = "exited " + std::to_string(run->outcome.exit_code);
  if (!why.empty()) {
    std::string msg = shown + " " + why;
    const auto tail = stderr_tail_lines(run->outcome.output_tail, kPeerStderrLines);
    if (tail.empty()) msg += " (nothing on its stderr)";
    else {
      msg += "; its stderr ends:";
      for (const auto& l : tail) msg += "\n    " + l;  // already printable
    }
    return Error(Code::io_error, msg);
  }
  PeerRead out;
  out.records = parse_history_text(run->stdout_text, &out.skipped);
  return out;
}

}  // namespace

int cmd_history(const std::vector<std::string>& argv) {
  auto args = parse_cli_args(argv, {{"--since", true}, {"--service", true}, {"--json", false}, {"--config", true},
                                    {"--peer", true}, {"--local", false}});
  if (!args.ok()) return report_error("history", args.status());
  if (args->has("--help")) {
    std::cout << kHistoryHelp;
    return kExitOk;
  }
  const int64_t now = wall_time_ns();
  HistoryFilter filter;
  if (auto s = args->value("--since")) {
    auto t = parse_history_since(*s, now);
    if (!t.ok()) return report_error("history", t.status());
    filter.since_wall_ns = *t;
  }
  if (auto s = args->value("--service")) filter.service = *s;
  const std::optional<std::string> peer = args->value("--peer");
  if (peer) {
    if (Status st = check_peer_host(*peer); !st.ok()) return report_error("history", st);
    // The peer's shell reads the command line ssh sends: a service name holds nothing it could act on.
    if (filter.service && !is_valid_service_name(*filter.service))
      return report_error("history", Error(Code::invalid_argument, "--service '" + *filter.service + "': not a service name"));
  }
  const bool local_only = args->has("--local");
  if (local_only && !args->positional.empty())
    return report_error("history", Error(Code::invalid_argument, "--local reads this node's own files only: no FILE or DIR with it"));

  std::vector<std::string> sources = args->positional;
  std::optional<std::string> own_node;
  const std::string config_path = args->value("--config").value_or("/etc/castor/castor.ini");
  if (sources.empty()) {
    SvcmgrConfig config;
    Status st = load_svcmgr_config(config_path, config);
    if (!st.ok() && (args->value("--config") || st.code() != Code::not_found)) return report_error("history", st);
    sources.push_back(config.state_dir + "/history");
  }
  if (local_only) {
    auto node = own_node_name(config_path);
    if (!node.ok()) return report_error("history", node.status());
    own_node = *node;
  }
  // With --peer, this node's history failing to read is said, and the peer's still shown.
  std::vector<std::string> files;
  if (auto f = history_files(sources, own_node); f.ok()) files = std::move(*f);
  else if (!peer) return report_error("history", f.status());
  else std::cerr << "castor history: " << printable(f.status().message()) << "\n";

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
  bool peer_failed = false;
  size_t peer_records = 0;
  if (peer) {
    auto got = read_peer(*peer, filter, now);
    if (!got.ok()) {
      peer_failed = true;
      std::cerr << "castor history: the peer " << printable(*peer) << " could not be read over ssh; shown without it: "
                << got.status().message() << "\n";  // printable already (read_peer)
    } else {
      if (got->skipped)
        std::cerr << "castor history: " << printable(*peer) << " (over ssh): " << got->skipped
                  << " line(s) that are not history records skipped\n";
      // The peer speaks for itself only: a record of its answer that names this node is forged or an echo.
      if (auto me = own_node ? Result<std::string>(*own_node) : own_node_name(config_path); me.ok()) {
        if (const size_t dropped = drop_records_of_node(got->records, *me))
          std::cerr << "castor history: " << printable(*peer) << " (over ssh): " << dropped << " record(s) naming this node ("
                    << printable(*me) << ") dropped: the peer speaks for itself only\n";
      }
      peer_records = got->records.size();
      parsed.push_back(std::move(got->records));
    }
  }
  if (read == 0 && (!peer || peer_failed)) {
    std::cerr << "castor history: no event history file could be read\n";
    return peer_failed ? kExitFailure : kExitNotFound;
  }
  if (read == 0 && !files.empty()) std::cerr << "castor history: no history file of this node could be read\n";
  const auto records = filter_history(merge_history(std::move(parsed)), filter);
  if (args->has("--json")) {
    for (const auto& r : records) std::cout << encode_history_record_ascii(r) << "\n";
  } else {
    std::cout << format_history_table(records);
    std::cout << records.size() << " record(s) from " << read << " file(s)";
    if (peer && !peer_failed) std::cout << " and " << printable(*peer) << " (" << peer_records << " read over ssh)";
    if (peer_failed) std::cout << "; " << printable(*peer) << " could not be read";
    std::cout << "\n";
  }
  return peer_failed ? kExitFailure : kExitOk;
}

}  // namespace castor
