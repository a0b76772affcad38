// The Pacemaker import (tools/pacemaker_import.h), its XML reader (tools/xml_subset.h) and the service file
// writer (tools/service_file_writer.h): round trips of the samples through export and import, what a CIB
// written by hand maps to, and what is listed as not mapped.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/read_file.h"
#include "config/service_loader.h"
#include "tools/pacemaker_export.h"
#include "tools/pacemaker_import.h"
#include "tools/pacemaker_render.h"
#include "tools/service_file_writer.h"
#include "tools/xml_subset.h"

using namespace castor;

namespace {

// etc/services.d, from $CASTOR_SOURCE_DIR, the working directory, or where this file was compiled.
std::vector<ServiceDefinition> samples() {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) dirs.push_back(std::string(d) + "/etc/services.d/");
  dirs.push_back("etc/services.d/");
  const std::string here = __FILE__;
  if (auto pos = here.rfind("tests/unit/"); pos != std::string::npos) dirs.push_back(here.substr(0, pos) + "etc/services.d/");
  std::vector<ServiceDefinition> out;
  for (const char* name : {"director-haproxy.ini", "director-ldirectord.ini", "dummy.ini", "postgresql.ini", "web.ini"}) {
    Result<std::string> text = Error(Code::not_found, name);
    for (const std::string& d : dirs)
      if (text = read_file_to_string(d + name); text.ok()) break;
    REQUIRE_MESSAGE(text.ok(), text.status().to_string());
    LoadResult r = load_service_text(*text, name, {"alpha", "beta"});
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    out.push_back(r.services.at(0));
  }
  return out;
}

bool any_line_has(const std::vector<std::string>& lines, const std::string& a, const std::string& b = "") {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(a) != std::string::npos && l.find(b) != std::string::npos;
  });
}

PcmkImport import_text(const std::string& xml) {
  auto root = parse_xml_subset(xml);
  REQUIRE_MESSAGE(root.ok(), root.status().to_string());
  auto imported = import_pacemaker_cib(*root);
  REQUIRE_MESSAGE(imported.ok(), imported.status().to_string());
  return *imported;
}

}  // namespace

TEST_CASE("pacemaker import: xml subset reads entities, comments and nesting, and refuses what it does not read") {
  auto doc = parse_xml_subset("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- c -- c -->\n<a x=\"1 &amp; &lt;2&gt; &quot;&apos;\" y='&#65;&#x42;&#xe9;'>"
                              "text<b/><!-- inner --><c z=\"\t\"><d/></c>\n</a>\n");
  REQUIRE_MESSAGE(doc.ok(), doc.status().to_string());
  CHECK(doc->name == "a");
  CHECK(*doc->attr("x") == "1 & <2> \"'");
  CHECK(*doc->attr("y") == "AB\xC3\xA9");
  REQUIRE(doc->children.size() == 2);
  CHECK(doc->children[0].name == "b");
  CHECK(*doc->child("c")->attr("z") == " ");
  CHECK(doc->child("c")->children.at(0).name == "d");
  CHECK(doc->child("c")->line == 3);
  CHECK(doc->attr("missing") == nullptr);

  for (const char* bad : {"<!DOCTYPE a [<!ENTITY e \"x\">]><a/>", "<a><b></a>", "<a x=\"&e;\"/>", "<a><![CDATA[x]]></a>",
                          "<a/><b/>", "<a", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "", "<a x=\"&#0;\"/>", "<a>"}) {
    CAPTURE(bad);
    CHECK(!parse_xml_subset(bad).ok());
  }
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "<a>";
  CHECK(!parse_xml_subset(deep).ok());
}

TEST_CASE("pacemaker import: durations in Pacemaker's forms") {
  CHECK(*parse_pcmk_duration("20s") == Millis(20000));
  CHECK(*parse_pcmk_duration("20") == Millis(20000));
  CHECK(*parse_pcmk_duration("500ms") == Millis(500));
  CHECK(*parse_pcmk_duration("2m") == Millis(120000));
  CHECK(*parse_pcmk_duration("2min") == Millis(120000));
  CHECK(*parse_pcmk_duration("1h") == Millis(3600000));
  CHECK(*parse_pcmk_duration("PT1M30S") == Millis(90000));
  CHECK(!parse_pcmk_duration("").ok());
  CHECK(!parse_pcmk_duration("s").ok());
  CHECK(!parse_pcmk_duration("10 s").ok());
  CHECK(!parse_pcmk_duration("PT10").ok());
  CHECK(!parse_pcmk_duration("99999999999s").ok());
}

TEST_CASE("pacemaker import: every sample written as a service file loads back to the same definition") {
  for (const ServiceDefinition& s : samples()) {
    CAPTURE(s.name);
    const std::string text = service_file_text(s, "a header\nof two lines");
    CHECK(text.rfind("; a header\n; of two lines\n[service]\n", 0) == 0);
    LoadResult r = load_service_text(text, s.name + ".ini", {"alpha", "beta"});
    REQUIRE_MESSAGE(r.ok(), r.error_text());
    CHECK(definition_digest(r.services.at(0)) == definition_digest(s));
  }
}

TEST_CASE("pacemaker import: export then import gives the same definitions (exec resources, never exported, aside)") {
  std::vector<ServiceDefinition> defs = samples();
  const ServiceDefinition odd = load_service_text(R"([service]
name = 9batch
nodes = beta
autostart = no
recovery = disable
[resource unit]
agent = systemd:batch.service
monitor_interval = 0
[resource init]
agent = lsb:batchd
start_timeout = 1500ms
)", "9batch.ini", {}).services.at(0);
  defs.push_back(odd);
  auto e = build_pacemaker_export(defs, {});
  REQUIRE(e.ok());
  const PcmkImport back = import_text(render_pacemaker_cib(*e));
  CHECK(back.not_mapped.empty());
  for (const std::string& l : back.not_mapped) MESSAGE(l);
  REQUIRE(back.services.size() == defs.size());
  for (size_t i = 0; i < defs.size(); ++i) {
    ServiceDefinition want = defs[i];
    std::erase_if(want.resources, [](const ResourceDefinition& r) { return r.kind == ResourceDefinition::AgentKind::exec; });
    CAPTURE(want.name);
    CHECK(back.services[i].name == want.name);
    CHECK(back.services[i].nodes == want.nodes);
    CHECK(back.services[i].resources.size() == want.resources.size());
    CHECK(definition_digest(back.services[i]) == definition_digest(want));
  }
  CHECK(back.services.back().name == "9batch");
  CHECK(back.services.back().recovery == ServiceDefinition::Recovery::disable);
  CHECK(back.services.back().resources[0].monitor_interval == Millis(0));
}

TEST_CASE("pacemaker import: a CIB written by hand; what does not map is listed") {
  const PcmkImport r = import_text(R"(<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes>
    <resources>
      <primitive id="ClusterIP" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ClusterIP-ia">
          <nvpair id="ClusterIP-ia-ip" name="ip" value="192.168.122.120"/>
          <nvpair id="ClusterIP-ia-cidr" name="cidr_netmask" value="24"/>
        </instance_attributes>
        <operations>
          <op id="ClusterIP-monitor-30s" name="monitor" interval="30s"/>
          <op id="ClusterIP-monitor-slave" name="monitor" interval="60s" role="Slave"/>
        </operations>
      </primitive>
      <group id="web">
        <meta_attributes id="web-meta">
          <nvpair id="web-meta-ms" name="migration-threshold" value="2"/>
          <nvpair id="web-meta-ft" name="failure-timeout" value="PT10M"/>
          <nvpair id="web-meta-st" name="resource-stickiness" value="100"/>
          <nvpair id="web-meta-pri" name="priority" value="10"/>
        </meta_attributes>
        <primitive id="web_fs" class="ocf" provider="heartbeat" type="Filesystem">
          <instance_attributes id="web_fs-ia"><nvpair id="web_fs-ia-d" name="device" value="/dev/drbd1"/></instance_attributes>
          <operations>
            <op id="web_fs-start" name="start" interval="0" timeout="60"/>
            <op id="web_fs-mon" name="monitor" interval="20s" timeout="40s">
              <instance_attributes id="web_fs-mon-ia"><nvpair id="web_fs-mon-cl" name="OCF_CHECK_LEVEL" value="20"/></instance_attributes>
            </op>
          </operations>
        </primitive>
        <primitive id="website" class="lsb" type="apache2"><utilization id="u"><nvpair id="u1" name="cpu" value="2"/></utilization></primitive>
      </group>
      <clone id="dlm-clone"><primitive id="dlm" class="ocf" provider="pacemaker" type="controld"/></clone>
      <primitive id="fence1" class="stonith" type="fence_ipmilan"/>
    </resources>
    <constraints>
      <rsc_location id="l1" rsc="web" node="node2" score="50"/>
      <rsc_location id="l2" rsc="web" node="node1" score="INFINITY"/>
      <rsc_colocation id="c1" rsc="web" with-rsc="ClusterIP" score="INFINITY"/>
      <rsc_order id="o1" first="ClusterIP" then="web"/>
      <rsc_location id="l3" rsc="fence1" node="node1" score="-INFINITY"/>
    </constraints>
    <op_defaults><meta_attributes id="od"><nvpair id="od1" name="timeout" value="240s"/></meta_attributes></op_defaults>
  </configuration>
  <status/>
</cib>)");
  REQUIRE(r.services.size() == 2);
  const ServiceDefinition& ip = r.services[0];
  CHECK(ip.name == "ClusterIP");
  CHECK(ip.nodes == std::vector<std::string>{"node1", "node2"});  // no preference: the CIB's nodes
  CHECK(ip.failback);                                               // stickiness 0, Pacemaker's default
  CHECK(ip.max_restarts == kMaxRestarts);                           // no threshold: restarts without end
  REQUIRE(ip.resources.size() == 1);
  CHECK(ip.resources[0].params == std::vector<std::pair<std::string, std::string>>{{"cidr_netmask", "24"}, {"ip", "192.168.122.120"}});
  CHECK(ip.resources[0].monitor_interval == Millis(30000));
  CHECK(ip.resources[0].monitor_timeout == kDefaultMonitorTimeout);

  const ServiceDefinition& web = r.services[1];
  CHECK(web.name == "web");
  CHECK(web.nodes == std::vector<std::string>{"node1", "node2"});  // INFINITY before 50
  CHECK(!web.failback);
  CHECK(web.recovery == ServiceDefinition::Recovery::restart);
  CHECK(web.max_restarts == 1);
  CHECK(web.restart_window == Millis(600000));
  REQUIRE(web.resources.size() == 2);
  CHECK(web.resources[0].name == "fs");  // web_fs in group web
  CHECK(web.resources[0].start_timeout == Millis(60000));
  CHECK(web.resources[0].monitor_interval == Millis(20000));
  CHECK(web.resources[0].monitor_timeout == Millis(40000));
  CHECK(web.resources[0].check_level == 20);
  CHECK(web.resources[1].name == "website");
  CHECK(web.resources[1].kind == ResourceDefinition::AgentKind::lsb);
  CHECK(web.resources[1].lsb_name == "apache2");
  CHECK(web.resources[1].monitor_interval == Millis(0));  // no monitor op: not monitored

  const auto& n = r.not_mapped;
  CHECK(any_line_has(n, "ClusterIP-monitor-slave", "role=Slave"));
  CHECK(any_line_has(n, "group web", "priority=10"));
  CHECK(any_line_has(n, "clone dlm-clone", "not mapped"));
  CHECK(any_line_has(n, "stonith primitive fence1"));
  CHECK(any_line_has(n, "rsc_colocation c1"));
  CHECK(any_line_has(n, "rsc_order o1"));
  CHECK(any_line_has(n, "rsc_location l3", "fence device"));
  CHECK(any_line_has(n, "ClusterIP", "no migration-threshold"));
  CHECK(!any_line_has(n, "rsc_location l1"));
  CHECK(any_line_has(n, "cluster property stonith-enabled=false"));
  CHECK(any_line_has(n, "<op_defaults> not mapped"));
  CHECK(any_line_has(n, "primitive website", "<utilization>"));
}

TEST_CASE("pacemaker import: a group with a member Castor cannot run is not mapped at all, and says why") {
  const PcmkImport r = import_text(R"(<configuration><resources>
  <group id="g"><primitive id="g_a" class="ocf" provider="heartbeat" type="Dummy"/>
    <primitive id="g_b" class="service" type="foo"/></group>
  <primitive id="bad name" class="ocf" provider="heartbeat" type="Dummy"/>
  <primitive id="from_t" template="t1"/>
</resources><constraints><rsc_location id="l" rsc="g" node="n1" score="10"/>
<rsc_location id="lb" rsc="bad name" node="n1" score="10"/></constraints></configuration>)");
  CHECK(r.services.empty());
  CHECK(any_line_has(r.not_mapped, "primitive g_b", "class 'service'"));
  CHECK(any_line_has(r.not_mapped, "primitive from_t", "template t1"));
  CHECK(any_line_has(r.not_mapped, "group g not mapped"));
  CHECK(any_line_has(r.not_mapped, "primitive bad name not mapped"));
  auto none = parse_xml_subset("<cib/>");
  REQUIRE(none.ok());
  CHECK(!import_pacemaker_cib(*none).ok());
}

namespace {

// A test CIB of tests/data/pacemaker (Pacemaker's documented configurations), imported.
PcmkImport import_data(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* d = std::getenv("CASTOR_SOURCE_DIR")) dirs.push_back(std::string(d) + "/tests/data/pacemaker/");
  dirs.push_back("tests/data/pacemaker/");
  const std::string here = __FILE__;
  if (auto pos = here.rfind("tests/unit/"); pos != std::string::npos) dirs.push_back(here.substr(0, pos) + "tests/data/pacemaker/");
  Result<std::string> text = Error(Code::not_found, name);
  for (const std::string& d : dirs)
    if (text = read_file_to_string(d + name, 1 << 20); text.ok()) break;
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  return import_text(*text);
}

const ServiceDefinition* service(const PcmkImport& r, const std::string& name) {
  for (const ServiceDefinition& s : r.services)
    if (s.name == name) return &s;
  return nullptr;
}

using Nodes = std::vector<std::string>;

}  // namespace

TEST_CASE("pacemaker import: Clusters from Scratch, active/passive: the colocated address and web site are one service; a preference of 50 leaves the other node allowed") {
  const PcmkImport r = import_data("cfs-active-passive.xml");
  // WebSite with ClusterIP (INFINITY), ClusterIP then WebSite: a group in all but name. Two services could
  // run on two nodes; one service keeps the site with its address, started after it.
  REQUIRE(r.services.size() == 1);
  const ServiceDefinition* web = service(r, "ClusterIP");
  REQUIRE(web);
  REQUIRE(web->resources.size() == 2);
  CHECK(web->resources[0].name == "ClusterIP");
  CHECK(web->resources[1].name == "WebSite");
  // WebSite prefers pcmk-2 by 50 in a symmetric cluster, and ClusterIP follows it there (Pacemaker adds the
  // colocated resources' scores); pcmk-1 stays a failover node (not a one-node service).
  CHECK(web->nodes == Nodes{"pcmk-2", "pcmk-1"});
  CHECK(!web->failback);  // rsc_defaults stickiness 100
  CHECK(web->resources.at(1).monitor_interval == Millis(60000));
  CHECK(web->resources.at(1).stop_timeout == Millis(60000));
  CHECK(any_line_has(r.not_mapped, "primitives ClusterIP, WebSite imported as one service ClusterIP",
                     "colocation-WebSite-ClusterIP-INFINITY, order-ClusterIP-WebSite-mandatory"));
  CHECK_FALSE(any_line_has(r.not_mapped, "rsc_colocation colocation-WebSite-ClusterIP-INFINITY not mapped"));
  CHECK_FALSE(any_line_has(r.not_mapped, "rsc_order order-ClusterIP-WebSite-mandatory not mapped"));
  CHECK(any_line_has(r.not_mapped, "stonith primitive ipmi-fencing"));
  CHECK(any_line_has(r.not_mapped, "service ClusterIP: allowed without a preference", "pcmk-1"));
}

TEST_CASE("pacemaker import: Clusters from Scratch, DRBD and active/active: clones listed, the rest mapped") {
  const PcmkImport drbd = import_data("cfs-drbd-filesystem.xml");
  REQUIRE(service(drbd, "ClusterIP"));
  REQUIRE(service(drbd, "ClusterIP")->resources.size() == 3);  // ClusterIP, WebFS, WebSite: colocated together
  CHECK(service(drbd, "ClusterIP")->resources[1].name == "WebFS");
  CHECK(!service(drbd, "WebData"));
  CHECK(any_line_has(drbd.not_mapped, "clone WebData-clone not mapped"));
  CHECK(any_line_has(drbd.not_mapped, "rsc_colocation colocation-WebFS-WebData-clone-INFINITY"));
  const PcmkImport aa = import_data("cfs-active-active.xml");
  CHECK(aa.services.size() == 1);  // WebSite and ClusterIP; WebFS is a clone there
  for (const char* clone : {"clone WebData-clone", "clone dlm-clone", "clone WebFS-clone"}) CHECK(any_line_has(aa.not_mapped, clone));
  CHECK(any_line_has(aa.not_mapped, "cluster property no-quorum-policy=freeze"));
}

TEST_CASE("pacemaker import: Pacemaker Explained, opt-in and opt-out clusters give the documented failover nodes") {
  const PcmkImport in = import_data("pe-location-opt-in.xml");
  REQUIRE(service(in, "Webserver"));
  CHECK(service(in, "Webserver")->nodes == Nodes{"sles-1", "sles-3"});  // 200, then 0: enabled, no preference
  CHECK(service(in, "Database")->nodes == Nodes{"sles-2", "sles-3"});
  CHECK(!service(in, "Reports"));  // opt-in and never enabled: runs nowhere
  CHECK(any_line_has(in.not_mapped, "service Reports not mapped", "banned or not enabled"));

  const PcmkImport out = import_data("pe-location-opt-out.xml");
  CHECK(service(out, "Webserver")->nodes == Nodes{"sles-1", "sles-3"});  // sles-2 is -INFINITY
  CHECK(service(out, "Database")->nodes == Nodes{"sles-2", "sles-3"});
  CHECK(service(out, "Mail")->nodes == Nodes{"sles-1", "sles-2"});
  CHECK(any_line_has(out.not_mapped, "service Mail: nodes sles-1 and sles-2 score the same"));
  // 300 and 200 on sles-2 add up to sles-1's 500
  CHECK(any_line_has(out.not_mapped, "service Backup: nodes sles-1 and sles-2 score the same"));
  CHECK(any_line_has(out.not_mapped, "service Backup: nodes beyond two not mapped", "sles-3"));
  // the pattern ip-.* bans sles-1 for ip-front
  CHECK(service(out, "ip-front")->nodes == Nodes{"sles-2", "sles-3"});
  CHECK(any_line_has(out.not_mapped, "rsc_location ban-ips-from-node1: rsc-pattern ip-.* applied to ip-front"));
  CHECK(any_line_has(out.not_mapped, "rsc_order order-set"));
}

TEST_CASE("pacemaker import: Pacemaker Explained, operations: a disabled or second monitor is not Castor's") {
  const PcmkImport r = import_data("pe-operations.xml");
  const ServiceDefinition* implicit = service(r, "ip-implicit");
  REQUIRE(implicit);
  CHECK(implicit->resources.at(0).start_timeout == Millis(180000));
  CHECK(implicit->resources.at(0).stop_timeout == Millis(900000));  // 15min
  CHECK(implicit->resources.at(0).monitor_interval == Millis(0));
  const ServiceDefinition* levels = service(r, "ip-levels");
  REQUIRE(levels);
  CHECK(levels->resources.at(0).monitor_interval == Millis(60000));
  CHECK(levels->resources.at(0).check_level == 10);
  CHECK(any_line_has(r.not_mapped, "ip-levels-health-300", "second monitor"));
  const ServiceDefinition* disabled = service(r, "ip-disabled-check");
  REQUIRE(disabled);
  CHECK(disabled->resources.at(0).monitor_interval == Millis(0));  // enabled=false: not monitored
  CHECK(any_line_has(r.not_mapped, "ip-disabled-check-monitor", "disabled monitor"));
  CHECK(any_line_has(r.not_mapped, "primitive Email", "priority=100"));
  CHECK(any_line_has(r.not_mapped, "primitive Email-service", "class 'service'"));
}

TEST_CASE("pacemaker import: an rsc-pattern applies to the ids it matches; a bad or huge one is listed") {
  const std::string long_id(300, 'x');
  const PcmkImport r = import_text(R"(<configuration><nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
<resources><primitive id="ip-a" class="ocf" provider="heartbeat" type="IPaddr2"/>
<primitive id="web" class="ocf" provider="heartbeat" type="apache"/></resources>
<constraints><rsc_location id="p1" rsc-pattern="^ip-" node="n1" score="-INFINITY"/>
<rsc_location id="p2" rsc-pattern="(" node="n2" score="10"/>
<rsc_location id="p3" rsc-pattern=")" + long_id + R"(" node="n2" score="10"/></constraints></configuration>)");
  CHECK(service(r, "ip-a")->nodes == Nodes{"n2"});
  CHECK(service(r, "web")->nodes == Nodes{"n1", "n2"});
  CHECK(any_line_has(r.not_mapped, "rsc_location p1: rsc-pattern ^ip- applied to ip-a"));
  CHECK(any_line_has(r.not_mapped, "rsc_location p2: rsc-pattern ( does not compile"));
  CHECK(any_line_has(r.not_mapped, "rsc_location p3: an rsc-pattern longer than 200"));
}

TEST_CASE("pacemaker import: colocated lone primitives: only mandatory, plain colocations merge; orders give the start order") {
  auto cib = [](const std::string& constraints) {
    return "<cib><configuration><crm_config/><nodes><node id=\"1\" uname=\"a\"/><node id=\"2\" uname=\"b\"/></nodes>"
           "<resources>"
           "<primitive id=\"A\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
           "<primitive id=\"B\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
           "<primitive id=\"C\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/>"
           "</resources><constraints>" +
           constraints + "</constraints></configuration></cib>";
  };
  auto names = [](const ServiceDefinition& d) {
    std::vector<std::string> v;
    for (const auto& r : d.resources) v.push_back(r.name);
    return v;
  };
  // A chain: C with B, B with A; orders A then C, C then B: the orders win over the colocation depth.
  PcmkImport r = import_text(cib(R"(<rsc_colocation id="c1" rsc="C" with-rsc="B" score="INFINITY"/>)"
                                 R"(<rsc_colocation id="c2" rsc="B" with-rsc="A" score="INFINITY"/>)"
                                 R"(<rsc_order id="o1" first="A" then="C"/><rsc_order id="o2" first="C" then="B" kind="Mandatory"/>)"
                                 R"(<rsc_location id="l1" rsc="C" node="b" score="100"/>)"));
  REQUIRE(r.services.size() == 1);
  CHECK(r.services[0].name == "A");
  CHECK(names(r.services[0]) == std::vector<std::string>{"A", "C", "B"});
  CHECK(r.services[0].nodes.front() == "b");  // C's preference moves the whole set
  // No order: the resource the others follow first, then the CIB's order; said so.
  r = import_text(cib(R"(<rsc_colocation id="c1" rsc="A" with-rsc="C" score="+INFINITY"/>)"));
  REQUIRE(r.services.size() == 2);  // C+A, and B alone
  const ServiceDefinition* ca = service(r, "C");
  REQUIRE(ca);
  CHECK(names(*ca) == std::vector<std::string>{"C", "A"});
  CHECK(any_line_has(r.not_mapped, "no start order says C before A by the colocation"));
  CHECK(service(r, "B"));
  // Not merged: a finite score, a role, an advisory order's colocation absent, a resource set.
  for (const std::string& c : {std::string(R"(<rsc_colocation id="c1" rsc="A" with-rsc="B" score="500"/>)"),
                               std::string(R"(<rsc_colocation id="c1" rsc="A" with-rsc="B" score="INFINITY" with-rsc-role="Promoted"/>)"),
                               std::string(R"(<rsc_order id="o1" first="A" then="B"/>)"),
                               std::string(R"(<rsc_colocation id="c1" score="INFINITY"><resource_set id="s"><resource_ref id="A"/><resource_ref id="B"/></resource_set></rsc_colocation>)")}) {
    CAPTURE(c);
    r = import_text(cib(c));
    CHECK(r.services.size() == 3);
    CHECK(any_line_has(r.not_mapped, "not mapped (Castor's only constraint is the order inside a service)"));
  }
  // Orders in a cycle: not merged, said so, and the constraints listed as not mapped.
  r = import_text(cib(R"(<rsc_colocation id="c1" rsc="A" with-rsc="B" score="INFINITY"/>)"
                      R"(<rsc_order id="o1" first="A" then="B"/><rsc_order id="o2" first="B" then="A"/>)"));
  CHECK(r.services.size() == 3);
  CHECK(any_line_has(r.not_mapped, "start orders form a cycle"));
  CHECK(any_line_has(r.not_mapped, "rsc_colocation c1 not mapped"));
  // An order between colocated members that is optional: the set merges, the optional order is listed.
  r = import_text(cib(R"(<rsc_colocation id="c1" rsc="A" with-rsc="B" score="INFINITY"/>)"
                      R"(<rsc_order id="o1" first="A" then="B" kind="Optional"/>)"));
  REQUIRE(service(r, "B"));
  CHECK(names(*service(r, "B")) == std::vector<std::string>{"B", "A"});
  CHECK(any_line_has(r.not_mapped, "rsc_order o1 not mapped"));
}
