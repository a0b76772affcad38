// castor history --peer HOST (issue 20: "the peer's over the control path"): the nodes have no network
// control path of their own, so the peer's records come the way crmsh's `crm report` gathers the other
// nodes': over ssh, by running `castor history --json --local` there (CASTOR_SSH, default
// `ssh -o BatchMode=yes -o ConnectTimeout=5`). The pieces that decide what runs and what counts, pure (no
// I/O, no clock) but find_program, which looks at the file system as execvp does; cmd_history runs it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "control/history_record.h"

namespace castor {

inline constexpr const char* kDefaultCastorSsh = "ssh -o BatchMode=yes -o ConnectTimeout=5";

// HOST as given to ssh: 1..255 bytes of letters, digits and . _ - : @ [ ] % (a name, user@name, an IPv4
// or [IPv6%zone] address): no blank, quote or shell character (an ssh_config ProxyCommand %h may hand it to a
// shell), not starting with '-' (ssh would take "-oProxyCommand=..." for an option: a command run on this
// node). invalid_argument otherwise.
Status check_peer_host(std::string_view host);

// CASTOR_SSH's words: split on spaces and tabs, no quoting, no expansion (no shell). invalid_argument when
// there is none.
Result<std::vector<std::string>> ssh_command_words(std::string_view text);

// The peer's part of --since: a duration in seconds ("3900s") the peer's `castor history --since` reads
// against its own clock, `slack_s` longer than since is before now (the nodes' clocks may differ; the
// records are filtered again here, exactly). nullopt when that is further back than --since allows
// (3650 days): the peer then sends all, and the filter here does the work.
std::optional<std::string> peer_since_argument(int64_t since_wall_ns, int64_t now_wall_ns, int64_t slack_s = 300);

// The whole command: the ssh words, HOST, then `castor history --json --local [--since Ns] [--service S]`
// (each a word of its own; ssh joins them with spaces for the peer's shell, so none may hold a space or a
// character that shell reads: the service is a service name, checked by the caller).
std::vector<std::string> peer_history_argv(const std::vector<std::string>& ssh_words, const std::string& host,
                                           const std::optional<std::string>& since_arg,
                                           const std::optional<std::string>& service);

// Drops from `records` (read from the peer) every one that names `node` (this node): the peer speaks for
// itself only, so such a record is forged or an echo. Returns how many were dropped.
size_t drop_records_of_node(std::vector<HistoryRecord>& records, const std::string& node);

// Whether `file_name` (a name in the history directory) is one of `node`'s own files: NODE.jsonl or
// NODE.jsonl.1 (svcmgr/history_log.h), not a copy of another node's.
bool is_own_history_file(std::string_view file_name, std::string_view node);

// The program execvp would run for `word`: a word with a '/' as is (made absolute from `cwd` when
// relative), a bare name the first executable regular file of that name along `path` (PATH, ':'
// separated; an empty entry is the working directory). not_found when there is none.
Result<std::string> find_program(const std::string& word, std::string_view path, const std::string& cwd);

// The last `max_lines` non-empty lines of a command's stderr, each made printable (common/text_sanitize.h),
// for a message on this terminal.
std::vector<std::string> stderr_tail_lines(std::string_view text, size_t max_lines);

}  // namespace castor
