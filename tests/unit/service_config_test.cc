#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "config/service_definition.h"
#include "config/service_loader.h"
#include "tests/support/scratch.h"

using namespace castor;
using Kind = ResourceDefinition::AgentKind;

namespace {

const std::vector<std::string> kNodes = {"alpha", "beta"};

const char* kFullFile = R"(; a full service file
[service]
name = web                      ; required
nodes = alpha, beta
failback = yes
autostart = no
recovery = relocate
max_restarts = 5
restart_window = 10m
start_timeout = 45s
stop_timeout = 50s
monitor_interval = 15s
monitor_timeout = 25s

[resource fs]
agent = ocf:heartbeat:Filesystem
param.device = /dev/vdb
param.directory = /srv/data
start_timeout = 30s
monitor_interval = 20s
monitor_timeout = 10s
check_level = 10

[resource app]
agent = exec
start = /usr/bin/myapp --daemon "--title=my app"
stop = /usr/bin/myapp --stop
monitor = /usr/bin/myapp --status
shell = no

[resource init]
agent = lsb:nginx
stop_timeout = 500ms

[resource unit]
agent = systemd:foo@bar.service
monitor_interval = 0
)";

// The smallest valid file around `resource_lines` (resource sections and whatever else the test needs).
std::string with_service(const std::string& rest) {
  return "[service]\nname = web\nnodes = alpha, beta\n" + rest;
}
const std::string kDummyResource = "[resource d]\nagent = ocf:heartbeat:Dummy\n";

LoadResult load(const std::string& text) { return load_service_text(text, "web.ini", kNodes); }

// The single error of a text that must fail, as "file:line: message".
std::string only_error(const std::string& text) {
  LoadResult r = load(text);
  CHECK(r.services.empty());
  REQUIRE(r.errors.size() >= 1);
  if (r.errors.size() != 1) MESSAGE("more than one error:\n" << r.error_text());
  return r.errors[0].to_string();
}

bool has(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return true;
  MESSAGE("'" << needle << "' not in: " << haystack);
  return false;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST_CASE("service file: a full valid file loads into the expected definition, defaults filled in") {
  LoadResult r = load(kFullFile);
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  REQUIRE(r.services.size() == 1);
  const ServiceDefinition& s = r.services[0];

  ServiceDefinition want;
  want.name = "web";
  want.file = "web.ini";
  want.line = 3;
  want.nodes = {"alpha", "beta"};
  want.failback = true;
  want.autostart = false;
  want.recovery = ServiceDefinition::Recovery::relocate;
  want.max_restarts = 5;
  want.restart_window = Millis(600000);

  ResourceDefinition fs;
  fs.name = "fs";
  fs.kind = Kind::ocf;
  fs.provider = "heartbeat";
  fs.type = "Filesystem";
  fs.params = {{"device", "/dev/vdb"}, {"directory", "/srv/data"}};
  fs.start_timeout = Millis(30000);
  fs.stop_timeout = Millis(50000);
  fs.monitor_interval = Millis(20000);
  fs.monitor_timeout = Millis(10000);
  fs.check_level = 10;
  fs.line = 15;

  ResourceDefinition app;
  app.name = "app";
  app.kind = Kind::exec;
  app.start_argv = {"/usr/bin/myapp", "--daemon", "--title=my app"};
  app.stop_argv = {"/usr/bin/myapp", "--stop"};
  app.monitor_argv = {"/usr/bin/myapp", "--status"};
  app.start_line = "/usr/bin/myapp --daemon \"--title=my app\"";
  app.stop_line = "/usr/bin/myapp --stop";
  app.monitor_line = "/usr/bin/myapp --status";
  app.shell = false;
  app.start_timeout = Millis(45000);
  app.stop_timeout = Millis(50000);
  app.monitor_interval = Millis(15000);
  app.monitor_timeout = Millis(25000);
  app.line = 24;

  ResourceDefinition init;
  init.name = "init";
  init.kind = Kind::lsb;
  init.lsb_name = "nginx";
  init.start_timeout = Millis(45000);
  init.stop_timeout = Millis(500);
  init.monitor_interval = Millis(15000);
  init.monitor_timeout = Millis(25000);
  init.line = 31;

  ResourceDefinition unit;
  unit.name = "unit";
  unit.kind = Kind::systemd;
  unit.systemd_unit = "foo@bar.service";
  unit.start_timeout = Millis(45000);
  unit.stop_timeout = Millis(50000);
  unit.monitor_interval = Millis(0);
  unit.monitor_timeout = Millis(25000);
  unit.line = 35;

  // [service] gives all four timings, so every resource has them from the file (none from agent meta-data).
  for (ResourceDefinition* res : {&fs, &app, &init, &unit}) res->explicit_timings = 0xF;
  want.resources = {fs, app, init, unit};
  CHECK(s.name == want.name);
  LoadResult bare = load(with_service(kDummyResource));
  REQUIRE(bare.ok());
  CHECK(bare.services[0].resources[0].explicit_timings == 0);  // all four may come from the agent
  CHECK(s.nodes == want.nodes);
  for (size_t i = 0; i < want.resources.size() && i < s.resources.size(); ++i) {
    CAPTURE(i);
    CHECK(s.resources[i] == want.resources[i]);
  }
  CHECK(s == want);
  CHECK(definition_problems(s, kNodes).empty());
  CHECK(agent_spec(s.resources[0]) == "ocf:heartbeat:Filesystem");
  CHECK(agent_spec(s.resources[3]) == "systemd:foo@bar.service");
}

TEST_CASE("service file: the minimal file gets every default") {
  LoadResult r = load(with_service("[resource d]\nagent = ocf:heartbeat:Dummy\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  const ServiceDefinition& s = r.services.at(0);
  CHECK(s.failback == false);
  CHECK(s.autostart == true);
  CHECK(s.recovery == ServiceDefinition::Recovery::restart);
  CHECK(s.max_restarts == 3);
  CHECK(s.restart_window == Millis(300000));
  const ResourceDefinition& d = s.resources.at(0);
  CHECK(d.start_timeout == Millis(60000));
  CHECK(d.stop_timeout == Millis(60000));
  CHECK(d.monitor_interval == Millis(10000));
  CHECK(d.monitor_timeout == Millis(20000));
  CHECK(d.check_level == 0);
  CHECK(d.params.empty());
}

TEST_CASE("service syntax: durations, booleans, names, command lines") {
  using namespace service_syntax;
  CHECK(*parse_duration("30s") == Millis(30000));
  CHECK(*parse_duration("500ms") == Millis(500));
  CHECK(*parse_duration("2m") == Millis(120000));
  CHECK(*parse_duration("1h") == Millis(3600000));
  CHECK(*parse_duration("45") == Millis(45000));
  CHECK(*parse_duration("0") == Millis(0));
  for (const char* bad : {"", "s", "-1s", "1.5s", "10 s", "10x", "10S", "99999999999999999999s", "8d", "200h"})
    CHECK_MESSAGE(!parse_duration(bad).ok(), bad);
  for (const char* t : {"yes", "YES", "true", "On", "1"}) CHECK(*parse_bool(t) == true);
  for (const char* f : {"no", "False", "OFF", "0"}) CHECK(*parse_bool(f) == false);
  for (const char* bad : {"", "y", "2", "yess"}) CHECK(!parse_bool(bad).ok());
  CHECK(check_name("web").ok());
  CHECK(check_name("0db-2.primary_x").ok());
  CHECK(check_name(std::string(63, 'a')).ok());
  CHECK(!check_name(std::string(64, 'a')).ok());
  CHECK(!check_name("").ok());
  CHECK(!check_name("-web").ok());
  CHECK(!check_name(".web").ok());
  CHECK(!check_name("web/x").ok());
  CHECK(!check_name("we b").ok());
  CHECK(*split_command_line("  /bin/echo  a\t\"b c\" d\"e f\"g \"\" ") ==
        std::vector<std::string>{"/bin/echo", "a", "b c", "de fg", ""});
  CHECK(*split_command_line(R"(/bin/echo "say \"hi\" \\ \n")") == std::vector<std::string>{"/bin/echo", R"(say "hi" \ \n)"});
  CHECK(*split_command_line(R"(/bin/echo a\b)") == std::vector<std::string>{"/bin/echo", R"(a\b)"});
  CHECK(!split_command_line("/bin/echo \"open").ok());
  CHECK(!split_command_line("   ").ok());
}

TEST_CASE("service file: unknown sections and keys are errors naming file:line and the key") {
  CHECK(has(only_error(with_service("recover = restart\n" + kDummyResource)),
            "web.ini:4: unknown key 'recover' in [service] (did you mean 'recovery'?)"));
  CHECK(has(only_error(with_service(kDummyResource + "agnet = exec\n")), "web.ini:6: unknown key 'agnet' in [resource d]"));
  CHECK(has(only_error(with_service(kDummyResource + "agnet = exec\n")), "(did you mean 'agent'?)"));
  CHECK(has(only_error(with_service(kDummyResource + "recover = restart\n")), "(did you mean 'recovery' in [service]?)"));
  CHECK(has(only_error(with_service(kDummyResource + "nodes = alpha\n")), "web.ini:6: unknown key 'nodes'"));
  CHECK(has(only_error(with_service(kDummyResource + "name = x\n")), "web.ini:6: unknown key 'name'"));
  CHECK(has(only_error(with_service("agent = exec\n" + kDummyResource)), "web.ini:4: unknown key 'agent' in [service]"));
  CHECK(has(only_error(with_service(kDummyResource + "parm.x = 1\n")), "did you mean 'param.x'?"));
  CHECK(has(only_error(with_service("[services]\nx = 1\n" + kDummyResource)), "web.ini:4: unknown section [services]"));
  CHECK(has(only_error(with_service("[resource]\nagent = exec\n" + kDummyResource)), "web.ini:4: [resource] needs a name"));
  CHECK(has(load("name = web\n[service]\nnodes = alpha\n" + kDummyResource).error_text(),
            "web.ini:1: key 'name' before any section"));
  CHECK(has(only_error(with_service("[resource x\n" + kDummyResource)), "web.ini:4: syntax error"));
  CHECK(has(only_error(with_service("this is not a key\n" + kDummyResource)), "web.ini:4: syntax error"));
  CHECK(has(only_error(with_service("= value\n" + kDummyResource)), "web.ini:4: empty key"));
  CHECK(has(only_error(with_service("[service] junk\n" + kDummyResource)), "web.ini:4: unexpected text"));
  // Section names and keys are case-sensitive.
  CHECK(has(only_error(with_service("Failback = yes\n" + kDummyResource)), "unknown key 'Failback'"));
}

TEST_CASE("service file: several errors in one file are all reported, each with its line") {
  LoadResult r = load("[service]\nname = web\nnodes = alpha, gamma\nfailback = maybe\nmax_restarts = 1001\n"
                      "[resource a]\nagent = ocf:heartbeat\n[resource b]\nagent = exec\nstart = bin/x\nstop = /bin/y\n");
  CHECK(r.services.empty());
  const std::string all = r.error_text();
  CHECK(has(all, "web.ini:3: key 'nodes' in [service]: unknown node 'gamma' (cluster nodes: alpha, beta)"));
  CHECK(has(all, "web.ini:4: key 'failback' in [service]: 'maybe' is not a boolean"));
  CHECK(has(all, "web.ini:5: key 'max_restarts' in [service]: '1001' is not an integer from 0 to 1000"));
  CHECK(has(all, "web.ini:7: key 'agent' in [resource a]: 'ocf:heartbeat': expected ocf:PROVIDER:TYPE"));
  CHECK(has(all, "web.ini:10: key 'start' in [resource b]: 'bin/x' must be an absolute path"));
  CHECK(r.errors.size() == 5);
}

TEST_CASE("service file: booleans in any case, as in castor.ini") {
  LoadResult r = load(with_service("failback = Yes\nautostart = OFF\n" + kDummyResource));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  CHECK(r.services[0].failback);
  CHECK_FALSE(r.services[0].autostart);
  LoadResult s = load(with_service("failback = True\nautostart = On\n" + kDummyResource));
  REQUIRE_MESSAGE(s.ok(), s.error_text());
  CHECK(s.services[0].failback);
  CHECK(s.services[0].autostart);
}

TEST_CASE("service file: syntax and key errors come in line order, at most 100 in all") {
  // Syntax errors (found by the INI reader) and unknown keys (found by the loader) interleaved.
  std::string text = with_service("");
  for (int i = 0; i < 30; ++i) text += "no equals sign\nbogus" + std::to_string(i) + " = 1\n";
  text += kDummyResource;
  LoadResult r = load(text);
  REQUIRE(r.errors.size() == 60);
  for (size_t i = 0; i < r.errors.size(); ++i) {
    CAPTURE(i);
    CHECK(r.errors[i].line == int(4 + i));
    CHECK(has(r.errors[i].message, i % 2 == 0 ? "syntax error" : "unknown key 'bogus"));
  }
  // More than 100 of the two kinds together: the first 100, the last one saying so.
  std::string many = with_service("");
  for (int i = 0; i < 80; ++i) many += "no equals sign\nbogus" + std::to_string(i) + " = 1\n";
  LoadResult m = load(many + kDummyResource);
  REQUIRE(m.errors.size() == kMaxErrorsPerFile);
  CHECK(m.services.empty());
  CHECK(m.errors.back().line == 103);
  CHECK(has(m.errors.back().message, "too many errors"));
}

TEST_CASE("service file: duplicate keys, sections and resources are errors") {
  CHECK(has(only_error(with_service("failback = yes\nfailback = no\n" + kDummyResource)),
            "web.ini:5: duplicate key 'failback' in [service] (first at line 4)"));
  CHECK(has(only_error(with_service(kDummyResource + "param.x = 1\nparam.x = 2\n")),
            "web.ini:7: duplicate key 'param.x' in [resource d] (first at line 6)"));
  CHECK(has(only_error(with_service(kDummyResource + "[service]\nname = x\n")), "web.ini:6: second [service] section"));
  CHECK(has(only_error(with_service(kDummyResource + "[resource d]\nagent = exec\n")),
            "web.ini:6: duplicate resource 'd' (first defined at line 4)"));
  // An indented line is not a continuation of the previous value: it is a key of its own (here a duplicate).
  CHECK(has(only_error(with_service(kDummyResource + "param.x = 1\n  param.x = 2\n")), "web.ini:7: duplicate key"));
}

TEST_CASE("service file: missing [service], name, nodes or resources are errors") {
  CHECK(has(only_error(kDummyResource), "web.ini: no [service] section"));
  CHECK(has(only_error("[service]\nnodes = alpha\n" + kDummyResource), "web.ini:1: [service] has no 'name'"));
  CHECK(has(only_error("[service]\nname = web\n" + kDummyResource), "web.ini:1: [service] has no 'nodes'"));
  CHECK(has(only_error(with_service("")), "no resources"));
  LoadResult empty = load("");
  CHECK(empty.services.empty());
  CHECK(has(empty.error_text(), "web.ini: no [service] section"));
  CHECK(has(empty.error_text(), "web.ini: no resources"));
}

TEST_CASE("service file: bad values are errors") {
  CHECK(has(only_error(with_service("restart_window = 5 minutes\n" + kDummyResource)),
            "web.ini:4: key 'restart_window' in [service]: '5 minutes' is not a duration"));
  CHECK(has(only_error(with_service("restart_window = 0\n" + kDummyResource)), "web.ini:4: key 'restart_window'"));
  CHECK(has(only_error(with_service("start_timeout = 0s\n" + kDummyResource)), "must be more than 0"));
  CHECK(has(only_error(with_service("autostart = sure\n" + kDummyResource)), "web.ini:4: key 'autostart'"));
  CHECK(has(only_error(with_service("recovery = reboot\n" + kDummyResource)),
            "web.ini:4: key 'recovery' in [service]: 'reboot' is not a recovery policy (restart, relocate or disable)"));
  CHECK(has(only_error(with_service("max_restarts = -1\n" + kDummyResource)), "web.ini:4: key 'max_restarts'"));
  CHECK(has(only_error(with_service("max_restarts = 3x\n" + kDummyResource)), "web.ini:4: key 'max_restarts'"));
  CHECK(has(only_error(with_service(kDummyResource + "monitor_timeout = 1.5s\n")),
            "web.ini:6: key 'monitor_timeout' in [resource d]"));
  CHECK(has(only_error(with_service(kDummyResource + "check_level = 5\n")), "web.ini:6: key 'check_level'"));
  CHECK(has(only_error("[service]\nname = -web\nnodes = alpha\n" + kDummyResource), "web.ini:2: key 'name'"));
  CHECK(has(only_error("[service]\nname = " + std::string(64, 'w') + "\nnodes = alpha\n" + kDummyResource),
            "web.ini:2: key 'name' in [service]: name is 64 characters long (at most 63)"));
  CHECK(has(only_error(with_service("[resource bad/name]\nagent = exec\n" + kDummyResource)),
            "web.ini:4: bad resource name"));
  CHECK(has(only_error(with_service("[resource " + std::string(64, 'r') + "]\nagent = exec\n" + kDummyResource)),
            "web.ini:4: bad resource name"));
  // A long but valid resource name (inih itself would cut a section name at 49 bytes).
  LoadResult r = load(with_service("[resource " + std::string(63, 'r') + "]\nagent = ocf:heartbeat:Dummy\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  CHECK(r.services[0].resources[0].name == std::string(63, 'r'));
}

TEST_CASE("service file: node list rules") {
  CHECK(has(only_error("[service]\nname = web\nnodes = alpha, gamma\n" + kDummyResource),
            "web.ini:3: key 'nodes' in [service]: unknown node 'gamma'"));
  CHECK(has(only_error("[service]\nname = web\nnodes = alpha, alpha\n" + kDummyResource), "node 'alpha' listed twice"));
  CHECK(has(only_error("[service]\nname = web\nnodes = alpha,,beta\n" + kDummyResource), "empty node name"));
  CHECK(has(only_error("[service]\nname = web\nnodes =\n" + kDummyResource), "empty node name"));
  LoadResult r = load("[service]\nname = web\nnodes = beta,alpha\n" + kDummyResource);
  REQUIRE(r.ok());
  CHECK(r.services[0].nodes == std::vector<std::string>{"beta", "alpha"});
  // No cluster node list (castor check without --nodes): any node name is accepted.
  LoadResult any = load_service_text("[service]\nname = web\nnodes = alpha\n" + kDummyResource, "web.ini", {});
  CHECK(any.ok());
}

TEST_CASE("service file: agent syntax and agent-specific keys") {
  for (const char* bad : {"ocf", "ocf:heartbeat", "ocf::Dummy", "ocf:heartbeat:", "ocf:heart/beat:Dummy",
                          "ocf:..:Dummy", "ocf:heartbeat:../x", "lsb", "lsb:", "lsb:../x", "systemd:", "systemd:a/b",
                          "execute", "Exec", "script:foo", ""}) {
    CAPTURE(bad);
    CHECK(has(only_error(with_service("[resource r]\nagent = " + std::string(bad) + "\n")), "web.ini:5: key 'agent'"));
  }
  CHECK(has(only_error(with_service("[resource r]\nmonitor_interval = 5s\n")), "web.ini:4: [resource r] has no 'agent'"));
  CHECK(has(only_error(with_service("[resource r]\nagent = lsb:nginx\nparam.x = 1\n")),
            "web.ini:6: key 'param.x' in [resource r]: parameters are only valid for ocf agents"));
  CHECK(has(only_error(with_service("[resource r]\nagent = exec\nstart = /bin/true\nstop = /bin/true\nparam.x = 1\n")),
            "web.ini:8: key 'param.x'"));
  CHECK(has(only_error(with_service("[resource r]\nagent = lsb:nginx\ncheck_level = 10\n")),
            "web.ini:6: key 'check_level'"));
  CHECK(has(only_error(with_service("[resource r]\nagent = ocf:heartbeat:Dummy\nstart = /bin/true\n")),
            "web.ini:6: key 'start' in [resource r]: only valid for agent = exec"));
  CHECK(has(only_error(with_service("[resource r]\nagent = systemd:x.service\nshell = yes\n")), "web.ini:6: key 'shell'"));
  CHECK(has(only_error(with_service(kDummyResource + "param.bad-name = 1\n")), "web.ini:6: bad parameter key 'param.bad-name'"));
  CHECK(has(only_error(with_service(kDummyResource + "param. = 1\n")), "web.ini:6: bad parameter key 'param.'"));
  CHECK(has(only_error(with_service("param.x = 1\n" + kDummyResource)), "web.ini:4: unknown key 'param.x' in [service]"));
  // Order of keys within a section does not matter (param before agent).
  LoadResult r = load(with_service("[resource r]\nparam.b = 2\nparam.a = 1\nagent = ocf:p:T\nparam.empty =\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  CHECK(r.services[0].resources[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "2"}, {"empty", ""}});
}

TEST_CASE("service file: exec resources") {
  const std::string head = with_service("[resource app]\nagent = exec\n");
  CHECK(has(only_error(head + "start = myapp --daemon\nstop = /usr/bin/myapp --stop\n"),
            "web.ini:6: key 'start' in [resource app]: 'myapp' must be an absolute path"));
  CHECK(has(only_error(head + "start = /usr/bin/myapp\nstop = ./myapp --stop\n"), "web.ini:7: key 'stop'"));
  CHECK(has(only_error(head + "start = /bin/a\nstop = /bin/b\nmonitor = sbin/check\n"), "web.ini:8: key 'monitor'"));
  CHECK(has(only_error(head + "stop = /usr/bin/myapp --stop\n"), "web.ini:4: [resource app] (agent = exec) has no 'start'"));
  CHECK(has(only_error(head + "start = /usr/bin/myapp\n"), "web.ini:4: [resource app] (agent = exec) has no 'stop'"));
  CHECK(has(only_error(head + "start = /bin/a \"b\nstop = /bin/b\n"), "web.ini:6: key 'start' in [resource app]: unterminated"));
  CHECK(has(only_error(head + "start =\nstop = /bin/b\n"), "web.ini:6: key 'start'"));
  CHECK(has(only_error(head + "start = /bin/a\nstop = /bin/b\nshell = maybe\n"), "web.ini:8: key 'shell'"));
  CHECK(has(only_error(head + "start = /bin/a\nstop = /bin/b\nmonitor_interval = 5s\n"),
            "web.ini:8: key 'monitor_interval' in [resource app]: has no effect"));

  // shell = yes: any line, run by /bin/sh -c.
  LoadResult r = load(head + "shell = yes\nstart = myapp --daemon && echo ok\nstop = pkill -f 'my app'\n");
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  const ResourceDefinition& app = r.services[0].resources[0];
  CHECK(app.shell);
  CHECK(app.start_argv == std::vector<std::string>{"/bin/sh", "-c", "myapp --daemon && echo ok"});
  CHECK(app.stop_argv == std::vector<std::string>{"/bin/sh", "-c", "pkill -f 'my app'"});
  CHECK(app.start_line == "myapp --daemon && echo ok");
  // No monitor command: never monitored, whatever the service default says.
  CHECK(app.monitor_argv.empty());
  CHECK(app.monitor_interval == Millis(0));
}

TEST_CASE("service file: comments and whitespace follow inih's rules") {
  LoadResult r = load(with_service("[resource r]  ; trailing comment\n"
                                   "  agent=ocf:heartbeat:Dummy\r\n"
                                   "# comment\n"
                                   "param.a = x;y ; comment\n"
                                   "param.b : colon form\n"
                                   "param.c = \"quotes stay\"\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  const ResourceDefinition& res = r.services[0].resources[0];
  CHECK(res.type == "Dummy");
  // ';' starts a comment only after whitespace.
  CHECK(res.params == std::vector<std::pair<std::string, std::string>>{
                          {"a", "x;y"}, {"b", "colon form"}, {"c", "\"quotes stay\""}});
  CHECK(has(only_error(with_service("[resource r]\nagent = ocf:heartbeat:Dummy;x y\n")), "web.ini:5: key 'agent'"));
}

TEST_CASE("service file: lines up to 4096 bytes keep their whole value (inih's own buffer is smaller)") {
  const std::string long_value(4000, 'v');
  LoadResult r = load(with_service(kDummyResource + "param.long = " + long_value + "   ; a comment\n" +
                                   "param.short = x\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  const auto& params = r.services[0].resources[0].params;
  REQUIRE(params.size() == 2);
  CHECK(params[0].first == "long");
  CHECK(params[0].second == long_value);
  CHECK(params[1] == std::pair<std::string, std::string>{"short", "x"});

  // Long lines follow the same splitting rules as short ones.
  const std::string pad(300, ' ');
  for (const char* line : {"param.v = a;b ; c", "param.v=a b  ", "param.v : x = y", "param.v = ;x"}) {
    CAPTURE(line);
    LoadResult s = load(with_service(kDummyResource + line + "\n"));
    LoadResult l = load(with_service(kDummyResource + line + pad + "; padding comment\n"));
    REQUIRE_MESSAGE(s.ok(), s.error_text());
    REQUIRE_MESSAGE(l.ok(), l.error_text());
    CHECK(s.services[0].resources[0].params == l.services[0].resources[0].params);
  }
  CHECK(has(only_error(with_service(kDummyResource + std::string(300, 'x') + "\n")), "web.ini:6: syntax error"));
  CHECK(has(only_error(with_service(kDummyResource + "param.x = " + std::string(4087, 'y') + "\n")),
            "web.ini:6: line too long (4097 bytes, at most 4096)"));
  LoadResult ok = load(with_service(kDummyResource + "param.x = " + std::string(4086, 'y') + "\n"));
  CHECK_MESSAGE(ok.ok(), ok.error_text());
}

TEST_CASE("service file: a 1 MiB line and 10,000 resources give clear errors, fast") {
  auto t0 = std::chrono::steady_clock::now();
  std::string text = with_service(kDummyResource + "param.x = " + std::string(1 << 20, 'z') + "\nparam.y = 1\n");
  CHECK(has(only_error(text), "web.ini:6: line too long (1048586 bytes, at most 4096)"));

  std::string many = with_service("");
  for (int i = 0; i < 10000; ++i)
    many += "[resource r" + std::to_string(i) + "]\nagent = ocf:heartbeat:Dummy\nparam.state = /run/x" +
            std::to_string(i) + "\n";
  CHECK(has(only_error(many), "too many resources: 10000 [resource] sections, at most 64 per service"));
  CHECK(has(only_error(many), "web.ini:196:"));  // the 65th header
  // Exactly 64 is fine.
  std::string max = with_service("");
  for (int i = 0; i < 64; ++i) max += "[resource r" + std::to_string(i) + "]\nagent = ocf:heartbeat:Dummy\n";
  LoadResult r = load(max);
  CHECK_MESSAGE(r.ok(), r.error_text());
  CHECK(r.services.at(0).resources.size() == 64);
  // A file of garbage stops at 100 errors.
  std::string garbage;
  for (int i = 0; i < 100000; ++i) garbage += "no equals sign here\n";
  LoadResult g = load(garbage);
  CHECK(g.errors.size() == kMaxErrorsPerFile);
  CHECK(has(g.errors.back().message, "too many errors"));
  CHECK(seconds_since(t0) < 5.0);
  // Too big a file, NUL bytes.
  CHECK(has(only_error(std::string(kMaxServiceFileBytes + 1, '\n')), "web.ini: file is 4194305 bytes"));
  CHECK(has(only_error(with_service(kDummyResource + std::string("param.x = a\0b\n", 14))), "web.ini:6: line contains a NUL"));
}

TEST_CASE("service file: hostile input never crashes") {
  // Cheap deterministic fuzz: mutate a valid file byte by byte; every result is either a valid definition
  // or errors with a file name, never both.
  const std::string base = kFullFile;
  uint64_t x = 88172645463325252ULL;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const char alphabet[] = "[]=:;# \n\"\\/.,-_aZ09\r\t\xff";
  for (int round = 0; round < 2000; ++round) {
    std::string t = base;
    for (int k = 0; k < 1 + int(next() % 8); ++k) {
      size_t pos = next() % (t.size() + 1);
      switch (next() % 3) {
        case 0: t.insert(pos, 1, alphabet[next() % (sizeof alphabet - 1)]); break;
        case 1: if (pos < t.size()) t.erase(pos, 1 + next() % 20); break;
        default: if (pos < t.size()) t[pos] = alphabet[next() % (sizeof alphabet - 1)]; break;
      }
    }
    LoadResult r = load(t);
    CHECK((r.services.size() + (r.errors.empty() ? 0 : 1)) == 1);
    for (const auto& s : r.services) CHECK(definition_problems(s, kNodes).empty());
    for (const auto& e : r.errors) CHECK(e.file == "web.ini");
  }
}

TEST_CASE("service digest: equal across reformatting, different when anything semantic changes") {
  const std::string a = with_service("[resource fs]\nagent = ocf:heartbeat:Filesystem\nparam.device = /dev/vdb\n"
                                     "param.directory = /srv\n[resource app]\nagent = exec\nstart = /bin/app  --go\n"
                                     "stop = /bin/app --stop\n");
  const std::string b = "; the same service, reformatted\n"
                        "[service]\n  nodes=alpha,beta\n\tname   =   web ; comment\n"
                        "autostart = yes\nmax_restarts = 3\nstart_timeout = 1m\n"
                        "[resource fs]\nparam.directory=/srv\nagent=ocf:heartbeat:Filesystem\n"
                        "param.device=/dev/vdb   ; the disk\n"
                        "[resource app]\nstop=/bin/app --stop\nstart = \"/bin/app\" --go\nagent=exec\n";
  LoadResult ra = load_service_text(a, "a.ini", kNodes), rb = load_service_text(b, "b.ini", kNodes);
  REQUIRE_MESSAGE(ra.ok(), ra.error_text());
  REQUIRE_MESSAGE(rb.ok(), rb.error_text());
  CHECK(definition_digest(ra.services[0]) == definition_digest(rb.services[0]));
  CHECK(definitions_digest(ra.services) == definitions_digest(rb.services));

  auto digest_with = [&](const std::string& from, const std::string& to) {
    std::string t = a;
    size_t p = t.find(from);
    REQUIRE(p != std::string::npos);
    t.replace(p, from.size(), to);
    LoadResult r = load(t);
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    return definition_digest(r.services[0]);
  };
  const uint64_t base = definition_digest(ra.services[0]);
  CHECK(digest_with("/dev/vdb", "/dev/vdc") != base);             // a param value
  CHECK(digest_with("param.device", "param.dev") != base);        // a param name
  CHECK(digest_with("alpha, beta", "beta, alpha") != base);       // node order
  CHECK(digest_with("name = web", "name = web2") != base);
  CHECK(digest_with("--stop", "--halt") != base);
  CHECK(digest_with("[resource app]", "[resource app]\nstart_timeout = 61s") != base);
  CHECK(digest_with("[resource app]", "[resource app]\nshell = yes") != base);
  CHECK(digest_with("name = web", "name = web\nfailback = yes") != base);
  CHECK(digest_with("[resource fs]", "[resource fs]\ncheck_level = 20") != base);

  // definitions_digest does not depend on the order of the list.
  LoadResult other = load_service_text("[service]\nname = db\nnodes = beta\n[resource d]\nagent = lsb:d\n", "d.ini", kNodes);
  REQUIRE_MESSAGE(other.ok(), other.error_text());
  std::vector<ServiceDefinition> v1 = {ra.services[0], other.services[0]}, v2 = {other.services[0], ra.services[0]};
  CHECK(definitions_digest(v1) == definitions_digest(v2));
  CHECK(definitions_digest(v1) != definitions_digest({ra.services[0]}));
  CHECK(definitions_digest({}) == definitions_digest({}));
}

TEST_CASE("service dir: sorted *.ini files, other files ignored, duplicates across files rejected") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  write_file(dir.file("b-web.ini"), with_service(kDummyResource));
  write_file(dir.file("a-db.ini"), "[service]\nname = db\nnodes = beta\n" + kDummyResource);
  write_file(dir.file("README"), "not a service file [");
  write_file(dir.file("web.ini.bak"), "[garbage");
  write_file(dir.file(".#web.ini"), "[garbage");
  REQUIRE(mkdir(dir.file("sub").c_str(), 0755) == 0);
  LoadResult r = load_service_dir(dir.path(), kNodes);
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  REQUIRE(r.services.size() == 2);
  CHECK(r.services[0].name == "db");
  CHECK(r.services[0].file == dir.file("a-db.ini"));
  CHECK(r.services[1].name == "web");

  // The same name in two files: both files are rejected, and the error names both.
  write_file(dir.file("c-web-copy.ini"), with_service(kDummyResource));
  LoadResult dup = load_service_dir(dir.path(), kNodes);
  REQUIRE(dup.services.size() == 1);
  CHECK(dup.services[0].name == "db");
  REQUIRE(dup.errors.size() == 2);
  CHECK(has(dup.errors[0].to_string(), dir.file("b-web.ini") + ":2: service 'web' is also defined in " +
                                           dir.file("c-web-copy.ini") + ":2"));
  CHECK(has(dup.errors[1].to_string(), dir.file("c-web-copy.ini") + ":2: service 'web' is also defined in " +
                                           dir.file("b-web.ini") + ":2"));

  // A broken file contributes nothing; the others still load.
  write_file(dir.file("c-web-copy.ini"), with_service("recover = yes\n" + kDummyResource));
  LoadResult broken = load_service_dir(dir.path(), kNodes);
  CHECK(broken.services.size() == 2);
  REQUIRE(broken.errors.size() == 1);
  CHECK(has(broken.errors[0].to_string(), dir.file("c-web-copy.ini") + ":4: unknown key 'recover'"));

  // A directory named *.ini is an error, not silently skipped.
  REQUIRE(mkdir(dir.file("d.ini").c_str(), 0755) == 0);
  LoadResult withdir = load_service_dir(dir.path(), kNodes);
  CHECK(has(withdir.error_text(), dir.file("d.ini") + ": not a regular file"));

  LoadResult missing = load_service_dir(dir.file("nope"), kNodes);
  CHECK(missing.services.empty());
  CHECK(has(missing.error_text(), "nope: cannot open directory"));
  LoadResult nofile = load_service_file(dir.file("nope.ini"), kNodes);
  CHECK(has(nofile.error_text(), "nope.ini: cannot open"));
}

TEST_CASE("service dir: at most 1024 service files") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  for (int i = 0; i < 1026; ++i) {
    char name[32];
    snprintf(name, sizeof name, "s%04d.ini", i);
    write_file(dir.file(name), "[service]\nname = s" + std::to_string(i) + "\nnodes = alpha\n" + kDummyResource);
  }
  LoadResult r = load_service_dir(dir.path(), kNodes);
  CHECK(r.services.size() == 1024);
  REQUIRE(r.errors.size() == 2);
  CHECK(has(r.errors[0].to_string(), "s1024.ini: not loaded"));
  CHECK(has(r.errors[1].to_string(), "s1025.ini: not loaded"));
}

TEST_CASE("service agents: check_agents_exist reports missing and non-executable agents per resource") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string ocf = dir.file("ocf"), lsb = dir.file("init.d");
  REQUIRE(testing::run_command("mkdir -p " + ocf + "/resource.d/heartbeat " + lsb) == 0);
  write_file(ocf + "/resource.d/heartbeat/Dummy", "#!/bin/sh\n");
  chmod((ocf + "/resource.d/heartbeat/Dummy").c_str(), 0755);
  write_file(ocf + "/resource.d/heartbeat/NoExec", "#!/bin/sh\n");
  chmod((ocf + "/resource.d/heartbeat/NoExec").c_str(), 0644);
  write_file(lsb + "/nginx", "#!/bin/sh\n");
  chmod((lsb + "/nginx").c_str(), 0755);

  LoadResult r = load(with_service("[resource ok]\nagent = ocf:heartbeat:Dummy\n"
                                   "[resource missing]\nagent = ocf:heartbeat:Nope\n"
                                   "[resource noexec]\nagent = ocf:heartbeat:NoExec\n"
                                   "[resource init]\nagent = lsb:nginx\n"
                                   "[resource init2]\nagent = lsb:apache2\n"
                                   "[resource app]\nagent = exec\nstart = /bin/true\nstop = /nonexistent/stop\n"
                                   "[resource sh]\nagent = exec\nshell = yes\nstart = whatever\nstop = whatever\n"
                                   "[resource unit]\nagent = systemd:nothing.service\n"));
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  std::vector<LoadError> errs = check_agents_exist(r.services[0], ocf, lsb);
  std::string all;
  for (const auto& e : errs) all += e.to_string() + "\n";
  CHECK(errs.size() == 4);
  CHECK(has(all, "web.ini:6: resource 'missing': OCF agent " + ocf + "/resource.d/heartbeat/Nope: No such file"));
  CHECK(has(all, "web.ini:8: resource 'noexec': OCF agent " + ocf + "/resource.d/heartbeat/NoExec: not executable"));
  CHECK(has(all, "web.ini:12: resource 'init2': LSB script " + lsb + "/apache2: No such file"));
  CHECK(has(all, "web.ini:14: resource 'app': stop command /nonexistent/stop: No such file"));
}

TEST_CASE("service samples: etc/services.d loads cleanly with nodes alpha, beta") {
  LoadResult r = load_service_dir("etc/services.d", kNodes);
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  auto find = [&](const std::string& name) -> const ServiceDefinition& {
    for (const auto& s : r.services)
      if (s.name == name) return s;
    FAIL("no sample service " << name);
    return r.services.front();
  };
  const ServiceDefinition& dummy = find("dummy");
  const ServiceDefinition& web = find("web");
  const ServiceDefinition& pg = find("postgresql");  // issue 18: the disk, the floating IP, then the server
  REQUIRE(pg.resources.size() == 3);
  CHECK(agent_spec(pg.resources[0]) == "ocf:heartbeat:Filesystem");
  CHECK(agent_spec(pg.resources[1]) == "ocf:heartbeat:IPaddr2");
  CHECK(agent_spec(pg.resources[2]) == "ocf:heartbeat:pgsql");
  CHECK(dummy.name == "dummy");
  REQUIRE(dummy.resources.size() == 1);
  CHECK(agent_spec(dummy.resources[0]) == "ocf:heartbeat:Dummy");
  CHECK(dummy.resources[0].params ==
        std::vector<std::pair<std::string, std::string>>{{"state", "/run/castor/dummy.state"}});
  CHECK(web.name == "web");
  REQUIRE(web.resources.size() == 3);
  CHECK(agent_spec(web.resources[0]) == "ocf:heartbeat:IPaddr2");
  CHECK(agent_spec(web.resources[1]) == "ocf:heartbeat:Filesystem");
  const ResourceDefinition& http = web.resources[2];
  CHECK(http.kind == Kind::exec);
  CHECK(http.start_argv.at(0) == "/bin/sh");
  CHECK(has(http.start_argv.at(2), "/usr/bin/python3 -m http.server 80 --bind 192.0.2.10"));
  CHECK(has(http.stop_line, "rm -f /run/castor/web-http.pid"));  // nothing lost to an inline comment
  CHECK(http.monitor_interval == Millis(10000));
  // The two directors (issue 18): HAProxy through its init script (the tested one) and ldirectord (IPVS).
  const ServiceDefinition& director = find("director");
  REQUIRE(director.resources.size() == 2);
  CHECK(agent_spec(director.resources[0]) == "ocf:heartbeat:IPaddr2");
  CHECK(agent_spec(director.resources[1]) == "lsb:haproxy");
  const ServiceDefinition& lvs = find("director-lvs");
  REQUIRE(lvs.resources.size() == 2);
  CHECK(agent_spec(lvs.resources[0]) == "ocf:heartbeat:IPaddr2");
  CHECK(agent_spec(lvs.resources[1]) == "ocf:heartbeat:ldirectord");
}
