// The Pacemaker export (tools/pacemaker_export.h, tools/pacemaker_render.h): the mapping of representative
// services and fence devices, the refusals and what is listed, and the three renderings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/read_file.h"
#include "config/fence_config.h"
#include "config/service_loader.h"
#include "tools/pacemaker_export.h"
#include "tools/pacemaker_render.h"

using namespace castor;

namespace {

ServiceDefinition load_one(const std::string& text) {
  LoadResult r = load_service_text(text, "test.ini", {"alpha", "beta"});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  REQUIRE(r.services.size() == 1);
  return r.services[0];
}

// The repository's sample, read through the loader from text (the directory's trust rules are the loader's
// business): from $CASTOR_SOURCE_DIR, the working directory, or where this file was compiled.
ServiceDefinition load_sample(const std::string& name) {
  std::vector<std::string> paths;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) paths.push_back(std::string(d) + "/etc/services.d/" + name);
  paths.push_back("etc/services.d/" + name);
  const std::string here = __FILE__;
  if (auto pos = here.rfind("tests/unit/"); pos != std::string::npos)
    paths.push_back(here.substr(0, pos) + "etc/services.d/" + name);
  Result<std::string> text = Error(Code::not_found, name + " not found");
  for (const std::string& p : paths)
    if (text = read_file_to_string(p); text.ok()) break;
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  LoadResult r = load_service_text(*text, name, {"alpha", "beta"});
  REQUIRE_MESSAGE(r.ok(), r.error_text());
  return r.services.at(0);
}

std::string meta(const PcmkGroup& g, const std::string& name) {
  for (const PcmkAttr& a : g.meta)
    if (a.name == name) return a.value;
  return "<absent>";
}

const PcmkOp* op(const PcmkPrimitive& p, const std::string& name) {
  for (const PcmkOp& o : p.ops)
    if (o.name == name) return &o;
  return nullptr;
}

bool any_line_has(const std::vector<std::string>& lines, const std::string& a, const std::string& b) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
  });
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("pacemaker export: the web sample is a group of ip and fs in order; its exec resource is refused with a reason") {
  const ServiceDefinition web = load_sample("web.ini");
  auto e = build_pacemaker_export({web}, {});
  REQUIRE(e.ok());
  REQUIRE(e->groups.size() == 1);
  const PcmkGroup& g = e->groups[0];
  CHECK(g.id == "web");
  REQUIRE(g.members.size() == 2);
  CHECK(g.members[0].id == "web_ip");  // Castor's OCF_RESOURCE_INSTANCE
  CHECK(g.members[0].cls == "ocf");
  CHECK(g.members[0].provider == "heartbeat");
  CHECK(g.members[0].type == "IPaddr2");
  CHECK(g.members[0].params == std::vector<PcmkAttr>{{"cidr_netmask", "24"}, {"ip", "192.0.2.10"}});
  CHECK(g.members[1].id == "web_fs");
  CHECK(g.members[1].type == "Filesystem");

  const PcmkPrimitive& fs = g.members[1];
  REQUIRE(op(fs, "start"));
  CHECK(op(fs, "start")->timeout == Millis(30000));
  CHECK(op(fs, "start")->interval == Millis(0));
  CHECK(op(fs, "stop")->timeout == Millis(60000));
  REQUIRE(op(fs, "monitor"));
  CHECK(op(fs, "monitor")->interval == Millis(20000));
  CHECK(op(fs, "monitor")->timeout == Millis(10000));
  CHECK(op(fs, "monitor")->check_level == 10);
  CHECK(op(g.members[0], "monitor")->interval == Millis(5000));
  CHECK(op(g.members[0], "monitor")->check_level == 0);

  // failback = no, autostart = yes, restart 3 in 300 s.
  CHECK(meta(g, "target-role") == "Started");
  CHECK(meta(g, "resource-stickiness") == "1000");
  CHECK(meta(g, "migration-threshold") == "4");
  CHECK(meta(g, "failure-timeout") == "300s");

  CHECK(any_line_has(e->not_expressed, "resource http", "exec resource not exported"));
  CHECK(any_line_has(e->not_expressed, "resource http", "ocf:heartbeat:anything"));

  // nodes = alpha, beta: alpha preferred, beta second, nothing else.
  REQUIRE(e->locations.size() == 3);
  CHECK(e->locations[0] == PcmkLocation{"loc-web-alpha", "web", "alpha", "200", {}});
  CHECK(e->locations[1] == PcmkLocation{"loc-web-beta", "web", "beta", "100", {}});
  CHECK(e->locations[2] == PcmkLocation{"loc-web-domain", "web", "", "-INFINITY", {"alpha", "beta"}});
  CHECK(e->stonith.empty());
  CHECK(e->levels.empty());
}

TEST_CASE("pacemaker export: dummy prefers beta, fails back, relocates at once; lsb haproxy keeps its timings") {
  auto e = build_pacemaker_export({load_sample("dummy.ini"), load_sample("director-haproxy.ini")}, {});
  REQUIRE(e.ok());
  REQUIRE(e->groups.size() == 2);
  const PcmkGroup& dummy = e->groups[0];
  CHECK(meta(dummy, "resource-stickiness") == "0");
  CHECK(meta(dummy, "migration-threshold") == "1");
  CHECK(meta(dummy, "failure-timeout") == "<absent>");
  CHECK(e->locations[0] == PcmkLocation{"loc-dummy-beta", "dummy", "beta", "200", {}});
  CHECK(e->locations[1] == PcmkLocation{"loc-dummy-alpha", "dummy", "alpha", "100", {}});
  CHECK(op(dummy.members[0], "monitor")->interval == Millis(15000));

  const PcmkGroup& dir = e->groups[1];
  CHECK(dir.id == "director");
  REQUIRE(dir.members.size() == 2);
  CHECK(dir.members[1].cls == "lsb");
  CHECK(dir.members[1].type == "haproxy");
  CHECK(dir.members[1].provider.empty());
  CHECK(op(dir.members[1], "start")->timeout == Millis(30000));
  CHECK(op(dir.members[1], "monitor")->interval == Millis(5000));
  // Nothing of these two is left out but the general lines.
  CHECK(!any_line_has(e->not_expressed, "service dummy", ""));
  CHECK(!any_line_has(e->not_expressed, "service director", ""));
}

TEST_CASE("pacemaker export: recovery disable, autostart no, no monitor, systemd, cgroup limits, an all-exec service") {
  const ServiceDefinition s = load_one(R"([service]
name = 9batch
nodes = beta
autostart = no
recovery = disable
memory_max = 1G
[resource unit]
agent = systemd:batch.service
monitor_interval = 0
)");
  const ServiceDefinition only_exec = load_one(R"([service]
name = tool
nodes = alpha, beta
[resource run]
agent = exec
start = /bin/true
stop = /bin/true
)");
  auto e = build_pacemaker_export({s, only_exec}, {});
  REQUIRE(e.ok());
  REQUIRE(e->groups.size() == 1);  // tool has nothing left to export
  const PcmkGroup& g = e->groups[0];
  CHECK(g.id == "_9batch");         // an NCName may not start with a digit
  CHECK(is_pcmk_id(g.id));
  CHECK(g.members[0].id == "_9batch_unit");
  CHECK(g.members[0].cls == "systemd");
  CHECK(g.members[0].type == "batch.service");
  CHECK(meta(g, "target-role") == "Stopped");
  CHECK(meta(g, "migration-threshold") == "<absent>");
  CHECK(op(g.members[0], "monitor") == nullptr);
  CHECK(op(g.members[0], "start")->on_fail == "stop");
  CHECK(op(g.members[0], "stop")->on_fail.empty());
  CHECK(e->locations.size() == 2);  // beta 200 and the domain rule
  CHECK(any_line_has(e->not_expressed, "service 9batch", "memory_max"));
  CHECK(any_line_has(e->approximations, "resource unit", "systemd"));
  CHECK(any_line_has(e->not_expressed, "service tool", "not exported at all"));
  CHECK(any_line_has(e->not_expressed, "frozen", "is-managed=false"));
}

TEST_CASE("pacemaker export: fence devices become stonith resources kept off their node, and level 1") {
  const char* ini = R"([quorumd]
node = alpha
[fence beta]
agent = fence_ipmilan
option.ip = 10.0.0.12
option.username = admin
option.lanplus = 1
password_file = /etc/castor/beta.fence-password
fence_action = off
timeout_s = 20
retries = 2
settle_ms = 1500
delay_ms = 500
)";
  auto fence = parse_fence_sections(ini, "castor.ini");
  REQUIRE_MESSAGE(fence.ok(), fence.status().to_string());
  auto e = build_pacemaker_export({}, *fence);
  REQUIRE(e.ok());
  REQUIRE(e->stonith.size() == 1);
  const PcmkPrimitive& p = e->stonith[0];
  CHECK(p.id == "fence-beta");
  CHECK(p.cls == "stonith");
  CHECK(p.type == "fence_ipmilan");
  const std::vector<PcmkAttr> want{{"ip", "10.0.0.12"},
                                   {"username", "admin"},
                                   {"lanplus", "1"},
                                   {"pcmk_host_list", "beta"},
                                   {"password_script", "/usr/bin/head -n 1 /etc/castor/beta.fence-password"},
                                   {"pcmk_reboot_action", "off"},
                                   {"pcmk_off_timeout", "20s"},
                                   {"pcmk_reboot_timeout", "20s"},
                                   {"pcmk_off_retries", "3"},
                                   {"pcmk_reboot_retries", "3"},
                                   {"pcmk_delay_base", "500ms"}};
  CHECK(p.params == want);
  REQUIRE(e->locations.size() == 1);
  CHECK(e->locations[0] == PcmkLocation{"loc-fence-beta-not-beta", "fence-beta", "beta", "-INFINITY", {}});
  REQUIRE(e->levels.size() == 1);
  CHECK(e->levels[0] == PcmkFencingLevel{"fl-beta-1", "beta", 1, {"fence-beta"}});
  CHECK(any_line_has(e->not_expressed, "fence device for beta", "settle_ms 1500"));
  CHECK(any_line_has(e->approximations, "fence device for beta", "password_script"));
}

TEST_CASE("pacemaker export: two objects with one id are refused, not renamed") {
  // Service a_b's group and service a's resource b would both be a_b.
  const ServiceDefinition a = load_one("[service]\nname = a\nnodes = alpha\n[resource b]\nagent = ocf:heartbeat:Dummy\n");
  const ServiceDefinition ab = load_one("[service]\nname = a_b\nnodes = alpha\n[resource x]\nagent = ocf:heartbeat:Dummy\n");
  auto e = build_pacemaker_export({a, ab}, {});
  REQUIRE(!e.ok());
  CHECK(e.status().code() == Code::invalid_argument);
  CHECK(contains(e.status().message(), "'a_b'"));
  CHECK(build_pacemaker_export({a}, {}).ok());
}

TEST_CASE("pacemaker export: a parameter with a control character is refused (a CIB cannot hold it)") {
  ServiceDefinition s = load_one("[service]\nname = s\nnodes = alpha\n[resource r]\nagent = ocf:heartbeat:Dummy\n");
  s.resources[0].params.push_back({"state", std::string("a\x01") + "b"});
  auto e = build_pacemaker_export({s}, {});
  REQUIRE(!e.ok());
  CHECK(contains(e.status().message(), "control character"));
}

TEST_CASE("pacemaker export: ids, durations and quoting helpers") {
  CHECK(is_pcmk_id("web_ip"));
  CHECK(is_pcmk_id("_9x.y-z"));
  CHECK(!is_pcmk_id("9x"));
  CHECK(!is_pcmk_id("-x"));
  CHECK(!is_pcmk_id(""));
  CHECK(!is_pcmk_id("a b"));
  CHECK(pcmk_id("9x") == "_9x");
  CHECK(pcmk_id("x9") == "x9");
  CHECK(pcmk_duration(Millis(5000)) == "5s");
  CHECK(pcmk_duration(Millis(1500)) == "1500ms");
  CHECK(pcmk_duration(Millis(0)) == "0s");
  CHECK(xml_escape(R"(a<b>&"c'd)") == "a&lt;b&gt;&amp;&quot;c&apos;d");
  CHECK(xml_comment_text("a--b---c-") == "a- -b- - -c- ");
  CHECK(xml_comment_text("x").find("--") == std::string::npos);
  CHECK(shell_quote("ip=192.0.2.10") == "ip=192.0.2.10");
  CHECK(shell_quote("a b'c") == "'a b'\\''c'");
  CHECK(shell_quote("#uname") == "'#uname'");
  CHECK(crmsh_quote("/dev/vdb") == "/dev/vdb");
  CHECK(crmsh_quote("a \"b\" \\") == "\"a \\\"b\\\" \\\\\"");
}

TEST_CASE("pacemaker export: the three renderings say the same thing") {
  ServiceDefinition web = load_sample("web.ini");
  web.resources[0].params.push_back({"label", "a<b & \"c\" 'd'"});
  auto fence = parse_fence_sections("[fence alpha]\nagent = fence_ipmilan\noption.ip = 10.0.0.11\n", "castor.ini");
  REQUIRE(fence.ok());
  auto e = build_pacemaker_export({web}, *fence);
  REQUIRE(e.ok());

  const std::string cib = render_pacemaker_cib(*e);
  CHECK(contains(cib, R"(<group id="web">)"));
  CHECK(contains(cib, R"(<primitive id="web_fs" class="ocf" provider="heartbeat" type="Filesystem">)"));
  CHECK(contains(cib, R"(<op id="web_fs-monitor-20s" name="monitor" interval="20s" timeout="10s">)"));
  CHECK(contains(cib, R"(name="OCF_CHECK_LEVEL" value="10")"));
  CHECK(contains(cib, R"(value="a&lt;b &amp; &quot;c&quot; &apos;d&apos;")"));
  CHECK(contains(cib, R"(<nvpair id="web-meta_attributes-migration-threshold" name="migration-threshold" value="4"/>)"));
  CHECK(contains(cib, R"(<rsc_location id="loc-web-alpha" rsc="web" node="alpha" score="200"/>)"));
  CHECK(contains(cib, R"(<expression id="loc-web-domain-rule-expr-1" attribute="#uname" operation="ne" value="beta"/>)"));
  CHECK(contains(cib, R"(<primitive id="fence-alpha" class="stonith" type="fence_ipmilan">)"));
  CHECK(contains(cib, R"(<fencing-level id="fl-alpha-1" target="alpha" index="1" devices="fence-alpha"/>)"));
  CHECK(contains(cib, "<!-- NOT EXPRESSED: service web, resource http: exec resource not exported"));
  CHECK(cib.find("<configuration>") < cib.find("</configuration>"));
  // Comments never hold "--" inside.
  for (size_t at = cib.find("<!--"); at != std::string::npos; at = cib.find("<!--", at + 4)) {
    const size_t end = cib.find("-->", at + 4);
    REQUIRE(end != std::string::npos);
    CHECK(cib.substr(at + 4, end - at - 4).find("--") == std::string::npos);
  }

  const std::string pcs = render_pacemaker_pcs(*e);
  CHECK(contains(pcs, "pcs -f \"$CIB\" resource create web_fs ocf:heartbeat:Filesystem device=/dev/vdb "
                      "directory=/srv/data fstype=ext4 op start interval=0s timeout=30s op stop interval=0s "
                      "timeout=60s op monitor interval=20s timeout=10s OCF_CHECK_LEVEL=10 --group web --no-default-ops\n"));
  CHECK(contains(pcs, "'label=a<b & \"c\" '\\''d'\\'''"));
  CHECK(contains(pcs, "pcs -f \"$CIB\" resource meta web target-role=Started resource-stickiness=1000 "
                      "migration-threshold=4 failure-timeout=300s\n"));
  CHECK(contains(pcs, "pcs -f \"$CIB\" constraint location web prefers alpha=200\n"));
  CHECK(contains(pcs, "constraint location web rule id=loc-web-domain-rule constraint-id=loc-web-domain "
                      "score=-INFINITY '#uname' ne alpha and '#uname' ne beta\n"));
  CHECK(contains(pcs, "pcs -f \"$CIB\" stonith create fence-alpha fence_ipmilan ip=10.0.0.11 pcmk_host_list=alpha"));
  CHECK(contains(pcs, "pcs -f \"$CIB\" constraint location fence-alpha avoids alpha\n"));
  CHECK(contains(pcs, "pcs -f \"$CIB\" stonith level add 1 alpha fence-alpha\n"));
  CHECK(contains(pcs, "# NOT EXPRESSED: service web, resource http"));
  CHECK(pcs.find("web_ip") < pcs.find("web_fs"));  // the group's order is the creation order

  const std::string crm = render_pacemaker_crmsh(*e);
  CHECK(contains(crm, "primitive web_fs ocf:heartbeat:Filesystem \\\n\tparams device=/dev/vdb directory=/srv/data "
                      "fstype=ext4 \\\n\top start interval=0s timeout=30s \\\n\top stop interval=0s timeout=60s \\\n"
                      "\top monitor interval=20s timeout=10s OCF_CHECK_LEVEL=10\n"));
  CHECK(contains(crm, "label=\"a<b & \\\"c\\\" 'd'\""));
  CHECK(contains(crm, "group web web_ip web_fs \\\n\tmeta target-role=Started resource-stickiness=1000 "
                      "migration-threshold=4 failure-timeout=300s\n"));
  CHECK(contains(crm, "location loc-web-beta web 100: beta\n"));
  CHECK(contains(crm, "location loc-web-domain web rule $id=loc-web-domain-rule -inf: #uname ne alpha and #uname ne beta\n"));
  CHECK(contains(crm, "location loc-fence-alpha-not-alpha fence-alpha -inf: alpha\n"));
  CHECK(contains(crm, "fencing_topology alpha: fence-alpha\n"));
  CHECK(contains(crm, "# NOT EXPRESSED: service web, resource http"));
  // crmsh keeps the comments as XML comments and refuses a "--" in them ("crm_resource --cleanup").
  auto relocate = build_pacemaker_export({load_sample("dummy.ini")}, {});
  REQUIRE(relocate.ok());
  CHECK(contains(render_pacemaker_pcs(*relocate), "crm_resource --cleanup"));
  const std::string crm_relocate = render_pacemaker_crmsh(*relocate);
  CHECK(contains(crm_relocate, "crm_resource - -cleanup"));
  CHECK(crm_relocate.find("--") == std::string::npos);
}
