#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_command_builder.h"

using namespace castor;
using namespace std::chrono_literals;

namespace {

RunContext context() {
  RunContext ctx;
  ctx.service = "web";
  ctx.node = "alpha";
  ctx.epoch = 42;
  ctx.ocf_root = "/opt/ocf";
  ctx.lsb_root = "/opt/init.d";
  return ctx;
}

ResourceDefinition ocf_resource() {
  ResourceDefinition r;
  r.name = "fs";
  r.kind = ResourceDefinition::AgentKind::ocf;
  r.provider = "heartbeat";
  r.type = "Filesystem";
  r.params = {{"device", "/dev/vdb"}, {"directory", "/srv/data"}, {"options", "noatime,ro x"}};
  r.start_timeout = 30s;
  r.stop_timeout = 45s;
  r.monitor_interval = 20s;
  r.monitor_timeout = 10s;
  r.check_level = 10;
  return r;
}

ResourceDefinition exec_resource() {
  ResourceDefinition r;
  r.name = "http";
  r.kind = ResourceDefinition::AgentKind::exec;
  r.start_argv = {"/usr/bin/python3", "-m", "http.server"};
  r.stop_argv = {"/bin/sh", "-c", "kill $(cat /run/x.pid)"};
  r.monitor_argv = {"/bin/test", "-f", "/run/x.pid"};
  r.start_timeout = 10s;
  r.stop_timeout = 20s;
  r.monitor_interval = 5s;
  r.monitor_timeout = 3s;
  return r;
}

AgentCommand build(const ResourceDefinition& r, AgentAction a, const RunContext& ctx = context()) {
  Result<AgentCommand> c = build_agent_command(r, a, ctx);
  REQUIRE_MESSAGE(c.ok(), c.status().to_string());
  return std::move(c).value();
}

// The value of KEY in env; nullopt when absent. Fails the test when KEY is set twice.
std::optional<std::string> get(const std::vector<std::string>& env, const std::string& key) {
  std::optional<std::string> found;
  for (const auto& e : env) {
    if (e.compare(0, key.size() + 1, key + "=") != 0) continue;
    CHECK_MESSAGE(!found, key << " set twice");
    found = e.substr(key.size() + 1);
  }
  return found;
}

void check_common_env(const AgentCommand& c, const std::string& resource) {
  CHECK(get(c.env, "PATH") == "/usr/sbin:/usr/bin:/sbin:/bin");
  CHECK(get(c.env, "CASTOR_SERVICE") == "web");
  CHECK(get(c.env, "CASTOR_RESOURCE") == resource);
  CHECK(get(c.env, "CASTOR_NODE") == "alpha");
  CHECK(get(c.env, "CASTOR_EPOCH") == "42");
  for (const auto& e : c.env) {
    CAPTURE(e);
    CHECK(e.find('=') != std::string::npos);
    CHECK(e.find('=') > 0);
  }
}

}  // namespace

TEST_CASE("ocf: argv, OCF variables, params, meta timeout and interval in ms") {
  ResourceDefinition r = ocf_resource();
  AgentCommand c = build(r, AgentAction::start);
  CHECK(c.argv == std::vector<std::string>{"/opt/ocf/resource.d/heartbeat/Filesystem", "start"});
  CHECK(c.timeout == 30s);
  CHECK(c.cwd == "/");
  check_common_env(c, "fs");
  CHECK(get(c.env, "OCF_ROOT") == "/opt/ocf");
  CHECK(get(c.env, "OCF_RA_VERSION_MAJOR") == "1");
  CHECK(get(c.env, "OCF_RA_VERSION_MINOR") == "1");
  CHECK(get(c.env, "OCF_RESOURCE_INSTANCE") == "web_fs");
  CHECK(get(c.env, "OCF_RESOURCE_TYPE") == "Filesystem");
  CHECK(get(c.env, "OCF_RESOURCE_PROVIDER") == "heartbeat");
  CHECK(get(c.env, "OCF_RESKEY_device") == "/dev/vdb");
  CHECK(get(c.env, "OCF_RESKEY_directory") == "/srv/data");
  CHECK(get(c.env, "OCF_RESKEY_options") == "noatime,ro x");  // values as written, spaces and all
  CHECK(get(c.env, "OCF_RESKEY_CRM_meta_timeout") == "30000");
  CHECK(get(c.env, "OCF_RESKEY_CRM_meta_interval") == "0");
  CHECK(get(c.env, "OCF_RESKEY_CRM_meta_on_node") == "alpha");
  CHECK(get(c.env, "HA_LOGFACILITY") == "none");
  CHECK_FALSE(get(c.env, "OCF_CHECK_LEVEL"));  // start: no check level
  CHECK(ocf_resource_instance("web", r) == "web_fs");

  AgentCommand stop = build(r, AgentAction::stop);
  CHECK(stop.argv[1] == "stop");
  CHECK(stop.timeout == 45s);
  CHECK(get(stop.env, "OCF_RESKEY_CRM_meta_timeout") == "45000");
  CHECK(get(stop.env, "OCF_RESKEY_CRM_meta_interval") == "0");
  CHECK_FALSE(get(stop.env, "OCF_CHECK_LEVEL"));
  CHECK(get(stop.env, "OCF_ROOT") == "/opt/ocf");
}

TEST_CASE("ocf: monitor carries the interval and the check level; a probe neither") {
  ResourceDefinition r = ocf_resource();
  AgentCommand m = build(r, AgentAction::monitor);
  CHECK(m.argv[1] == "monitor");
  CHECK(m.timeout == 10s);
  CHECK(get(m.env, "OCF_RESKEY_CRM_meta_timeout") == "10000");
  CHECK(get(m.env, "OCF_RESKEY_CRM_meta_interval") == "20000");
  CHECK(get(m.env, "OCF_CHECK_LEVEL") == "10");
  CHECK(get(m.env, "OCF_ROOT") == "/opt/ocf");

  AgentCommand p = build(r, AgentAction::probe);
  CHECK(p.argv[1] == "monitor");
  CHECK(p.timeout == 10s);
  CHECK(get(p.env, "OCF_RESKEY_CRM_meta_interval") == "0");
  CHECK_FALSE(get(p.env, "OCF_CHECK_LEVEL"));
  CHECK(get(p.env, "OCF_ROOT") == "/opt/ocf");

  r.check_level = 0;
  AgentCommand m0 = build(r, AgentAction::monitor);
  CHECK_FALSE(get(m0.env, "OCF_CHECK_LEVEL"));
}

TEST_CASE("ocf: validate-all and meta-data run with the fixed 30 s timeout") {
  ResourceDefinition r = ocf_resource();
  AgentCommand v = build(r, AgentAction::validate);
  CHECK(v.argv[1] == "validate-all");
  CHECK(v.timeout == kMetaActionTimeout);
  CHECK(get(v.env, "OCF_RESKEY_CRM_meta_timeout") == "30000");
  CHECK(get(v.env, "OCF_RESKEY_CRM_meta_interval") == "0");
  AgentCommand md = build(r, AgentAction::meta_data);
  CHECK(md.argv[1] == "meta-data");
  CHECK(md.timeout == 30s);
  CHECK(get(md.env, "OCF_ROOT") == "/opt/ocf");
}

TEST_CASE("ocf: default roots and no params") {
  ResourceDefinition r;
  r.name = "dummy";
  r.provider = "heartbeat";
  r.type = "Dummy";
  RunContext ctx;
  ctx.service = "svc";
  ctx.node = "beta";
  AgentCommand c = build(r, AgentAction::monitor, ctx);
  CHECK(c.argv == std::vector<std::string>{"/usr/lib/ocf/resource.d/heartbeat/Dummy", "monitor"});
  CHECK(get(c.env, "OCF_ROOT") == "/usr/lib/ocf");
  CHECK(get(c.env, "OCF_RESOURCE_INSTANCE") == "svc_dummy");
  CHECK(get(c.env, "CASTOR_EPOCH") == "0");
  CHECK(get(c.env, "OCF_RESKEY_CRM_meta_timeout") == std::to_string(kDefaultMonitorTimeout.count()));
  CHECK(get(c.env, "OCF_RESKEY_CRM_meta_interval") == std::to_string(kDefaultMonitorInterval.count()));
  size_t reskeys = std::count_if(c.env.begin(), c.env.end(), [](const std::string& e) {
    return e.rfind("OCF_RESKEY_", 0) == 0 && e.rfind("OCF_RESKEY_CRM_meta_", 0) != 0;
  });
  CHECK(reskeys == 0);
}

TEST_CASE("lsb: init script path, start/stop/status, no OCF variables") {
  ResourceDefinition r;
  r.name = "nginx";
  r.kind = ResourceDefinition::AgentKind::lsb;
  r.lsb_name = "nginx";
  r.start_timeout = 11s;
  r.stop_timeout = 12s;
  r.monitor_timeout = 13s;

  AgentCommand s = build(r, AgentAction::start);
  CHECK(s.argv == std::vector<std::string>{"/opt/init.d/nginx", "start"});
  CHECK(s.timeout == 11s);
  check_common_env(s, "nginx");
  CHECK_FALSE(get(s.env, "OCF_ROOT"));
  CHECK_FALSE(get(s.env, "OCF_RESKEY_CRM_meta_timeout"));

  AgentCommand st = build(r, AgentAction::stop);
  CHECK(st.argv[1] == "stop");
  CHECK(st.timeout == 12s);
  for (AgentAction a : {AgentAction::monitor, AgentAction::probe, AgentAction::status}) {
    AgentCommand m = build(r, a);
    CHECK(m.argv == std::vector<std::string>{"/opt/init.d/nginx", "status"});
    CHECK(m.timeout == 13s);
  }
  CHECK(build_agent_command(r, AgentAction::validate, context()).status().code() == Code::unsupported);
  CHECK(build_agent_command(r, AgentAction::meta_data, context()).status().code() == Code::unsupported);
}

TEST_CASE("exec: argv from the definition, common environment only") {
  ResourceDefinition r = exec_resource();
  AgentCommand s = build(r, AgentAction::start);
  CHECK(s.argv == r.start_argv);
  CHECK(s.timeout == 10s);
  check_common_env(s, "http");
  CHECK(s.env.size() == 5);  // PATH and CASTOR_*: nothing else
  CHECK_FALSE(get(s.env, "OCF_ROOT"));

  AgentCommand st = build(r, AgentAction::stop);
  CHECK(st.argv == r.stop_argv);
  CHECK(st.timeout == 20s);
  AgentCommand m = build(r, AgentAction::monitor);
  CHECK(m.argv == r.monitor_argv);
  CHECK(m.timeout == 3s);
  CHECK(build(r, AgentAction::probe).argv == r.monitor_argv);

  CHECK(build_agent_command(r, AgentAction::validate, context()).status().code() == Code::unsupported);

  r.monitor_argv.clear();
  r.monitor_interval = 0ms;
  Result<AgentCommand> none = build_agent_command(r, AgentAction::probe, context());
  CHECK(none.status().code() == Code::not_found);
  CHECK(none.status().message().find("http") != std::string::npos);

  r.start_argv.clear();
  CHECK(build_agent_command(r, AgentAction::start, context()).status().code() == Code::invalid_argument);
}

TEST_CASE("exec with shell = yes: /bin/sh -c LINE as the definition holds it") {
  ResourceDefinition r = exec_resource();
  r.shell = true;
  r.start_line = "echo a; echo b";
  r.start_argv = {"/bin/sh", "-c", r.start_line};
  CHECK(build(r, AgentAction::start).argv == std::vector<std::string>{"/bin/sh", "-c", "echo a; echo b"});
}

TEST_CASE("systemd is unsupported for every action") {
  ResourceDefinition r;
  r.name = "unit";
  r.kind = ResourceDefinition::AgentKind::systemd;
  r.systemd_unit = "nginx.service";
  for (AgentAction a : {AgentAction::start, AgentAction::stop, AgentAction::monitor, AgentAction::probe}) {
    Result<AgentCommand> c = build_agent_command(r, a, context());
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == Code::unsupported);
    CHECK(c.status().message().find("systemd") != std::string::npos);
  }
}

TEST_CASE("a zero timeout is refused, not passed on") {
  ResourceDefinition r = ocf_resource();
  r.stop_timeout = 0ms;
  CHECK(build_agent_command(r, AgentAction::stop, context()).status().code() == Code::invalid_argument);
  CHECK(build_agent_command(r, AgentAction::start, context()).ok());
  CHECK(agent_action_timeout(r, AgentAction::probe) == 10s);
}
