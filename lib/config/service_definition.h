// Service definitions: the data model of one failover service (its ordered failover domain, recovery
// policy and ordered resources), the value syntax only service files have (recovery policies, agent
// specs, exec command lines; names, durations and booleans are common/value_parsers.h's), the digest two nodes compare to know they run the same
// definitions, and the host check that the agents a definition names exist here.
// Must never read service files (service_loader does), start or stop anything, or throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ini_reader.h"
#include "common/status.h"
#include "common/value_parsers.h"

namespace castor {

inline constexpr size_t kMaxServiceNameLength = kMaxNameLength;  // 63: fits the 64-byte name fields on disk
inline constexpr size_t kMaxResourcesPerService = 64;
inline constexpr int kMaxRestarts = 1000;
// kMaxDuration (7 days), the upper bound of every duration: common/value_parsers.h.

// Defaults of the [service] keys (resources inherit the timing defaults unless they override them).
inline constexpr Millis kDefaultStartTimeout{60000};
inline constexpr Millis kDefaultStopTimeout{60000};
inline constexpr Millis kDefaultMonitorInterval{10000};
inline constexpr Millis kDefaultMonitorTimeout{20000};
inline constexpr Millis kDefaultRestartWindow{300000};
inline constexpr int kDefaultMaxRestarts = 3;

struct ResourceDefinition {
  enum class AgentKind { ocf, lsb, exec, systemd };

  std::string name;  // same rules as service names; unique within its service
  AgentKind kind = AgentKind::ocf;
  std::string provider, type;  // ocf:PROVIDER:TYPE
  std::string lsb_name;        // lsb:NAME (/etc/init.d/NAME)
  std::string systemd_unit;    // systemd:UNIT, as written (no ".service" added)
  // ocf only: param.NAME = VALUE, passed as OCF_RESKEY_NAME. Sorted by NAME (their order carries no meaning).
  std::vector<std::pair<std::string, std::string>> params;
  // exec only. With shell = false the argv is the line split on whitespace (double quotes group; inside
  // them a backslash escapes '"' and itself) and argv[0] is an absolute path; with shell = true the argv is
  // {"/bin/sh", "-c", line}. *_line is the value as written. No monitor: monitor_argv empty and
  // monitor_interval 0 (an exec resource without a monitor command is never monitored).
  std::vector<std::string> start_argv, stop_argv, monitor_argv;
  bool shell = false;
  std::string start_line, stop_line, monitor_line;
  Millis start_timeout = kDefaultStartTimeout;
  Millis stop_timeout = kDefaultStopTimeout;
  Millis monitor_interval = kDefaultMonitorInterval;  // 0 = not monitored
  Millis monitor_timeout = kDefaultMonitorTimeout;
  int check_level = 0;  // OCF_CHECK_LEVEL (ocf only): 0, 10 or 20
  // Which of the four timings the file gave (in [resource] or [service]); the others may take the OCF
  // agent's advertised defaults (agent_metadata.h). Not part of the digest.
  uint8_t explicit_timings = 0;
  static constexpr uint8_t kStartTimeout = 1, kStopTimeout = 2, kMonitorInterval = 4, kMonitorTimeout = 8;
  int line = 0;         // line of the [resource NAME] header (0 when not read from a file)

  bool operator==(const ResourceDefinition&) const = default;
};

struct ServiceDefinition {
  enum class Recovery { restart, relocate, disable };

  std::string name;
  std::string file;                // the file it was read from (diagnostics only; not part of the digest)
  int line = 0;                    // line of its 'name' key (diagnostics only)
  std::vector<std::string> nodes;  // ordered failover domain: nodes[0] is the preferred node
  bool failback = false;           // move back to a more preferred node when it returns
  bool autostart = true;
  Recovery recovery = Recovery::restart;
  int max_restarts = kDefaultMaxRestarts;  // restarts within restart_window before relocating
  Millis restart_window = kDefaultRestartWindow;
  std::vector<ResourceDefinition> resources;  // started in this order, stopped in reverse
  // Limits of the service's cgroup, as systemd's MemoryMax=, CPUWeight=, TasksMax= (0 = no limit).
  uint64_t memory_max = 0;  // bytes
  uint64_t cpu_weight = 0;  // 1..10000 (100 is the default share)
  uint64_t tasks_max = 0;   // processes and threads
  // How a client tells the service answers (config/service_probe.h), for `castor drill`; "" = none. Not
  // part of the digest: it changes nothing the cluster does.
  std::string probe;

  bool operator==(const ServiceDefinition&) const = default;
};

// One problem with a service file or definition (line 0 = the file as a whole): the INI reader's error,
// "web.ini:7: unknown key 'recover' in [service] (did you mean 'recovery'?)".
using LoadError = IniError;

std::string_view agent_kind_name(ResourceDefinition::AgentKind kind);  // "ocf", "lsb", "exec", "systemd"
std::string_view recovery_name(ServiceDefinition::Recovery r);          // "restart", "relocate", "disable"
// The agent as written in a file: "ocf:heartbeat:IPaddr2", "lsb:nginx", "exec", "systemd:nginx.service".
std::string agent_spec(const ResourceDefinition& r);

// --- value syntax (each error message says what was expected, without naming the key or file) ---
// In their own namespace: the CLI has parsers of the same names with other rules.
namespace service_syntax {

// Names, durations and booleans follow the rules of every INI file (common/value_parsers.h):
// check_name (1-63 of [A-Za-z0-9._-], starting with a letter or digit), parse_duration ("30s", "500ms",
// "2m", "1h", a bare integer is seconds; 0 .. 7 days), parse_bool (yes/no, true/false, on/off, 1/0,
// case-insensitive).
using castor::check_name;
using castor::parse_bool;
using castor::parse_duration;

// "restart", "relocate" or "disable" (case-sensitive, like every enumerated value).
Result<ServiceDefinition::Recovery> parse_recovery(std::string_view text);
// Fills kind and provider/type, lsb_name or systemd_unit from "ocf:P:T", "lsb:N", "exec" or "systemd:U".
// OCF provider/type and LSB names: [A-Za-z0-9_.-]+ not starting with '.' or '-' (they become paths).
Status parse_agent(std::string_view spec, ResourceDefinition& out);
// Splits an exec command line on spaces/tabs; "double quotes" group (inside them a backslash escapes '"'
// and itself).
// Errors: empty line, unterminated quote. Does not check argv[0].
Result<std::vector<std::string>> split_command_line(std::string_view line);
// OCF parameter names (the NAME of param.NAME): [A-Za-z0-9_]+.
bool is_param_name(std::string_view name);

}  // namespace service_syntax

// Problems with a definition as a whole, whichever way it was built: names, node list (non-empty,
// unique, every node in cluster_nodes), 1..64 resources with unique names, kind-specific fields,
// absolute exec paths, value ranges. Empty = valid. Messages name the resource they concern.
std::vector<std::string> definition_problems(const ServiceDefinition& def,
                                             const std::vector<std::string>& cluster_nodes);

// --- digests ---

// FNV-1a 64 over a canonical encoding of every semantic field in a fixed order (defaults filled in,
// params sorted by name, exec commands as argv). file and line numbers are left out, so files that differ
// only in whitespace, comments, key order or file name give the same digest on both nodes.
uint64_t definition_digest(const ServiceDefinition& def);
// The same over all services, sorted by name (the order of `defs` does not matter).
uint64_t definitions_digest(const std::vector<ServiceDefinition>& defs);

// --- host checks ---

// Whether the agents of each resource exist on this host and are executable regular files:
// ocf: OCF_ROOT/resource.d/PROVIDER/TYPE; lsb: LSB_ROOT/NAME; exec: argv[0] of start, stop and monitor
// (/bin/sh with shell = yes), and trusted (common/trusted_program.h: root's alone, a script's '#!'
// interpreter too, as svcmgr requires before running them); with shell = yes, also the trust of the program
// each line starts when its first word is an absolute path. systemd units are not checked (systemctl is the authority on them).
// One error per problem, with the definition's file and the resource's line. Empty = all present.
std::vector<LoadError> check_agents_exist(const ServiceDefinition& def, const std::string& ocf_root = "/usr/lib/ocf",
                                          const std::string& lsb_root = "/etc/init.d");

}  // namespace castor
