#include "config/quorumd_config.h"

#include "common/cli_args.h"
#include "common/ini_reader.h"
#include "common/read_file.h"
#include "common/trusted_path.h"
#include "common/uuid.h"
#include "common/value_parsers.h"
#include "config/castor_ini.h"
#include "config/lan_config.h"

namespace castor {
namespace {

constexpr const char* kSection = "quorumd";

}  // namespace

Status parse_quorumd_ini(const std::string& text, const std::string& file_name, QuorumdConfig& config) {
  std::vector<CastorIniSection> sections = read_castor_ini_sections(
      text, file_name,
      {{kSection,
        {"device", "node", "cluster", "cluster_uuid", "io_timeout_ms", "watchdog_device", "allow_unsafe_no_watchdog",
         "socket", "scrub_interval_s", "lock_memory", "realtime", "authenticate_disk", "authkey",
         "state_dir", "status_group"}},
       {kLanSection, lan_ini_keys()}});
  CastorIniSection& section = sections[0];
  CastorIniSection& lan = sections[1];
  QuorumdConfig& c = config;
  for (const IniEntry& e : section.entries) {
    const std::string& name = e.key;
    const std::string& value = e.value;
    auto fail = [&](const std::string& problem) { section.error(e.line, ini_bad_value(name, "[quorumd]", problem)); };
    auto need_value = [&]() {
      if (value.empty()) fail("empty value");
      return !value.empty();
    };
    auto set_bool = [&](bool& out) {
      auto b = parse_bool(value);
      if (!b.ok()) fail(b.status().message());
      else out = *b;
    };
    auto set_int = [&](int64_t min, int64_t max, auto&& apply) {
      auto v = parse_integer(value, min, max);
      if (!v.ok()) fail(v.status().message());
      else apply(*v);
    };
    if (name == "device") {
      if (need_value()) c.device = value;
    } else if (name == "node") {
      if (need_value()) c.node = value;
    } else if (name == "cluster") {
      if (need_value()) c.cluster = value;
    } else if (name == "cluster_uuid") {
      if (need_value()) {
        auto u = parse_uuid(value);
        if (!u.ok()) fail(u.status().message());
        else if (u->is_nil()) fail("the nil UUID names no cluster");
        else c.cluster_uuid = *u;
      }
    } else if (name == "io_timeout_ms") {
      set_int(1, 24 * 3600 * 1000, [&](int64_t v) { c.io_timeout = Millis(v); });
    } else if (name == "watchdog_device") {
      if (need_value()) c.watchdog_device = value;
    } else if (name == "allow_unsafe_no_watchdog") {
      set_bool(c.allow_unsafe_no_watchdog);
    } else if (name == "socket") {
      if (need_value()) c.socket_path = value;
    } else if (name == "status_group") {
      if (need_value()) c.status_group = value;
    } else if (name == "scrub_interval_s") {
      set_int(1, 24 * 3600, [&](int64_t v) { c.scrub_interval = std::chrono::seconds(v); });
    } else if (name == "lock_memory") {
      set_bool(c.lock_memory);
    } else if (name == "realtime") {
      set_bool(c.realtime);
    } else if (name == "authenticate_disk") {
      set_bool(c.authenticate_disk);
    } else if (name == "authkey") {
      if (need_value()) {
        if (value[0] != '/') fail("must be an absolute path");
        else c.authkey = value;
      }
    } else if (name == "state_dir") {
      if (need_value()) {
        if (value[0] != '/' || value.size() < 2 || value.back() == '/') fail("must be an absolute path to a directory, without a trailing /");
        else c.state_dir = value;
      }
    } else {
      section.error(e.line, "internal: key '" + name + "' accepted but not read");  // never: the list above
    }
  }
  read_lan_section(lan, c.lan);
  section.errors.insert(section.errors.end(), lan.errors.begin(), lan.errors.end());
  {
    const size_t before = section.errors.size();
    std::vector<FenceDeviceConfig> fence = read_fence_sections(text, file_name, section.errors);
    if (section.errors.size() == before && !fence.empty()) c.fence = std::move(fence);
  }
  return section.status();
}

Status load_quorumd_ini(const std::string& path, QuorumdConfig& config) {
  // Only root may be able to change what quorumd is told (a group-writable castor.ini names the device).
  if (auto t = check_trusted_path(path); !t.ok()) return t.status().with_context("the config file");
  auto text = read_file_to_string(path);
  if (!text.ok()) return text.status().with_context("reading the config file");
  config.config_file = path;
  return parse_quorumd_ini(*text, path, config);
}

Status check_quorumd_lan(const QuorumdConfig& c) {
  const std::string where = c.config_file.empty() ? "configuration" : c.config_file;
  if (Status lan = check_lan_config(c.lan); !lan.ok()) return lan.with_context(where);
  if (!c.lan.enabled()) return Status::Ok();
  // Every LAN datagram is authenticated with the cluster key: quorumd loads it (and refuses a bad one);
  // here only the path is checked, so that a LAN without a key is refused before anything starts.
  if (c.authkey.empty() || c.authkey[0] != '/' || c.authkey.back() == '/')
    return Error(Code::invalid_argument,
                 where + ": [lan] names a link but authkey '" + c.authkey +
                     "' in [quorumd] is not a key file's absolute path: the LAN channel is always authenticated "
                     "with the cluster key (castor keygen)");
  if (c.io_timeout && c.lan.interval && *c.lan.interval > *c.io_timeout)
    return Error(Code::invalid_argument, where + ": interval_ms " + std::to_string(c.lan.interval->count()) +
                                             " in [lan] is longer than io_timeout_ms " +
                                             std::to_string(c.io_timeout->count()) +
                                             " in [quorumd]: the peer would be heard less often than once per T");
  return Status::Ok();
}

std::vector<std::string> split_device_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

Status check_device_list(const std::vector<std::string>& devices, const std::string& where) {
  if (devices.size() != 1 && devices.size() != kQuorumDevices)
    return Error(Code::invalid_argument, where + ": " + std::to_string(devices.size()) +
                                             " quorum devices listed: give one, or a set of " +
                                             std::to_string(kQuorumDevices) + " (a majority of which must answer)");
  for (size_t i = 0; i < devices.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (devices[i] == devices[j])
        return Error(Code::invalid_argument, where + ": quorum device '" + devices[i] + "' listed twice");
  return Status::Ok();
}

Status check_quorumd_config(const QuorumdConfig& c) {
  const std::string where = c.config_file.empty() ? "configuration" : c.config_file;
  if (c.device.empty())
    return Error(Code::invalid_argument, where + ": no quorum device: set 'device' in [quorumd] or pass --device");
  RETURN_IF_ERROR(check_device_list(c.devices(), where + ": device"));
  if (c.node.empty())
    return Error(Code::invalid_argument, where + ": no node name: set 'node' in [quorumd] or pass --node");
  if (c.socket_path.empty() || c.socket_path[0] != '/')
    return Error(Code::invalid_argument, where + ": socket '" + c.socket_path + "' must be an absolute path");
  if (c.socket_path.size() >= 108)
    return Error(Code::invalid_argument,
                 where + ": socket path '" + c.socket_path + "' is too long for a Unix socket (max 107 bytes)");
  if (c.no_watchdog() && !c.allow_unsafe_no_watchdog && !c.power_fence_only())
    return Error(Code::refused,
                 where + ": watchdog_device = none is refused: without a hardware watchdog a node whose quorumd "
                         "hangs may keep running services after its peer has taken them over. Configure a power "
                         "fence for this node ([fence " + c.node + "]: its peer then takes over only after a "
                         "confirmed power-off, never on the dead time), or set allow_unsafe_no_watchdog = yes "
                         "(tests only)");
  return check_quorumd_lan(c);
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
