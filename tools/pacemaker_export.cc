// Pacemaker export, the mapping: see pacemaker_export.h.
#include "tools/pacemaker_export.h"

#include <map>
#include <set>

namespace castor {

namespace {

bool id_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool id_char(char c) { return id_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

std::string where(const ServiceDefinition& s) { return "service " + s.name; }
std::string where(const ServiceDefinition& s, const ResourceDefinition& r) {
  return "service " + s.name + ", resource " + r.name;
}

const char* kExecReason =
    "exec resource not exported: ocf:heartbeat:anything (the only generic agent) runs its binfile as the "
    "long-lived process and tracks its pid, so a start command that exits, as Castor's must, is a failed start "
    "there; it stops with SIGTERM/SIGKILL, not with the stop command, and expands the line a second time through "
    "su -c. Write an OCF or LSB agent (or a systemd unit) from the start, stop and monitor commands";

PcmkPrimitive primitive_for(const ServiceDefinition& s, const ResourceDefinition& r) {
  PcmkPrimitive p;
  p.id = pcmk_id(s.name + "_" + r.name);
  switch (r.kind) {
    case ResourceDefinition::AgentKind::ocf:
      p.cls = "ocf";
      p.provider = r.provider;
      p.type = r.type;
      break;
    case ResourceDefinition::AgentKind::lsb:
      p.cls = "lsb";
      p.type = r.lsb_name;
      break;
    case ResourceDefinition::AgentKind::systemd:
      p.cls = "systemd";
      p.type = r.systemd_unit;
      break;
    case ResourceDefinition::AgentKind::exec:
      break;  // never called for exec
  }
  for (const auto& [k, v] : r.params) p.params.push_back({k, v});
  const std::string on_fail = s.recovery == ServiceDefinition::Recovery::disable ? "stop" : "";
  p.ops.push_back({p.id + "-start-0", "start", Millis(0), r.start_timeout, on_fail, 0});
  p.ops.push_back({p.id + "-stop-0", "stop", Millis(0), r.stop_timeout, "", 0});
  if (r.monitor_interval > Millis(0)) {
    const int level = r.kind == ResourceDefinition::AgentKind::ocf ? r.check_level : 0;
    p.ops.push_back({p.id + "-monitor-" + pcmk_duration(r.monitor_interval), "monitor", r.monitor_interval,
                     r.monitor_timeout, on_fail, level});
  }
  return p;
}

void map_service(const ServiceDefinition& s, PcmkExport& out, bool& default_timings) {
  PcmkGroup g;
  g.id = pcmk_id(s.name);
  for (const ResourceDefinition& r : s.resources) {
    if (r.kind == ResourceDefinition::AgentKind::exec) {
      out.not_expressed.push_back(where(s, r) + ": " + kExecReason);
      continue;
    }
    if (r.kind == ResourceDefinition::AgentKind::systemd)
      out.approximations.push_back(where(s, r) + ": systemd:" + r.systemd_unit +
                                   " is accepted but not run by Castor (every action fails there); Pacemaker runs it");
    if (r.kind == ResourceDefinition::AgentKind::ocf &&
        r.explicit_timings != (ResourceDefinition::kStartTimeout | ResourceDefinition::kStopTimeout |
                               ResourceDefinition::kMonitorInterval | ResourceDefinition::kMonitorTimeout))
      default_timings = true;
    g.members.push_back(primitive_for(s, r));
  }
  if (s.memory_max || s.cpu_weight || s.tasks_max)
    out.not_expressed.push_back(where(s) +
                                ": memory_max, cpu_weight, tasks_max (the service's cgroup limits): Pacemaker "
                                "has no per-group cgroup limits (a systemd resource's unit can carry them)");
  if (g.members.empty()) {
    out.not_expressed.push_back(where(s) + ": not exported at all: none of its resources could be (a group needs one)");
    return;
  }
  g.meta.push_back({"target-role", s.autostart ? "Started" : "Stopped"});
  g.meta.push_back({"resource-stickiness", s.failback ? "0" : std::to_string(kPcmkNoFailbackStickiness)});
  switch (s.recovery) {
    case ServiceDefinition::Recovery::restart:
      g.meta.push_back({"migration-threshold", std::to_string(s.max_restarts + 1)});
      g.meta.push_back({"failure-timeout", pcmk_duration(s.restart_window)});
      out.approximations.push_back(
          where(s) + ": max_restarts " + std::to_string(s.max_restarts) + " within restart_window " +
          pcmk_duration(s.restart_window) + " as migration-threshold " + std::to_string(s.max_restarts + 1) +
          " and failure-timeout " + pcmk_duration(s.restart_window) +
          ": Pacemaker counts failures per resource (Castor per service) and forgets them all failure-timeout after "
          "the last one (Castor counts the restarts within the window)");
      break;
    case ServiceDefinition::Recovery::relocate:
      g.meta.push_back({"migration-threshold", "1"});
      out.approximations.push_back(where(s) +
                                   ": recovery relocate as migration-threshold 1: the node stays banned for the "
                                   "group until its failures are cleaned up (crm_resource --cleanup)");
      break;
    case ServiceDefinition::Recovery::disable:
      out.approximations.push_back(where(s) +
                                   ": recovery disable as on-fail=stop on start and monitor: Pacemaker stops the "
                                   "failed resource and leaves it stopped (the group's later members with it), "
                                   "where Castor stops and disables the whole service");
      break;
  }
  std::vector<std::string> domain;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const int score = i == 0 ? kPcmkPreferredScore : kPcmkSecondScore;
    out.locations.push_back({"loc-" + g.id + "-" + pcmk_id(s.nodes[i]), g.id, s.nodes[i], std::to_string(score), {}});
    domain.push_back(s.nodes[i]);
  }
  out.locations.push_back({"loc-" + g.id + "-domain", g.id, "", "-INFINITY", domain});
  out.groups.push_back(std::move(g));
}

void map_fence(const FenceDeviceConfig& d, PcmkExport& out) {
  const std::string what = "fence device for " + d.node;
  PcmkPrimitive p;
  p.id = pcmk_id("fence-" + d.node);
  p.cls = "stonith";
  const size_t slash = d.agent.rfind('/');
  p.type = slash == std::string::npos ? d.agent : d.agent.substr(slash + 1);
  if (slash != std::string::npos && d.agent.substr(0, slash) != "/usr/sbin")
    out.not_expressed.push_back(what + ": agent path " + d.agent + ": Pacemaker runs fence agents from its own "
                                "directory only; exported as " + p.type);
  for (const auto& [k, v] : d.options) {
    if (k.starts_with("pcmk_")) {
      out.not_expressed.push_back(what + ": option." + k + ": Pacemaker reads pcmk_* parameters itself instead "
                                  "of passing them to the agent");
      continue;
    }
    p.params.push_back({k, v});
  }
  p.params.push_back({"pcmk_host_list", d.node});
  if (d.password_file) {
    p.params.push_back({"password_script", "/usr/bin/head -n 1 " + *d.password_file});
    out.approximations.push_back(what + ": password_file " + *d.password_file +
                                 " as password_script (its first line): the file must exist on every node that "
                                 "may fence " + d.node);
  }
  if (d.action == FenceAction::off) p.params.push_back({"pcmk_reboot_action", "off"});
  const std::string timeout = pcmk_duration(std::chrono::duration_cast<Millis>(d.timeout));
  p.params.push_back({"pcmk_off_timeout", timeout});
  p.params.push_back({"pcmk_reboot_timeout", timeout});
  p.params.push_back({"pcmk_off_retries", std::to_string(d.retries + 1)});
  p.params.push_back({"pcmk_reboot_retries", std::to_string(d.retries + 1)});
  out.approximations.push_back(what + ": retries " + std::to_string(d.retries) + " as pcmk_off_retries " +
                               std::to_string(d.retries + 1) + ": Pacemaker's attempts share one timeout (" +
                               timeout + "), Castor gives each attempt its own");
  if (d.delay > Duration::zero())
    p.params.push_back({"pcmk_delay_base", pcmk_duration(std::chrono::duration_cast<Millis>(d.delay))});
  if (d.settle > Duration::zero())
    out.not_expressed.push_back(what + ": settle_ms " +
                                std::to_string(std::chrono::duration_cast<Millis>(d.settle).count()) +
                                " (the wait after a confirmed off before the takeover): Pacemaker has no such delay");
  out.locations.push_back({"loc-" + p.id + "-not-" + pcmk_id(d.node), p.id, d.node, "-INFINITY", {}});
  out.levels.push_back({"fl-" + pcmk_id(d.node) + "-1", d.node, 1, {p.id}});
  out.stonith.push_back(std::move(p));
}

}  // namespace

bool is_pcmk_id(std::string_view id) {
  if (id.empty() || !id_start(id[0])) return false;
  for (char c : id)
    if (!id_char(c)) return false;
  return true;
}

std::string pcmk_id(std::string_view castor_name) {
  std::string id(castor_name);
  if (!id.empty() && !id_start(id[0])) id = "_" + id;
  return id;
}

std::string pcmk_duration(Millis d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::string pcmk_meta_id(std::string_view owner, std::string_view name) {
  return std::string(owner) + "-meta_attributes-" + std::string(name);
}
std::string pcmk_param_id(std::string_view owner, std::string_view name) {
  return std::string(owner) + "-instance_attributes-" + std::string(name);
}

Result<PcmkExport> build_pacemaker_export(const std::vector<ServiceDefinition>& services,
                                          const std::vector<FenceDeviceConfig>& fence) {
  PcmkExport out;
  bool default_timings = false;
  for (const ServiceDefinition& s : services) map_service(s, out, default_timings);
  for (const FenceDeviceConfig& d : fence) map_fence(d, out);
  if (default_timings)
    out.approximations.push_back(
        "timings a service file does not give are exported as Castor's defaults (start and stop 60s, monitor every "
        "10s, timeout 20s); svcmgr uses an OCF agent's advertised defaults (its meta-data) for them instead");
  out.not_expressed.push_back("frozen (castor freeze) is a runtime state, not in the service files: set "
                              "is-managed=false on a group by hand");
  out.not_expressed.push_back("the quorum disk and the watchdog (Castor's last fencing level): not exported; "
                              "Pacemaker's quorum comes from corosync (two_node); --sbd exports the disk as an sbd device");

  // Every id the renderers write must be unique and an NCName.
  std::map<std::string, int> seen;
  auto add = [&](const std::string& id) { ++seen[id]; };
  auto add_primitive = [&](const PcmkPrimitive& p) {
    add(p.id);
    if (!p.params.empty()) add(p.id + "-instance_attributes");
    if (!p.meta.empty()) add(p.id + "-meta_attributes");
    for (const PcmkAttr& a : p.params) add(pcmk_param_id(p.id, a.name));
    for (const PcmkAttr& a : p.meta) add(pcmk_meta_id(p.id, a.name));
    for (const PcmkOp& o : p.ops) {
      add(o.id);
      if (o.check_level) {
        add(o.id + "-instance_attributes");
        add(pcmk_param_id(o.id, "OCF_CHECK_LEVEL"));
      }
    }
  };
  for (const PcmkGroup& g : out.groups) {
    add(g.id);
    if (!g.meta.empty()) add(g.id + "-meta_attributes");
    for (const PcmkAttr& a : g.meta) add(pcmk_meta_id(g.id, a.name));
    for (const PcmkPrimitive& p : g.members) add_primitive(p);
  }
  for (const PcmkPrimitive& p : out.stonith) add_primitive(p);
  for (const PcmkLocation& l : out.locations) {
    add(l.id);
    if (!l.allowed_nodes.empty()) {
      add(l.id + "-rule");
      for (size_t i = 0; i < l.allowed_nodes.size(); ++i) add(l.id + "-rule-expr-" + std::to_string(i));
    }
  }
  for (const PcmkFencingLevel& l : out.levels) add(l.id);
  std::string problems;
  auto check_values = [&](const PcmkPrimitive& p) {
    for (const PcmkAttr& a : p.params)
      for (char c : a.value)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
          problems += (problems.empty() ? "" : "; ") + ("the value of " + a.name + " of " + p.id +
                                                         " holds a control character, which a CIB cannot hold");
          break;
        }
  };
  for (const PcmkGroup& g : out.groups)
    for (const PcmkPrimitive& p : g.members) check_values(p);
  for (const PcmkPrimitive& p : out.stonith) check_values(p);
  for (const auto& [id, n] : seen) {
    if (n > 1) problems += (problems.empty() ? "" : "; ") + ("id '" + id + "' would name " + std::to_string(n) + " objects");
    else if (!is_pcmk_id(id)) problems += (problems.empty() ? "" : "; ") + ("'" + id + "' is not a valid CIB id");
  }
  if (!problems.empty()) return Error(Code::invalid_argument, problems);
  return out;
}

}  // namespace castor
