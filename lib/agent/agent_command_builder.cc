#include "agent/agent_command_builder.h"

#include <utility>
#include <vector>

#include "common/trusted_program.h"

namespace castor {
namespace {

using Kind = ResourceDefinition::AgentKind;

bool is_monitor_like(AgentAction a) {
  return a == AgentAction::monitor || a == AgentAction::probe || a == AgentAction::status;
}

std::string env(std::string_view key, std::string_view value) {
  std::string e(key);
  e += '=';
  e += value;
  return e;
}

void add_common_env(std::vector<std::string>& out, const ResourceDefinition& r, const RunContext& ctx) {
  out.push_back(kAgentPathEnv);
  out.push_back(env("CASTOR_SERVICE", ctx.service));
  out.push_back(env("CASTOR_RESOURCE", r.name));
  out.push_back(env("CASTOR_NODE", ctx.node));
  out.push_back(env("CASTOR_EPOCH", std::to_string(ctx.epoch)));
}

std::string what(const ResourceDefinition& r, AgentAction action) {
  return "resource " + r.name + " (" + agent_spec(r) + "), action " + std::string(agent_action_arg(action));
}

Status build_ocf(const ResourceDefinition& r, AgentAction action, const RunContext& ctx, AgentCommand& c) {
  c.argv = {ctx.ocf_root + "/resource.d/" + r.provider + "/" + r.type, std::string(agent_action_arg(action))};
  auto& e = c.env;
  e.push_back(env("OCF_ROOT", ctx.ocf_root));
  e.push_back("OCF_RA_VERSION_MAJOR=1");
  e.push_back("OCF_RA_VERSION_MINOR=1");
  e.push_back(env("OCF_RESOURCE_INSTANCE", ocf_resource_instance(ctx.service, r)));
  e.push_back(env("OCF_RESOURCE_TYPE", r.type));
  e.push_back(env("OCF_RESOURCE_PROVIDER", r.provider));
  for (const auto& [name, value] : r.params) e.push_back(env("OCF_RESKEY_" + name, value));
  e.push_back(env("OCF_RESKEY_CRM_meta_timeout", std::to_string(agent_action_timeout(r, action).count())));
  int64_t interval = action == AgentAction::monitor ? r.monitor_interval.count() : 0;
  e.push_back(env("OCF_RESKEY_CRM_meta_interval", std::to_string(interval)));
  e.push_back(env("OCF_RESKEY_CRM_meta_on_node", ctx.node));
  if (action == AgentAction::monitor && r.check_level != 0)
    e.push_back(env("OCF_CHECK_LEVEL", std::to_string(r.check_level)));
  e.push_back("HA_LOGFACILITY=none");
  return Status::Ok();
}

Status build_lsb(const ResourceDefinition& r, AgentAction action, const RunContext& ctx, AgentCommand& c) {
  std::string word;
  if (action == AgentAction::start || action == AgentAction::stop) {
    word = agent_action_arg(action);
  } else if (is_monitor_like(action)) {
    word = "status";
  } else {
    return Error(Code::unsupported, what(r, action) + ": init scripts have no such action");
  }
  c.argv = {ctx.lsb_root + "/" + r.lsb_name, word};
  return Status::Ok();
}

Status build_exec(const ResourceDefinition& r, AgentAction action, AgentCommand& c) {
  const std::vector<std::string>* argv = nullptr;
  if (action == AgentAction::start) {
    argv = &r.start_argv;
  } else if (action == AgentAction::stop) {
    argv = &r.stop_argv;
  } else if (is_monitor_like(action)) {
    if (r.monitor_argv.empty()) return Error(Code::not_found, what(r, action) + ": no monitor command");
    argv = &r.monitor_argv;
  } else {
    return Error(Code::unsupported, what(r, action) + ": exec resources have no such action");
  }
  if (argv->empty()) return Error(Code::invalid_argument, what(r, action) + ": empty command");
  c.argv = *argv;
  return Status::Ok();
}

}  // namespace

Status check_agent_program(const AgentCommand& cmd) {
  if (cmd.argv.empty()) return Error(Code::invalid_argument, "empty command");
  // The search path env would use: the agent's own PATH (a '#!/usr/bin/env NAME' script).
  std::string_view search = kAgentPathEnv;
  search.remove_prefix(std::string_view("PATH=").size());
  Status st = check_trusted_program(cmd.argv[0], search);
  if (!st.ok() && st.code() != Code::not_found) return st.with_context("agent program");  // not installed: spawn says so
  // shell = yes ({"/bin/sh", "-c", LINE}): the program the line starts, when it names one by absolute path.
  if (cmd.argv.size() == 3 && cmd.argv[0] == "/bin/sh" && cmd.argv[1] == "-c") {
    if (std::string program = shell_line_program(cmd.argv[2]); !program.empty()) {
      Status p = check_trusted_program(program, search);
      if (!p.ok() && p.code() != Code::not_found) return p.with_context("program of the agent's shell command");
    }
  }
  return Status::Ok();
}

Millis agent_action_timeout(const ResourceDefinition& r, AgentAction action) {
  switch (action) {
    case AgentAction::start: return r.start_timeout;
    case AgentAction::stop: return r.stop_timeout;
    case AgentAction::monitor:
    case AgentAction::probe:
    case AgentAction::status: return r.monitor_timeout;
    case AgentAction::validate:
    case AgentAction::meta_data: return kMetaActionTimeout;
  }
  return kMetaActionTimeout;
}

std::string ocf_resource_instance(const std::string& service, const ResourceDefinition& r) {
  return service + "_" + r.name;
}

Result<AgentCommand> build_agent_command(const ResourceDefinition& r, AgentAction action, const RunContext& ctx) {
  AgentCommand c;
  Millis timeout = agent_action_timeout(r, action);
  if (timeout <= Millis::zero())
    return Error(Code::invalid_argument, what(r, action) + ": timeout must be > 0");
  c.timeout = timeout;
  add_common_env(c.env, r, ctx);
  Status st;
  switch (r.kind) {
    case Kind::ocf: st = build_ocf(r, action, ctx, c); break;
    case Kind::lsb: st = build_lsb(r, action, ctx, c); break;
    case Kind::exec: st = build_exec(r, action, c); break;
    case Kind::systemd:
      st = Error(Code::unsupported, what(r, action) + ": systemd units are not supported (systemd is not PID 1 here)");
      break;
  }
  if (!st.ok()) return st;
  return c;
}

}  // namespace castor
