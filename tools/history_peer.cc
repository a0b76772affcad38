#include "tools/history_peer.h"

#include <sys/stat.h>
#include <unistd.h>

#include "common/text_sanitize.h"

namespace castor {

Status check_peer_host(std::string_view host) {
  const std::string shown = printable(host);
  if (host.empty()) return Error(Code::invalid_argument, "--peer: give the peer's host name");
  if (host.size() > 255) return Error(Code::invalid_argument, "--peer '" + shown.substr(0, 64) + "...': longer than 255 bytes");
  if (host[0] == '-')
    return Error(Code::invalid_argument, "--peer '" + shown + "': a host name never starts with '-' (ssh would read it as an option)");
  for (const char c : host) {
    const auto u = static_cast<unsigned char>(c);
    const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '.' ||
                    c == '_' || c == '-' || c == ':' || c == '@' || c == '[' || c == ']' || c == '%';
    if (!ok)
      return Error(Code::invalid_argument, "--peer '" + shown +
                                               "': a host is letters, digits and . _ - : @ [ ] % only (no blank, quote or "
                                               "shell character)");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ssh_command_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  if (words.empty()) return Error(Code::invalid_argument, "CASTOR_SSH is empty: give the ssh command (default: " + std::string(kDefaultCastorSsh) + ")");
  for (const auto& w : words)
    if (w.find('\0') != std::string::npos || w.find('\n') != std::string::npos)
      return Error(Code::invalid_argument, "CASTOR_SSH holds a control character");
  return words;
}

std::optional<std::string> peer_since_argument(int64_t since_wall_ns, int64_t now_wall_ns, int64_t slack_s) {
  constexpr int64_t kMaxSeconds = 3650LL * 86400;
  constexpr int64_t kNs = 1000000000LL;
  if (now_wall_ns < since_wall_ns) return std::to_string(slack_s) + "s";
  // In seconds first (no overflow: both are within int64 nanoseconds of 1970), rounded up.
  const int64_t before = now_wall_ns / kNs - since_wall_ns / kNs + 1 + slack_s;
  if (before > kMaxSeconds) return std::nullopt;
  return std::to_string(before) + "s";
}

std::vector<std::string> peer_history_argv(const std::vector<std::string>& ssh_words, const std::string& host,
                                           const std::optional<std::string>& since_arg,
                                           const std::optional<std::string>& service) {
  std::vector<std::string> argv = ssh_words;
  for (const char* w : {"castor", "history", "--json", "--local"}) argv.emplace_back(w);
  argv.insert(argv.begin() + std::ptrdiff_t(ssh_words.size()), host);
  if (since_arg) {
    argv.emplace_back("--since");
    argv.push_back(*since_arg);
  }
  if (service) {
    argv.emplace_back("--service");
    argv.push_back(*service);
  }
  return argv;
}

bool is_own_history_file(std::string_view file_name, std::string_view node) {
  if (node.empty() || !file_name.starts_with(node)) return false;
  const std::string_view rest = file_name.substr(node.size());
  return rest == ".jsonl" || rest == ".jsonl.1";
}

Result<std::string> find_program(const std::string& word, std::string_view path, const std::string& cwd) {
  if (word.empty()) return Error(Code::invalid_argument, "no program to run");
  auto runnable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (word.find('/') != std::string::npos) {
    const std::string p = word[0] == '/' ? word : cwd + "/" + word;
    if (!runnable(p)) return Error(Code::not_found, word + ": no such program (or not executable)");
    return p;
  }
  size_t i = 0;
  for (;;) {
    const size_t colon = path.find(':', i);
    const std::string_view dir = path.substr(i, colon == std::string_view::npos ? std::string_view::npos : colon - i);
    std::string p = dir.empty() ? cwd : std::string(dir);
    if (!p.empty() && p[0] != '/') p = cwd + "/" + p;
    p += "/" + word;
    if (runnable(p)) return p;
    if (colon == std::string_view::npos) break;
    i = colon + 1;
  }
  return Error(Code::not_found, word + ": not found in PATH (" + std::string(path) + ")");
}

std::vector<std::string> stderr_tail_lines(std::string_view text, size_t max_lines) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    lines.push_back(printable(line));
  }
  if (lines.size() > max_lines) lines.erase(lines.begin(), lines.end() - std::ptrdiff_t(max_lines));
  return lines;
}

size_t drop_records_of_node(std::vector<HistoryRecord>& records, const std::string& node) {
  const size_t before = records.size();
  std::erase_if(records, [&](const HistoryRecord& r) { return r.node == node; });
  return before - records.size();
}

}  // namespace castor
