// Tests for castor.ini's [alert NAME] sections (lib/config/alert_config.h, read by svcmgr's config) and for
// the environment an alert program gets (svcmgr/alert_event.h): Pacemaker's alert contract for each kind,
// so that its sample agents work unchanged, and Castor's own keys.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "config/quorumd_config.h"
#include "config/svcmgr_config.h"
#include "svcmgr/alert_event.h"
#include "tests/support/source_tree.h"

using namespace castor;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string env_value(const std::vector<std::string>& env, const std::string& key) {
  for (const auto& kv : env)
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
  return "<unset>";
}

}  // namespace

TEST_CASE("alert config: sections, defaults, kinds") {
  SvcmgrConfig c;
  Status st = parse_svcmgr_ini(
      "[svcmgr]\nsocket = /tmp/s.sock\n"
      "[alert file]\nprogram = /usr/share/pacemaker/alerts/alert_file.sh.sample\nrecipient = /var/log/castor-alerts.log\n"
      "[alert pager]\nprogram = /usr/local/sbin/page\nkinds = node, fencing\ntimeout_s = 5\ntimestamp_format = %s\n",
      "castor.ini", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  REQUIRE(c.alerts.size() == 2);
  CHECK(c.alerts[0].name == "file");
  CHECK(c.alerts[0].program == "/usr/share/pacemaker/alerts/alert_file.sh.sample");
  CHECK(c.alerts[0].recipient == "/var/log/castor-alerts.log");
  CHECK(c.alerts[0].kinds == kAllAlertKinds);
  CHECK(c.alerts[0].timeout == 30s);
  CHECK(c.alerts[0].timestamp_format == "%H:%M:%S.%06N");
  CHECK(c.alerts[1].name == "pager");
  CHECK_FALSE(c.alerts[1].recipient);
  CHECK(c.alerts[1].wants(AlertKind::node));
  CHECK(c.alerts[1].wants(AlertKind::fencing));
  CHECK_FALSE(c.alerts[1].wants(AlertKind::resource));
  CHECK_FALSE(c.alerts[1].wants(AlertKind::quorum));
  CHECK(c.alerts[1].timeout == 5s);
  CHECK(c.alerts[1].line == 6);

  // quorumd reads the same file and skips [alert NAME], as svcmgr skips [fence NODE].
  QuorumdConfig q;
  Status qs = parse_quorumd_ini("[quorumd]\ndevice = /dev/sdb\nnode = alpha\n[alert file]\nprogram = /bin/true\nbogus = 1\n",
                                "castor.ini", q);
  CHECK_MESSAGE(qs.ok(), qs.to_string());
}

TEST_CASE("alert config: every mistake is an error naming file:line") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"[alert a]\nrecipient = x\n", "castor.ini:1: section [alert a] has no program"},
      {"[alert a]\nprogram = alert.sh\n", "castor.ini:2:"},
      {"[alert a]\nprogram = /x/../y\n", "not an absolute path"},
      {"[alert a]\nprogram = /bin/true\nkinds = node, service\n", "'service' is not a kind"},
      {"[alert a]\nprogram = /bin/true\ntimeout_s = 0\n", "castor.ini:3:"},
      {"[alert a]\nprogram = /bin/true\ntimeout_s = 601\n", "castor.ini:3:"},
      {"[alert a]\nprogram = /bin/true\nprogramme = /bin/false\n", "did you mean"},
      {"[alert a]\nprogram = /bin/true\nprogram = /bin/false\n", "castor.ini:3:"},
      {"[alert a]\nprogram = /bin/true\n[alert a]\nprogram = /bin/false\n", "given twice (first at line 1)"},
      {"[alert a b]\nprogram = /bin/true\n", "an alert's name is letters"},
      {"[alert a]\nprogram = /bin/true\nrecipient =\n", "empty value"},
      {"[alerts a]\nprogram = /bin/true\n", "unknown section [alerts a]"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.text);
    SvcmgrConfig c;
    Status st = parse_svcmgr_ini(k.text, "castor.ini", c);
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(contains(st.message(), k.message), st.message());
    CHECK(c.alerts.empty());  // nothing of a file with errors is taken
  }
  std::string many;
  for (int i = 0; i <= int(kMaxAlerts); ++i) many += "[alert a" + std::to_string(i) + "]\nprogram = /bin/true\n";
  SvcmgrConfig c;
  Status st = parse_svcmgr_ini(many, "castor.ini", c);
  REQUIRE_FALSE(st.ok());
  CHECK(contains(st.message(), "more than 16 alerts"));
}

TEST_CASE("alert environment: Pacemaker's contract for each kind, and Castor's keys") {
  AlertConfig a;
  a.name = "file";
  a.program = "/usr/share/pacemaker/alerts/alert_file.sh.sample";
  a.recipient = "/var/log/alerts.log";
  a.timestamp_format = "%s.%06N";
  AlertEvent e;
  e.kind = AlertKind::resource;
  e.event = "service_failed";
  e.node = "alpha";
  e.service = "web";
  e.task = "monitor";
  e.rc = 7;
  e.desc = "not running";
  e.epoch = 12;
  e.reason = "addr: not running\nsecond line";
  e.wall_ns = 1765000000123456789;
  auto env = alert_environment(e, a, 42, "alpha");
  CHECK(env_value(env, "PATH") == "/usr/sbin:/usr/bin:/sbin:/bin");
  CHECK(env_value(env, "CRM_alert_kind") == "resource");
  CHECK(env_value(env, "CRM_alert_version") != "");
  CHECK(env_value(env, "CRM_alert_recipient") == "/var/log/alerts.log");
  CHECK(env_value(env, "CRM_alert_node_sequence") == "42");
  CHECK(env_value(env, "CRM_alert_timestamp") == "1765000000.123456");
  CHECK(env_value(env, "CRM_alert_timestamp_epoch") == "1765000000");
  CHECK(env_value(env, "CRM_alert_timestamp_usec") == "123456");
  CHECK(env_value(env, "CRM_alert_node") == "alpha");
  CHECK(env_value(env, "CRM_alert_rsc") == "web");
  CHECK(env_value(env, "CRM_alert_task") == "monitor");
  CHECK(env_value(env, "CRM_alert_interval") == "0");
  CHECK(env_value(env, "CRM_alert_rc") == "7");
  CHECK(env_value(env, "CRM_alert_target_rc") == "0");
  CHECK(env_value(env, "CRM_alert_status") == "0");
  CHECK(env_value(env, "CRM_alert_desc") == "not running");
  CHECK(env_value(env, "CASTOR_ALERT_EVENT") == "service_failed");
  CHECK(env_value(env, "CASTOR_ALERT_KIND") == "resource");
  CHECK(env_value(env, "CASTOR_ALERT_ALERT") == "file");
  CHECK(env_value(env, "CASTOR_ALERT_REPORTER") == "alpha");
  CHECK(env_value(env, "CASTOR_ALERT_EPOCH") == "12");
  CHECK(env_value(env, "CASTOR_ALERT_REASON") == "addr: not running second line");  // one line
  CHECK(env_value(env, "CRM_alert_attribute_name") == "<unset>");
  for (const auto& kv : env) CHECK(kv.find('\n') == std::string::npos);

  AlertEvent n;
  n.kind = AlertKind::node;
  n.event = "node_dead";
  n.node = "beta";
  n.node_id = 2;
  n.desc = "lost";
  env = alert_environment(n, a, 1, "alpha");
  CHECK(env_value(env, "CRM_alert_kind") == "node");
  CHECK(env_value(env, "CRM_alert_node") == "beta");
  CHECK(env_value(env, "CRM_alert_nodeid") == "2");
  CHECK(env_value(env, "CRM_alert_desc") == "lost");
  CHECK(env_value(env, "CRM_alert_rsc") == "<unset>");
  CHECK(env_value(env, "CASTOR_ALERT_EPOCH") == "");

  AlertEvent q;
  q.kind = AlertKind::quorum;
  q.event = "lease_at_risk";
  q.node = "alpha";
  q.attribute = "castor-lease";
  q.value = "at-risk";
  env = alert_environment(q, AlertConfig{}, 2, "alpha");
  CHECK(env_value(env, "CRM_alert_kind") == "attribute");  // Pacemaker's samples know it
  CHECK(env_value(env, "CRM_alert_attribute_name") == "castor-lease");
  CHECK(env_value(env, "CRM_alert_attribute_value") == "at-risk");
  CHECK(env_value(env, "CRM_alert_recipient") == "<unset>");  // unset, as Pacemaker leaves it
  CHECK(env_value(env, "CASTOR_ALERT_KIND") == "quorum");

  AlertEvent f;
  f.kind = AlertKind::fencing;
  f.event = "peer_power_fenced";
  f.node = "beta";
  f.task = "off";
  f.desc = "Operation off of beta by alpha: OK";
  env = alert_environment(f, a, 3, "alpha");
  CHECK(env_value(env, "CRM_alert_kind") == "fencing");
  CHECK(env_value(env, "CRM_alert_task") == "off");
  CHECK(env_value(env, "CRM_alert_rc") == "0");
}

TEST_CASE("alert timestamps: strftime in local time, %N and %<digits>N as Pacemaker's") {
  setenv("TZ", "UTC", 1);
  tzset();
  const int64_t t = 1765000000123456789;  // 2025-12-06 05:46:40.123456789 UTC
  CHECK(format_alert_timestamp(t, "%H:%M:%S.%06N") == "05:46:40.123456");
  CHECK(format_alert_timestamp(t, "%Y-%m-%d %H:%M:%S.%N") == "2025-12-06 05:46:40.123456789");
  CHECK(format_alert_timestamp(t, "%3N|%%|%s") == "123|%|1765000000");
  CHECK(format_alert_timestamp(t, "plain") == "plain");
  CHECK(format_alert_timestamp(t, "%") == "%");
  unsetenv("TZ");
  tzset();
}

TEST_CASE("alert config: the sample etc/castor.ini's [alert file], uncommented, is valid") {
  Result<std::string> text = castor::testing::read_source_file("etc/castor.ini");
  REQUIRE_MESSAGE(text.ok(), text.status().to_string());
  SvcmgrConfig shipped;
  Status st = parse_svcmgr_ini(*text, "etc/castor.ini", shipped);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  CHECK(shipped.alerts.empty());  // shipped off
  const size_t at = text->find("\n;[alert file]\n");
  REQUIRE(at != std::string::npos);
  const std::string on = castor::testing::uncomment_settings(*text, at + 1);  // the example's lines, uncommented
  SvcmgrConfig c;
  st = parse_svcmgr_ini(on, "etc/castor.ini", c);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  REQUIRE(c.alerts.size() == 1);
  CHECK(c.alerts[0].name == "file");
  CHECK(c.alerts[0].program == "/usr/share/pacemaker/alerts/alert_file.sh.sample");
  CHECK(c.alerts[0].kinds == kAllAlertKinds);
}
