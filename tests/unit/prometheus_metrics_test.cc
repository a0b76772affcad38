// Tests for tools/prometheus_metrics.h (castor status --prometheus) and lib/common/latency_histogram.h:
// the series each reply field becomes, in base units; the histogram cumulative with +Inf equal to the
// count; enums as one 0/1 series per state; label values escaped; a daemon that did not answer is a 0,
// and a missing or mistyped field leaves its series out. (promtool checks the whole text on a live
// cluster in tests/integration/metrics_promtool.sh.)
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/latency_histogram.h"
#include "control/json_codec.h"
#include "tools/prometheus_metrics.h"

using namespace castor;
using namespace std::chrono_literals;
using Json = json_codec::Json;

namespace {

Json status_reply() {
  LatencyHistogram h;
  h.observe(80us);     // <= 100 us
  h.observe(100us);    // <= 100 us (bounds are inclusive)
  h.observe(700us);    // <= 1 ms
  h.observe(30ms);     // <= 50 ms
  h.observe(20s);      // above every bound
  Json bounds = Json::array(), counts = Json::array();
  for (int64_t b : LatencyHistogram::kBoundsUs) bounds.push_back(b);
  for (uint64_t n : h.counts()) counts.push_back(n);
  return Json{
      {"ok", true},
      {"node", {{"id", 1}, {"name", "alpha"}}},
      {"cluster", {{"name", "demo"}, {"uuid", "0f3c"}}},
      {"pid", 42},
      {"incarnation", 7},
      {"phase", "up"},
      {"standby", false},
      {"lease", {{"valid", true}, {"remaining_ms", 850}, {"expiry_boottime_ns", 1}}},
      {"fences", 2},
      {"peer",
       {{"id", 2}, {"name", "beta"}, {"view", "UP"}, {"incarnation", 9}, {"heartbeat_age_ms", 120},
        {"standby", true}, {"write_latency_us", {{"last", 300}, {"worst", 2500}}}}},
      {"power_fence", {{"phase", "idle"}, {"fences", 1}, {"failures", 0}}},
      {"channels",
       {{"disk", {{"up", true}, {"last_ok_write_age_ms", 40}}},
        {"lan",
         Json::array({Json{{"name", "lan0"}, {"up", true}, {"rtt_ms", 0.25}, {"loss_pct", 5}, {"sent", 100},
                           {"send_errors", 0}, {"accepted", 98}, {"refused", {{"bad_tag", 3}, {"stale", 0}}}},
                      Json{{"name", "lan1"}, {"up", false}, {"rtt_ms", nullptr}}})}}},
      {"promises", {{"riding_through_stall", false}}},
      {"write_latency_us", {{"last", 700}, {"worst", 30000}}},
      {"write_latency_histogram", {{"bounds_us", bounds}, {"counts", counts}, {"sum_us", h.sum_us()}, {"count", h.count()}}},
      {"timing_ms", {{"io_timeout", 200}, {"lease", 1200}}},
  };
}

ServicesReply services_reply() {
  ServicesReply r;
  r.node = "alpha";
  r.peer = "beta";
  r.definitions_match = true;
  ServiceStatus web;
  web.name = "web";
  web.state = "started";
  web.owner = "alpha";
  web.epoch = 12;
  web.restarts = 1;
  web.max_restarts = 3;
  web.last_start_ms = 412;
  ServiceStatus db;
  db.name = "db";
  db.state = "migrating";  // a state this renderer does not know still shows
  db.owner = "";
  db.epoch = 4;
  db.max_restarts = 5;
  db.last_stop_ms = 87;
  r.services = {web, db};
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

}  // namespace

TEST_CASE("latency histogram: inclusive bounds, the last bucket above all, sum and count") {
  LatencyHistogram h;
  h.observe(100us);
  h.observe(101us);
  h.observe(-5us);  // counted as 0
  h.observe(11s);
  CHECK(h.count() == 4);
  CHECK(h.sum_us() == 100 + 101 + 0 + 11000000);
  CHECK(h.counts()[0] == 2);   // 100 us and the negative one
  CHECK(h.counts()[1] == 1);   // 101 us: (100, 250]
  CHECK(h.counts().back() == 1);
}

TEST_CASE("prometheus metrics: every series of a full status, in base units") {
  const Json s = status_reply();
  const ServicesReply sv = services_reply();
  MetricsInput in{"alpha", &s, &sv};
  const std::string t = render_prometheus_metrics(in);
  CAPTURE(t);
  for (const char* l : {
           "castor_quorumd_up{node=\"alpha\"} 1",
           "castor_svcmgr_up{node=\"alpha\"} 1",
           "castor_node_info{node=\"alpha\",node_id=\"1\",cluster=\"demo\",cluster_uuid=\"0f3c\"} 1",
           "castor_node_incarnation{node=\"alpha\"} 7",
           "castor_node_phase{node=\"alpha\",phase=\"up\"} 1",
           "castor_lease_valid{node=\"alpha\"} 1",
           "castor_lease_remaining_seconds{node=\"alpha\"} 0.85",
           "castor_fences_total{node=\"alpha\"} 2",
           "castor_heartbeat_write_latency_worst_seconds{node=\"alpha\"} 0.03",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"0.0001\"} 2",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"0.00025\"} 2",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"0.001\"} 3",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"0.05\"} 4",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"10\"} 4",
           "castor_heartbeat_write_latency_seconds_bucket{node=\"alpha\",le=\"+Inf\"} 5",
           "castor_heartbeat_write_latency_seconds_sum{node=\"alpha\"} 20.03088",
           "castor_heartbeat_write_latency_seconds_count{node=\"alpha\"} 5",
           "castor_peer_view{node=\"alpha\",peer=\"beta\",view=\"UP\"} 1",
           "castor_peer_view{node=\"alpha\",peer=\"beta\",view=\"DEAD\"} 0",
           "castor_peer_heartbeat_age_seconds{node=\"alpha\",peer=\"beta\"} 0.12",
           "castor_peer_standby{node=\"alpha\",peer=\"beta\"} 1",
           "castor_power_fences_total{node=\"alpha\",peer=\"beta\"} 1",
           "castor_power_fence_failures_total{node=\"alpha\",peer=\"beta\"} 0",
           "castor_channel_up{node=\"alpha\",channel=\"disk\"} 1",
           "castor_channel_up{node=\"alpha\",channel=\"lan0\"} 1",
           "castor_channel_up{node=\"alpha\",channel=\"lan1\"} 0",
           "castor_lan_rtt_seconds{node=\"alpha\",channel=\"lan0\"} 0.00025",
           "castor_lan_loss_ratio{node=\"alpha\",channel=\"lan0\"} 0.05",
           "castor_lan_datagrams_refused_total{node=\"alpha\",channel=\"lan0\",reason=\"bad_tag\"} 3",
           "castor_timing_seconds{node=\"alpha\",parameter=\"io_timeout\"} 0.2",
           "castor_service_state{node=\"alpha\",service=\"web\",state=\"started\"} 1",
           "castor_service_state{node=\"alpha\",service=\"web\",state=\"failed\"} 0",
           "castor_service_state{node=\"alpha\",service=\"db\",state=\"migrating\"} 1",
           "castor_service_owner_info{node=\"alpha\",service=\"web\",owner=\"alpha\"} 1",
           "castor_service_owner_info{node=\"alpha\",service=\"db\",owner=\"\"} 1",
           "castor_service_epoch{node=\"alpha\",service=\"web\"} 12",
           "castor_service_restarts{node=\"alpha\",service=\"web\"} 1",
           "castor_service_last_start_duration_seconds{node=\"alpha\",service=\"web\"} 0.412",
           "castor_service_last_stop_duration_seconds{node=\"alpha\",service=\"db\"} 0.087",
       })
    CHECK_MESSAGE(has_line(t, l), l);
  // lan1 has no RTT: no series, never a made-up 0.
  CHECK(t.find("castor_lan_rtt_seconds{node=\"alpha\",channel=\"lan1\"}") == std::string::npos);
  // Not several devices: no device series.
  CHECK(t.find("castor_quorum_device") == std::string::npos);
  // Each family: HELP and TYPE once, before its samples, and its samples together.
  std::vector<std::string> seen;
  std::string current;
  for (const auto& l : lines_of(t)) {
    if (l.rfind("# TYPE ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      for (const auto& f : seen) CHECK_MESSAGE(f != current, (std::string("family twice: ") + current));
      seen.push_back(current);
      continue;
    }
    if (l.rfind("# HELP ", 0) == 0) continue;
    CHECK_MESSAGE(l.rfind(current, 0) == 0, (std::string("sample outside its family: ") + l));
  }
}

TEST_CASE("prometheus metrics: daemons that did not answer, odd label values, mistyped fields") {
  MetricsInput down{"be\"ta\\\n", nullptr, nullptr};
  const std::string t = render_prometheus_metrics(down);
  CHECK(t ==
        "# HELP castor_quorumd_up Whether the node's quorumd answered.\n# TYPE castor_quorumd_up gauge\n"
        "castor_quorumd_up{node=\"be\\\"ta\\\\\\n\"} 0\n"
        "# HELP castor_svcmgr_up Whether the node's svcmgr answered.\n# TYPE castor_svcmgr_up gauge\n"
        "castor_svcmgr_up{node=\"be\\\"ta\\\\\\n\"} 0\n");

  Json s = status_reply();
  s["lease"]["remaining_ms"] = "850";                   // mistyped: left out
  s["write_latency_histogram"]["counts"].erase(0);      // one count short: no histogram at all
  s["peer"]["view"] = 3;
  MetricsInput in{"alpha", &s, nullptr};
  const std::string m = render_prometheus_metrics(in);
  CHECK(has_line(m, "castor_svcmgr_up{node=\"alpha\"} 0"));
  CHECK(has_line(m, "castor_lease_valid{node=\"alpha\"} 1"));
  CHECK(m.find("castor_lease_remaining_seconds") == std::string::npos);
  CHECK(m.find("castor_heartbeat_write_latency_seconds") == std::string::npos);
  CHECK(m.find("castor_peer_view") == std::string::npos);
  CHECK(m.find("castor_service_") == std::string::npos);
}

TEST_CASE("prometheus metrics: the quorum device set's series") {
  Json s = status_reply();
  s["redundant"] = false;
  s["devices"] = Json::array({Json{{"index", 0}, {"path", "/dev/sdb"}, {"answering", true}, {"failing", false},
                                   {"writes_ok", 10}, {"writes_failed", 0}, {"reads_ok", 20}, {"reads_failed", 1},
                                   {"invalid_blocks", 0}, {"worst_latency_us", 1500}},
                              Json{{"index", 1}, {"path", "/dev/sdc"}, {"answering", false}, {"failing", true},
                                   {"writes_ok", 3}, {"writes_failed", 7}, {"reads_ok", 5}, {"reads_failed", 9},
                                   {"invalid_blocks", 2}, {"worst_latency_us", 200000}}});
  MetricsInput in{"alpha", &s, nullptr};
  const std::string t = render_prometheus_metrics(in);
  CAPTURE(t);
  for (const char* l : {
           "castor_quorum_devices_redundant{node=\"alpha\"} 0",
           "castor_quorum_device_up{node=\"alpha\",device=\"/dev/sdb\",index=\"0\"} 1",
           "castor_quorum_device_up{node=\"alpha\",device=\"/dev/sdc\",index=\"1\"} 0",
           "castor_quorum_device_io_total{node=\"alpha\",device=\"/dev/sdc\",index=\"1\",op=\"write\",result=\"failed\"} 7",
           "castor_quorum_device_io_total{node=\"alpha\",device=\"/dev/sdb\",index=\"0\",op=\"read\",result=\"failed\"} 1",
           "castor_quorum_device_invalid_blocks_total{node=\"alpha\",device=\"/dev/sdc\",index=\"1\"} 2",
           "castor_quorum_device_worst_latency_seconds{node=\"alpha\",device=\"/dev/sdc\",index=\"1\"} 0.2",
       })
    CHECK_MESSAGE(has_line(t, l), l);
}

TEST_CASE("prometheus metrics: the node named is quorumd's, else the config's, else svcmgr's") {
  const json_codec::Json status = json_codec::Json::parse(R"({"ok":true,"node":{"name":"alpha","id":1}})");
  const json_codec::Json no_name = json_codec::Json::parse(R"({"ok":true,"node":{"id":1}})");
  ServicesReply services;
  services.node = "gamma";
  CHECK(metrics_node_name(&status, &services, "beta") == "alpha");
  CHECK(metrics_node_name(&no_name, &services, "beta") == "beta");
  CHECK(metrics_node_name(nullptr, &services, "beta") == "beta");
  CHECK(metrics_node_name(nullptr, &services, "") == "gamma");
  CHECK(metrics_node_name(nullptr, nullptr, "") == "");
}
