// Tests for `castor drill`'s pure parts (issue 20): the service file's probe (config/service_probe.h), what
// refuses a drill (tools/drill_report.h: drill_blockers), a move's outage from its probe samples, and the
// report. The drill on a live pair: tests/integration/drill.sh.
#include <doctest/doctest.h>

#include <string>

#include "config/service_loader.h"
#include "config/service_probe.h"
#include "tools/drill_report.h"

using namespace castor;
using namespace std::chrono_literals;
using json_codec::Json;

namespace {
bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }
bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (contains(s, needle)) return true;
  return false;
}

ServicesReply healthy() {
  ServicesReply r;
  r.node = "a";
  r.peer = "b";
  r.peer_view = PeerView::up;
  ServiceStatus web;
  web.name = "web";
  web.state = "started";
  web.owner = "a";
  r.services.push_back(web);
  return r;
}

Json quorumd_ok() {
  return Json{{"ok", true},
              {"lease", Json{{"valid", true}}},
              {"fence_reason", nullptr},
              {"channels", Json{{"disk", Json{{"up", true}}}, {"lan", Json::array({Json{{"name", "lan1"}, {"up", true}}})}}}};
}
}  // namespace

TEST_CASE("service probe: http, tcp and exec; bad ones say what is wrong") {
  auto h = parse_service_probe("http://192.0.2.10:8080/health");
  REQUIRE(h.ok());
  CHECK(h->kind == ServiceProbe::Kind::http);
  CHECK(h->host == "192.0.2.10");
  CHECK(h->port == 8080);
  CHECK(h->path == "/health");
  auto h80 = parse_service_probe("http://web.example");
  REQUIRE(h80.ok());
  CHECK(h80->port == 80);
  CHECK(h80->path == "/");
  auto t = parse_service_probe("tcp://db:5432");
  REQUIRE(t.ok());
  CHECK(t->kind == ServiceProbe::Kind::tcp);
  CHECK(t->port == 5432);
  auto e = parse_service_probe("exec /usr/bin/pg_isready -h 192.0.2.20");
  REQUIRE(e.ok());
  CHECK(e->argv == std::vector<std::string>{"/usr/bin/pg_isready", "-h", "192.0.2.20"});
  CHECK(contains(parse_service_probe("tcp://db").status().message(), "needs a port"));
  CHECK(contains(parse_service_probe("exec pg_isready").status().message(), "absolute"));
  CHECK(contains(parse_service_probe("https://x/").status().message(), "https"));
  CHECK(contains(parse_service_probe("http://a b/").status().message(), "host"));
  CHECK(contains(parse_service_probe("http://x/a b").status().message(), "printable"));
  CHECK(contains(parse_service_probe("http://x:99999/").status().message(), "port"));
  CHECK(contains(parse_service_probe("ping x").status().message(), "not a probe"));
}

TEST_CASE("service probe: read from a service file, not part of the digest, and a bad one is a file error") {
  const std::string base = "[service]\nname = web\nnodes = a, b\n%s\n[resource r]\nagent = exec\nstart = /bin/true\nstop = /bin/true\n";
  auto with = [&](const std::string& line) {
    std::string t = base;
    t.replace(t.find("%s"), 2, line);
    return load_service_text(t, "web.ini", {"a", "b"});
  };
  LoadResult plain = with("");
  LoadResult probed = with("probe = http://127.0.0.1:8080/");
  REQUIRE(plain.ok());
  REQUIRE(probed.ok());
  CHECK(probed.services[0].probe == "http://127.0.0.1:8080/");
  CHECK(definition_digest(plain.services[0]) == definition_digest(probed.services[0]));
  LoadResult bad = with("probe = tcp://x");
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error_text(), "web.ini:4"));
  CHECK(contains(bad.error_text(), "needs a port"));
}

TEST_CASE("drill blockers: a healthy pair has none; each degradation refuses with its reason") {
  Json q = quorumd_ok();
  CHECK(drill_blockers(healthy(), &q).empty());
  auto r = healthy();
  r.peer_view = PeerView::down;
  CHECK(any_contains(drill_blockers(r, &q), "the peer b is DOWN, not UP"));
  r = healthy();
  r.peer_standby = true;
  CHECK(any_contains(drill_blockers(r, &q), "b is in standby"));
  r = healthy();
  r.definitions_match = false;
  CHECK(any_contains(drill_blockers(r, &q), "definitions differ"));
  for (const char* state : {"failed", "orphaned", "frozen", "starting", "stopping", "recovering", "unknown"}) {
    r = healthy();
    r.services[0].state = state;
    CHECK(any_contains(drill_blockers(r, &q), std::string("service web is ") + state));
  }
  r = healthy();
  r.services[0].pending = "relocate to b";
  CHECK(any_contains(drill_blockers(r, &q), "relocate to b pending"));
  CHECK(any_contains(drill_blockers(healthy(), nullptr), "quorumd does not answer"));
  Json bad = quorumd_ok();
  bad["lease"]["valid"] = false;
  CHECK(any_contains(drill_blockers(healthy(), &bad), "lease is not valid"));
  bad = quorumd_ok();
  bad["redundant"] = false;
  CHECK(any_contains(drill_blockers(healthy(), &bad), "degraded"));
  bad = quorumd_ok();
  bad["channels"]["lan"][0]["up"] = false;
  CHECK(any_contains(drill_blockers(healthy(), &bad), "LAN link lan1 is down"));
  bad = quorumd_ok();
  bad["fence_reason"] = "lease lost";
  CHECK(any_contains(drill_blockers(healthy(), &bad), "fence is pending"));
}

TEST_CASE("probe outage: the first run of failures after the request, to the first good probe after it") {
  const TimePoint t0{1000ms};
  std::vector<ProbeSample> s = {{t0 - 100ms, false}, {t0, true},          {t0 + 50ms, false}, {t0 + 100ms, false},
                                {t0 + 150ms, false}, {t0 + 200ms, true},  {t0 + 250ms, false}, {t0 + 300ms, true}};
  auto o = probe_outage(s, t0);
  REQUIRE(o.has_value());
  CHECK(o->length == 150ms);
  CHECK(o->failed == 3);
  CHECK_FALSE(probe_outage({{t0, true}, {t0 + 50ms, true}}, t0).has_value());  // nothing failed
  auto never = probe_outage({{t0, true}, {t0 + 50ms, false}}, t0);
  REQUIRE(never.has_value());
  CHECK(never->length == Duration::max());
}

TEST_CASE("drill report: each move, the unprobed and the skipped, and a failed move named") {
  DrillReport r;
  r.cluster = "prod";
  r.node = "a";
  r.peer = "b";
  r.when = "2026-12-04T22:00:00Z";
  r.io_timeout_ms = 200;
  r.skipped = {"pinned: b is not in its nodes"};
  DrillMove web{"web", "a", "b", true, "", 420, "http://192.0.2.10/", 380, 8, 20};
  DrillMove ledger{"ledger", "a", "b", true, "", 300, "", std::nullopt, 0, 0};
  r.moves = {web, ledger};
  CHECK(r.ok());
  std::string text = render_drill_text(r);
  CHECK(contains(text, "cluster prod, run on a (peer b)"));
  CHECK(contains(text, "not moved: pinned: b is not in its nodes"));
  CHECK(contains(text, "0.42 s"));
  CHECK(contains(text, "0.38 s (8 of 20 probes failed, http://192.0.2.10/)"));
  CHECK(contains(text, "no probe"));
  CHECK(contains(text, "2 moves, 2 completed; every service is back where it was"));
  Json j = Json::parse(render_drill_json(r));
  CHECK(j["ok"] == true);
  CHECK(j["moves"][0]["outage_ms"] == 380);
  CHECK(j["moves"][1]["probe"].is_null());
  r.moves.push_back(DrillMove{"db", "a", "b", false, "not started on b within 2m", std::nullopt, "", std::nullopt, 0, 0});
  CHECK_FALSE(r.ok());
  CHECK(contains(render_drill_text(r), "FAILED: not started on b within 2m"));
  CHECK(contains(render_drill_text(r), "NOT every move completed"));
  // Long node names keep their columns apart (the admin guide's ag-alpha/ag-beta once ran together).
  DrillReport longer;
  longer.moves = {DrillMove{"web", "ag-alpha", "ag-beta", true, "", 150, "", std::nullopt, 0, 0}};
  CHECK(contains(render_drill_text(longer), "ag-alpha -> ag-beta  0.15 s"));
}
