// The text of a service file: see service_file_writer.h.
#include "tools/service_file_writer.h"

namespace castor {

namespace {

std::string duration(Millis d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string service_file_text(const ServiceDefinition& def, const std::string& header) {
  std::string out;
  size_t start = 0;
  while (start < header.size()) {
    size_t nl = header.find('\n', start);
    if (nl == std::string::npos) nl = header.size();
    out += "; " + header.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  out += "[service]\nname = " + def.name + "\nnodes = ";
  for (size_t i = 0; i < def.nodes.size(); ++i) out += (i ? ", " : "") + def.nodes[i];
  out += "\nfailback = " + yes_no(def.failback) + "\nautostart = " + yes_no(def.autostart) +
         "\nrecovery = " + std::string(recovery_name(def.recovery)) + "\nmax_restarts = " +
         std::to_string(def.max_restarts) + "\nrestart_window = " + duration(def.restart_window) + "\n";
  if (def.memory_max) out += "memory_max = " + std::to_string(def.memory_max) + "\n";
  if (def.cpu_weight) out += "cpu_weight = " + std::to_string(def.cpu_weight) + "\n";
  if (def.tasks_max) out += "tasks_max = " + std::to_string(def.tasks_max) + "\n";
  for (const ResourceDefinition& r : def.resources) {
    out += "\n[resource " + r.name + "]\nagent = " + agent_spec(r) + "\n";
    for (const auto& [k, v] : r.params) out += "param." + k + " = " + v + "\n";
    if (r.kind == ResourceDefinition::AgentKind::exec) {
      out += "start = " + r.start_line + "\nstop = " + r.stop_line + "\n";
      if (!r.monitor_line.empty()) out += "monitor = " + r.monitor_line + "\n";
      if (r.shell) out += "shell = yes\n";
    }
    out += "start_timeout = " + duration(r.start_timeout) + "\nstop_timeout = " + duration(r.stop_timeout) + "\n";
    if (r.kind != ResourceDefinition::AgentKind::exec || !r.monitor_line.empty()) {
      out += "monitor_interval = " + duration(r.monitor_interval) + "\n";
      if (r.monitor_interval > Millis(0)) out += "monitor_timeout = " + duration(r.monitor_timeout) + "\n";
    }
    if (r.check_level) out += "check_level = " + std::to_string(r.check_level) + "\n";
  }
  return out;
}

}  // namespace castor
