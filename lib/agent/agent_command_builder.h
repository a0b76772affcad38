// Agent command builder: turns a resource definition and an action into the AgentCommand that runs it
// (absolute argv, the complete environment, the action's timeout), for the three agent kinds Castor runs
// (ocf, lsb, exec). A pure function over values: tests check the argv and environment without running
// anything.
// Must never run anything, read files (check_agent_program only lstats the program's path and reads a
// script's first 256 bytes), look at the host's environment (nothing is inherited: every
// variable an agent sees is set here) or decide what an outcome means (classify() does).
//
// Environment, every kind:
//   PATH=/usr/sbin:/usr/bin:/sbin:/bin, CASTOR_SERVICE, CASTOR_RESOURCE, CASTOR_NODE, CASTOR_EPOCH
//   (the ownership epoch under which the service was started, decimal).
// ocf, in addition (OCF resource agent API 1.1, as Pacemaker passes them):
//   OCF_ROOT, OCF_RA_VERSION_MAJOR=1, OCF_RA_VERSION_MINOR=1, OCF_RESOURCE_TYPE, OCF_RESOURCE_PROVIDER,
//   OCF_RESOURCE_INSTANCE=<service>_<resource> (Pacemaker passes the resource id; resource names are only
//     unique within a service, so the service name is prefixed. Agents derive state and lock file names
//     from it, e.g. Dummy's default state file. Names may themselves contain '_', so "a_b"+"c" and
//     "a"+"b_c" give the same instance: avoid such pairs on one cluster, or set the agent's file params),
//   OCF_RESKEY_<param>=<value> for each param.NAME, OCF_RESKEY_CRM_meta_timeout=<action timeout in ms>,
//   OCF_RESKEY_CRM_meta_interval=<monitor_interval in ms for monitor, 0 for probes and every other action>,
//   OCF_RESKEY_CRM_meta_on_node=<node>, OCF_CHECK_LEVEL=<check_level> (monitor only, when not 0),
//   HA_LOGFACILITY=none (ocf-shellfuncs then logs to stderr, which lands in the outcome's output tail).
//
// argv:
//   ocf:  {OCF_ROOT/resource.d/PROVIDER/TYPE, start|stop|monitor|validate-all|meta-data|status}
//         (probe = monitor with interval 0).
//   lsb:  {LSB_ROOT/NAME, start|stop|status} (monitor, probe and status all run `status`); validate and
//         meta-data: unsupported (init scripts have neither).
//   exec: the definition's start/stop/monitor argv (monitor, probe and status run the monitor command);
//         a resource without a monitor command: not_found for monitor/probe/status; validate and
//         meta-data: unsupported.
//   systemd: unsupported for every action (Castor does not run under systemd as PID 1 here).
// Timeouts: start_timeout, stop_timeout, monitor_timeout (monitor, probe, status); validate and meta-data
// kMetaActionTimeout. kill_grace and cwd are AgentCommand's defaults.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "agent/agent_process.h"
#include "agent/agent_result.h"
#include "config/service_definition.h"

namespace castor {

// Where and for whom an action runs.
struct RunContext {
  std::string service;  // the service's name
  std::string node;     // this node's name
  uint64_t epoch = 0;   // ownership epoch of the current start (CASTOR_EPOCH)
  std::string ocf_root = "/usr/lib/ocf";
  std::string lsb_root = "/etc/init.d";
  // The Castor cgroup parent (ServiceCgroup): every action of the service runs in the cgroup
  // <cgroup_parent>/<node>/<service>. Empty: no cgroup (processes tracked by process group only).
  std::string cgroup_parent = "castor";
};

inline constexpr Millis kMetaActionTimeout{30000};  // validate-all and meta-data
inline constexpr const char* kAgentPathEnv = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";

// The command for `action` on resource `r`. Errors: unsupported (systemd; validate/meta-data for lsb and
// exec), not_found (monitor of an exec resource without a monitor command), invalid_argument (a
// definition with an empty exec argv or a timeout that is not > 0).
Result<AgentCommand> build_agent_command(const ResourceDefinition& r, AgentAction action, const RunContext& ctx);

// Whether the program `cmd` runs (argv[0], absolute) is trusted: owned by root and not writable by group
// or others, through every directory and symlink on the way, and so is a script's '#!' interpreter (and the
// program of '#!/usr/bin/env NAME', looked up along the agents' PATH above) (common/trusted_program.h).
// svcmgr calls this before every spawn and refuses the action (Code::refused) otherwise: a script anyone
// can edit would run as root. An exec resource with shell = yes checks /bin/sh and the program its line
// starts when the line's first word is an absolute path; the rest of a shell line (further commands, PATH
// lookups, expansions) is the service file author's responsibility.
Status check_agent_program(const AgentCommand& cmd);

// The timeout `action` runs with on `r` (see above).
Millis agent_action_timeout(const ResourceDefinition& r, AgentAction action);

// OCF_RESOURCE_INSTANCE of `r` in service `service`: "<service>_<resource>".
std::string ocf_resource_instance(const std::string& service, const ResourceDefinition& r);

}  // namespace castor
