#include "config/service_definition.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "common/fnv1a.h"
#include "common/names.h"
#include "common/trusted_path.h"
#include "common/trusted_program.h"

namespace castor {
namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// OCF providers/types and LSB script names: they end up as path components, so no '/', and no leading
// '.' or '-' ("..", "-x").
bool is_agent_token(std::string_view s) {
  if (s.empty() || s.size() > 255 || s[0] == '.' || s[0] == '-') return false;
  for (char c : s)
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

// systemd unit names: letters, digits, ":-_.\@", at most 255 characters (systemd.unit(5)).
bool is_unit_name(std::string_view s) {
  if (s.empty() || s.size() > 255 || s[0] == '.' || s[0] == '-') return false;
  for (char c : s)
    if (!is_alnum(c) && !std::strchr(":-_.\\@", c)) return false;
  return true;
}

Status invalid(std::string message) { return Error(Code::invalid_argument, std::move(message)); }

// The canonical encoding behind the digests: every field length-prefixed, in a fixed order.
class Encoder {
 public:
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(char((v >> (8 * i)) & 0xff));
  }
  void i64(int64_t v) { u64(uint64_t(v)); }
  void str(std::string_view s) {
    u64(s.size());
    out_.append(s);
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) str(s);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string canonical_encoding(const ServiceDefinition& d) {
  Encoder e;
  e.str("castor.service.v1");
  e.str(d.name);
  e.strs(d.nodes);
  e.u64(d.failback);
  e.u64(d.autostart);
  e.str(recovery_name(d.recovery));
  e.i64(d.max_restarts);
  e.i64(d.restart_window.count());
  e.u64(d.resources.size());
  for (const ResourceDefinition& r : d.resources) {
    e.str(r.name);
    e.str(agent_kind_name(r.kind));
    e.str(r.provider);
    e.str(r.type);
    e.str(r.lsb_name);
    e.str(r.systemd_unit);
    auto params = r.params;
    std::sort(params.begin(), params.end());
    e.u64(params.size());
    for (const auto& [k, v] : params) {
      e.str(k);
      e.str(v);
    }
    e.strs(r.start_argv);
    e.strs(r.stop_argv);
    e.strs(r.monitor_argv);
    e.u64(r.shell);
    e.i64(r.start_timeout.count());
    e.i64(r.stop_timeout.count());
    e.i64(r.monitor_interval.count());
    e.i64(r.monitor_timeout.count());
    e.i64(r.check_level);
  }
  if (d.memory_max || d.cpu_weight || d.tasks_max) {  // only then: digests of files without limits unchanged
    e.str("limits");
    e.u64(d.memory_max);
    e.u64(d.cpu_weight);
    e.u64(d.tasks_max);
  }
  return e.take();
}

std::string check_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return path + ": not a regular file";
  if (::access(path.c_str(), X_OK) != 0) return path + ": not executable (" + std::strerror(errno) + ")";
  // svcmgr refuses to run an agent program (or a script's interpreter) that anyone but root can change
  // (agent_command_builder.h).
  if (Status t = check_trusted_program(path); !t.ok()) return t.message();
  return {};
}

}  // namespace

std::string_view agent_kind_name(ResourceDefinition::AgentKind kind) {
  switch (kind) {
    case ResourceDefinition::AgentKind::ocf: return "ocf";
    case ResourceDefinition::AgentKind::lsb: return "lsb";
    case ResourceDefinition::AgentKind::exec: return "exec";
    case ResourceDefinition::AgentKind::systemd: return "systemd";
  }
  return "?";
}

std::string_view recovery_name(ServiceDefinition::Recovery r) {
  switch (r) {
    case ServiceDefinition::Recovery::restart: return "restart";
    case ServiceDefinition::Recovery::relocate: return "relocate";
    case ServiceDefinition::Recovery::disable: return "disable";
  }
  return "?";
}

std::string agent_spec(const ResourceDefinition& r) {
  switch (r.kind) {
    case ResourceDefinition::AgentKind::ocf: return "ocf:" + r.provider + ":" + r.type;
    case ResourceDefinition::AgentKind::lsb: return "lsb:" + r.lsb_name;
    case ResourceDefinition::AgentKind::exec: return "exec";
    case ResourceDefinition::AgentKind::systemd: return "systemd:" + r.systemd_unit;
  }
  return "?";
}

namespace service_syntax {

Result<ServiceDefinition::Recovery> parse_recovery(std::string_view text) {
  if (text == "restart") return ServiceDefinition::Recovery::restart;
  if (text == "relocate") return ServiceDefinition::Recovery::relocate;
  if (text == "disable") return ServiceDefinition::Recovery::disable;
  return invalid("'" + std::string(text) + "' is not a recovery policy (restart, relocate or disable)");
}

Status parse_agent(std::string_view spec, ResourceDefinition& out) {
  using Kind = ResourceDefinition::AgentKind;
  if (spec == "exec") {
    out.kind = Kind::exec;
    return Status::Ok();
  }
  const std::string s(spec);
  const size_t colon = spec.find(':');
  const std::string_view prefix = spec.substr(0, colon == std::string_view::npos ? spec.size() : colon);
  const std::string_view rest = colon == std::string_view::npos ? std::string_view() : spec.substr(colon + 1);
  if (prefix == "ocf") {
    const size_t c2 = rest.find(':');
    if (colon == std::string_view::npos || c2 == std::string_view::npos)
      return invalid("'" + s + "': expected ocf:PROVIDER:TYPE (e.g. ocf:heartbeat:IPaddr2)");
    const std::string_view provider = rest.substr(0, c2), type = rest.substr(c2 + 1);
    if (!is_agent_token(provider))
      return invalid("'" + s + "': bad OCF provider '" + std::string(provider) +
                     "' (letters, digits, '_', '.', '-'; not starting with '.' or '-')");
    if (!is_agent_token(type))
      return invalid("'" + s + "': bad OCF type '" + std::string(type) +
                     "' (letters, digits, '_', '.', '-'; not starting with '.' or '-')");
    out.kind = Kind::ocf;
    out.provider = std::string(provider);
    out.type = std::string(type);
    return Status::Ok();
  }
  if (prefix == "lsb") {
    if (colon == std::string_view::npos || !is_agent_token(rest))
      return invalid("'" + s + "': expected lsb:NAME with NAME a script in /etc/init.d (letters, digits, '_', '.', '-')");
    out.kind = Kind::lsb;
    out.lsb_name = std::string(rest);
    return Status::Ok();
  }
  if (prefix == "systemd") {
    if (colon == std::string_view::npos || !is_unit_name(rest))
      return invalid("'" + s + "': expected systemd:UNIT with a valid unit name (e.g. systemd:nginx.service)");
    out.kind = Kind::systemd;
    out.systemd_unit = std::string(rest);
    return Status::Ok();
  }
  return invalid("unknown agent '" + s + "' (expected ocf:PROVIDER:TYPE, lsb:NAME, systemd:UNIT or exec)");
}

Result<std::vector<std::string>> split_command_line(std::string_view line) {
  std::vector<std::string> argv;
  std::string cur;
  bool in_word = false, quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        quoted = false;
      } else if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
        cur += line[++i];
      } else {
        cur += c;
      }
    } else if (c == ' ' || c == '\t') {
      if (in_word) argv.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '"') {
      quoted = true;
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quoted) return invalid("unterminated double quote in '" + std::string(line) + "'");
  if (in_word) argv.push_back(std::move(cur));
  if (argv.empty()) return invalid("empty command line");
  return argv;
}

bool is_param_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name)
    if (!is_alnum(c) && c != '_') return false;
  return true;
}

}  // namespace service_syntax

std::vector<std::string> definition_problems(const ServiceDefinition& def,
                                             const std::vector<std::string>& cluster_nodes) {
  using Kind = ResourceDefinition::AgentKind;
  std::vector<std::string> out;
  if (Status st = service_syntax::check_name(def.name); !st.ok()) out.push_back("service name: " + st.message());
  if (Status st = check_not_reserved_cgroup_name("service name", def.name); !st.ok()) out.push_back(st.message());
  if (def.nodes.empty()) out.push_back("no nodes");
  std::set<std::string> seen_nodes;
  for (const auto& n : def.nodes) {
    if (!seen_nodes.insert(n).second) out.push_back("node '" + n + "' listed twice");
    if (!cluster_nodes.empty() && std::find(cluster_nodes.begin(), cluster_nodes.end(), n) == cluster_nodes.end())
      out.push_back("node '" + n + "' is not a cluster node");
  }
  if (def.max_restarts < 0 || def.max_restarts > kMaxRestarts) out.push_back("max_restarts out of range");
  if (def.restart_window <= Millis(0) || def.restart_window > kMaxDuration) out.push_back("restart_window out of range");
  if (def.resources.empty()) out.push_back("no resources");
  if (def.resources.size() > kMaxResourcesPerService)
    out.push_back("more than " + std::to_string(kMaxResourcesPerService) + " resources");
  std::set<std::string> seen_resources;
  for (const ResourceDefinition& r : def.resources) {
    const std::string where = "resource '" + r.name + "': ";
    if (Status st = service_syntax::check_name(r.name); !st.ok()) out.push_back(where + "name: " + st.message());
    if (!seen_resources.insert(r.name).second) out.push_back(where + "defined twice");
    ResourceDefinition parsed;
    if (Status st = service_syntax::parse_agent(agent_spec(r), parsed); !st.ok()) out.push_back(where + st.message());
    if (r.kind != Kind::ocf && (!r.provider.empty() || !r.type.empty()))
      out.push_back(where + "provider/type set for a non-ocf agent");
    if (r.kind != Kind::lsb && !r.lsb_name.empty()) out.push_back(where + "lsb_name set for a non-lsb agent");
    if (r.kind != Kind::systemd && !r.systemd_unit.empty())
      out.push_back(where + "systemd_unit set for a non-systemd agent");
    if (r.kind != Kind::ocf && !r.params.empty()) out.push_back(where + "params are only valid for ocf agents");
    if (r.kind != Kind::ocf && r.check_level != 0) out.push_back(where + "check_level is only valid for ocf agents");
    if (r.check_level != 0 && r.check_level != 10 && r.check_level != 20)
      out.push_back(where + "check_level must be 0, 10 or 20");
    std::set<std::string> seen_params;
    for (const auto& [k, v] : r.params) {
      if (!service_syntax::is_param_name(k)) out.push_back(where + "bad parameter name '" + k + "'");
      if (!seen_params.insert(k).second) out.push_back(where + "parameter '" + k + "' given twice");
    }
    if (r.kind == Kind::exec) {
      if (r.start_argv.empty()) out.push_back(where + "no start command");
      if (r.stop_argv.empty()) out.push_back(where + "no stop command");
      if (r.monitor_argv.empty() && r.monitor_interval != Millis(0))
        out.push_back(where + "monitor_interval set without a monitor command");
      for (const auto* argv : {&r.start_argv, &r.stop_argv, &r.monitor_argv})
        if (!argv->empty() && ((*argv)[0].empty() || (*argv)[0][0] != '/'))
          out.push_back(where + "command '" + (*argv)[0] + "' must be an absolute path");
    } else {
      if (!r.start_argv.empty() || !r.stop_argv.empty() || !r.monitor_argv.empty() || r.shell)
        out.push_back(where + "start/stop/monitor/shell are only valid for exec agents");
    }
    for (const auto& [what, t] : {std::pair{"start_timeout", r.start_timeout}, std::pair{"stop_timeout", r.stop_timeout},
                                  std::pair{"monitor_timeout", r.monitor_timeout}})
      if (t <= Millis(0) || t > kMaxDuration) out.push_back(where + what + " out of range");
    if (r.monitor_interval < Millis(0) || r.monitor_interval > kMaxDuration)
      out.push_back(where + "monitor_interval out of range");
  }
  return out;
}

uint64_t definition_digest(const ServiceDefinition& def) { return fnv1a(canonical_encoding(def)); }

uint64_t definitions_digest(const std::vector<ServiceDefinition>& defs) {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(defs.size());
  for (const auto& d : defs) sorted.emplace_back(d.name, canonical_encoding(d));
  std::sort(sorted.begin(), sorted.end());
  Encoder e;
  e.str("castor.services.v1");
  e.u64(sorted.size());
  uint64_t h = fnv1a(e.take());
  for (const auto& [name, enc] : sorted) {
    Encoder len;
    len.u64(enc.size());
    h = fnv1a(len.take(), h);
    h = fnv1a(enc, h);
  }
  return h;
}

std::vector<LoadError> check_agents_exist(const ServiceDefinition& def, const std::string& ocf_root,
                                          const std::string& lsb_root) {
  using Kind = ResourceDefinition::AgentKind;
  std::vector<LoadError> out;
  for (const ResourceDefinition& r : def.resources) {
    auto report = [&](const std::string& what, const std::string& problem) {
      out.push_back({def.file, r.line, "resource '" + r.name + "': " + what + " " + problem});
    };
    switch (r.kind) {
      case Kind::ocf:
        if (auto p = check_executable(ocf_root + "/resource.d/" + r.provider + "/" + r.type); !p.empty())
          report("OCF agent", p);
        break;
      case Kind::lsb:
        if (auto p = check_executable(lsb_root + "/" + r.lsb_name); !p.empty()) report("LSB script", p);
        break;
      case Kind::exec: {
        std::set<std::string> checked;
        for (const auto& [what, argv] : {std::pair{"start command", &r.start_argv}, std::pair{"stop command", &r.stop_argv},
                                         std::pair{"monitor command", &r.monitor_argv}}) {
          if (argv->empty() || !checked.insert((*argv)[0]).second) continue;
          if (auto p = check_executable((*argv)[0]); !p.empty()) report(what, p);
        }
        // shell = yes: the program each line starts, when named by absolute path (as svcmgr checks it).
        if (r.shell) {
          for (const auto& [what, line] : {std::pair{"start command", &r.start_line}, std::pair{"stop command", &r.stop_line},
                                           std::pair{"monitor command", &r.monitor_line}}) {
            const std::string program = shell_line_program(*line);
            if (program.empty() || !checked.insert(program).second) continue;
            if (Status t = check_trusted_program(program); !t.ok() && t.code() != Code::not_found) report(what, t.message());
          }
        }
        break;
      }
      case Kind::systemd: break;
    }
  }
  return out;
}

}  // namespace castor
