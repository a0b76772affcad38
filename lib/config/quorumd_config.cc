#include "config/quorumd_config.h"

#include <ini.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "common/errno_status.h"
#include "common/cli_args.h"

namespace castor {
namespace {

constexpr const char* kSection = "quorumd";

// Feeds inih one line at a time so that every handler call knows its line number, and spots section
// headers (inih reports sections only through the keys that follow them).
struct IniStream {
  const std::string* text = nullptr;
  size_t pos = 0;
  int line = 0;
  std::string file;
  std::vector<std::string> errors;
  std::set<std::string> seen_keys;
  QuorumdConfig* config = nullptr;

  void error(const std::string& msg) { errors.push_back(file + ":" + std::to_string(line) + ": " + msg); }
};

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

char* ini_reader(char* str, int num, void* stream) {
  auto* s = static_cast<IniStream*>(stream);
  if (s->pos >= s->text->size()) return nullptr;
  size_t end = s->text->find('\n', s->pos);
  const bool has_newline = end != std::string::npos;
  if (!has_newline) end = s->text->size();
  std::string_view line(s->text->data() + s->pos, end - s->pos);
  s->pos = has_newline ? end + 1 : end;
  ++s->line;
  if (line.size() + 2 > size_t(num)) {
    s->error("line too long (at most " + std::to_string(num - 2) + " characters)");
    line = line.substr(0, 0);  // hand inih an empty line instead
  }
  // Section headers as inih sees them: after a UTF-8 byte-order mark (first line) and leading blanks.
  std::string_view head = line;
  if (s->line == 1 && head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  while (!head.empty() && (head[0] == ' ' || head[0] == '\t')) head.remove_prefix(1);
  if (!head.empty() && head[0] == '[') {
    size_t close = head.find(']');
    if (close != std::string_view::npos) {
      std::string name = trim(head.substr(1, close - 1));
      // castor.ini is shared: [svcmgr] belongs to svcmgr, which checks it.
      if (name != kSection && name != "svcmgr")
        s->error("unknown section [" + name + "] (castor.ini has [" + kSection + "] and [svcmgr])");
    }
  }
  std::memcpy(str, line.data(), line.size());
  str[line.size()] = '\n';
  str[line.size() + 1] = '\0';
  return str;
}

Result<bool> parse_bool(const std::string& v) {
  if (v == "yes" || v == "true" || v == "on" || v == "1") return true;
  if (v == "no" || v == "false" || v == "off" || v == "0") return false;
  return Error(Code::invalid_argument, "'" + v + "' is not a boolean (yes/no, true/false, on/off, 1/0)");
}

int ini_handler(void* user, const char* section, const char* name_c, const char* value_c) {
  auto* s = static_cast<IniStream*>(user);
  const std::string sec = trim(section), name = name_c, value = value_c;  // "[ quorumd ]" is [quorumd]
  if (sec.empty()) {
    s->error("key '" + name + "' outside any section (put it under [" + kSection + "])");
    return 1;
  }
  if (sec != kSection) return 1;  // already reported by the reader
  if (!s->seen_keys.insert(name).second) {
    s->error("key '" + name + "' given twice (or continued on an indented line)");
    return 1;
  }
  QuorumdConfig& c = *s->config;
  auto need_value = [&]() {
    if (value.empty()) s->error("key '" + name + "' has an empty value");
    return !value.empty();
  };
  auto set_bool = [&](bool& out) {
    auto b = parse_bool(value);
    if (!b.ok()) s->error(name + ": " + b.status().message());
    else out = *b;
  };
  if (name == "device") {
    if (need_value()) c.device = value;
  } else if (name == "node") {
    if (need_value()) c.node = value;
  } else if (name == "cluster") {
    if (need_value()) c.cluster = value;
  } else if (name == "io_timeout_ms") {
    auto v = parse_int(value, 1, 24 * 3600 * 1000, "io_timeout_ms");
    if (!v.ok()) s->error(v.status().message());
    else c.io_timeout = Millis(*v);
  } else if (name == "watchdog_device") {
    if (need_value()) c.watchdog_device = value;
  } else if (name == "allow_unsafe_no_watchdog") {
    set_bool(c.allow_unsafe_no_watchdog);
  } else if (name == "socket") {
    if (need_value()) c.socket_path = value;
  } else if (name == "scrub_interval_s") {
    auto v = parse_int(value, 1, 24 * 3600, "scrub_interval_s");
    if (!v.ok()) s->error(v.status().message());
    else c.scrub_interval = std::chrono::seconds(*v);
  } else if (name == "lock_memory") {
    set_bool(c.lock_memory);
  } else if (name == "realtime") {
    set_bool(c.realtime);
  } else {
    s->error("unknown key '" + name + "' in [" + kSection +
             "] (known: device, node, cluster, io_timeout_ms, watchdog_device, allow_unsafe_no_watchdog, socket, "
             "scrub_interval_s, lock_memory, realtime)");
  }
  return 1;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

}  // namespace

Status parse_quorumd_ini(const std::string& text, const std::string& file_name, QuorumdConfig& config) {
  IniStream s;
  s.text = &text;
  s.file = file_name;
  s.config = &config;
  int rc = ini_parse_stream(ini_reader, &s, ini_handler, &s);
  if (rc > 0) {
    // Handlers always return 1, so a positive result is inih's own syntax error at that line.
    s.errors.push_back(file_name + ":" + std::to_string(rc) +
                       ": syntax error (expected '[section]', 'key = value', or a ';'/'#' comment)");
  } else if (rc < 0) {
    s.errors.push_back(file_name + ": the INI parser could not allocate memory");
  }
  if (!s.errors.empty()) return Error(Code::invalid_argument, join(s.errors, "; "));
  return Status::Ok();
}

Status load_quorumd_ini(const std::string& path, QuorumdConfig& config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_status("open config file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return errno_status("read config file", path);
  config.config_file = path;
  return parse_quorumd_ini(ss.str(), path, config);
}

Status check_quorumd_config(const QuorumdConfig& c) {
  const std::string where = c.config_file.empty() ? "configuration" : c.config_file;
  if (c.device.empty())
    return Error(Code::invalid_argument, where + ": no quorum device: set 'device' in [quorumd] or pass --device");
  if (c.node.empty())
    return Error(Code::invalid_argument, where + ": no node name: set 'node' in [quorumd] or pass --node");
  if (c.socket_path.empty() || c.socket_path[0] != '/')
    return Error(Code::invalid_argument, where + ": socket '" + c.socket_path + "' must be an absolute path");
  if (c.socket_path.size() >= 108)
    return Error(Code::invalid_argument,
                 where + ": socket path '" + c.socket_path + "' is too long for a Unix socket (max 107 bytes)");
  if (c.no_watchdog() && !c.allow_unsafe_no_watchdog)
    return Error(Code::refused,
                 where + ": watchdog_device = none is refused: without a hardware watchdog a node whose quorumd "
                         "hangs may keep running services after its peer has taken them over. Set "
                         "allow_unsafe_no_watchdog = yes to run anyway (tests only)");
  return Status::Ok();
}

const char* quorumd_usage() {
  return "usage: quorumd --config FILE [--device DEV] [--node NAME] [--socket PATH] [--watchdog DEV|none]\n"
         "  Runs the quorum daemon of this node: heartbeats on the shared quorum disk, a lease renewed by\n"
         "  them, self-fencing when it lapses. Options override the keys of the config file's [quorumd]\n"
         "  section (device, node, socket, watchdog_device).\n"
         "Exit codes: 0 left the cluster cleanly (SIGTERM/SIGINT or the 'leave' control verb),\n"
         "            1 could not start (the log says why), 2 bad command line,\n"
         "            3 stopped without a clean leave (second signal, or a fatal runtime error).\n";
}

Result<QuorumdArgs> parse_quorumd_args(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CliArgs cli, parse_cli_args(args, {{"--config", true},
                                                      {"--device", true},
                                                      {"--node", true},
                                                      {"--socket", true},
                                                      {"--watchdog", true}}));
  QuorumdArgs out;
  if (cli.has("--help")) {
    out.help = true;
    return out;
  }
  if (!cli.positional.empty())
    return Error(Code::invalid_argument, "unexpected argument '" + cli.positional[0] + "'");
  for (const char* o : {"--config", "--device", "--node", "--socket", "--watchdog"})
    if (auto v = cli.value(o); v && v->empty()) return Error(Code::invalid_argument, std::string(o) + " is empty");
  auto file = cli.value("--config");
  if (!file) return Error(Code::invalid_argument, "--config FILE is required");
  out.config_file = *file;
  out.device = cli.value("--device");
  out.node = cli.value("--node");
  out.socket_path = cli.value("--socket");
  out.watchdog_device = cli.value("--watchdog");
  return out;
}

Result<QuorumdConfig> load_quorumd_config(const QuorumdArgs& args) {
  QuorumdConfig c;
  RETURN_IF_ERROR(load_quorumd_ini(args.config_file, c));
  if (args.device) c.device = *args.device;
  if (args.node) c.node = *args.node;
  if (args.socket_path) c.socket_path = *args.socket_path;
  if (args.watchdog_device) c.watchdog_device = *args.watchdog_device;
  RETURN_IF_ERROR(check_quorumd_config(c));
  return c;
}

}  // namespace castor
