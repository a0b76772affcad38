// Tests for lib/control/services_codec.h: svcmgr's `services` and admin replies as the CLI reads them —
// the exact text svcmgr has always sent, round trips, and malformed replies as errors (never a throw).
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/services_codec.h"

using namespace castor;
using nlohmann::ordered_json;

namespace {

ServicesReply sample() {
  ServicesReply r;
  r.node = "alpha";
  r.peer = "beta";
  r.peer_view = PeerView::up;
  r.standby = false;
  r.peer_standby = true;
  r.definitions_match = true;
  r.load_errors = {"/etc/castor/services.d/x.ini:3: unknown key 'agnet'"};
  ServiceStatus web;
  web.name = "web";
  web.state = "started";
  web.owner = "alpha";
  web.epoch = 12;
  web.restarts = 1;
  web.max_restarts = 3;
  web.phase = "running";
  web.last_failure = ServiceStatus::Failure{"monitor: not running", 1500};
  web.pending = "relocate to beta";
  web.last_start_ms = 412;
  web.last_stop_ms = 87;
  ServiceStatus db;
  db.name = "db";
  db.state = "unknown";
  db.owner = "";
  db.epoch = 0;
  db.restarts = 0;
  db.max_restarts = 5;
  db.phase = "idle";
  db.peer_entry = "unknown (corrupt record at block 3)";
  db.orphaned = "orphaned: no definition";
  r.services = {web, db};
  return r;
}

}  // namespace

TEST_CASE("services codec: the text svcmgr has always sent") {
  // Keys, order and types of svcmgr_daemon.cc services_json (JsonWriter) before this codec.
  const std::string expected =
      R"({"ok":true,"node":"alpha","peer":"beta","peer_view":"UP","standby":false,"peer_standby":true,)"
      R"("definitions_match":true,"load_errors":["/etc/castor/services.d/x.ini:3: unknown key 'agnet'"],)"
      R"("services":[{"name":"web","state":"started","owner":"alpha","epoch":12,"restarts":1,"max_restarts":3,)"
      R"("phase":"running","last_failure":{"reason":"monitor: not running","ago_ms":1500},"pending":"relocate to beta",)"
      R"("last_start_ms":412,"last_stop_ms":87},)"
      R"({"name":"db","state":"unknown","owner":"","epoch":0,"restarts":0,"max_restarts":5,"phase":"idle",)"
      R"x("peer_entry":"unknown (corrupt record at block 3)","orphaned":"orphaned: no definition"}]})x";
  CHECK(encode_services_reply(sample()) == expected);
  auto p = parse_services_reply(expected);
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK(*p == sample());
  ServicesReply empty;
  p = parse_services_reply(encode_services_reply(empty));
  REQUIRE(p.ok());
  CHECK(*p == empty);
}

TEST_CASE("services codec: admin replies") {
  CHECK(encode_admin_reply("enable web accepted") == R"({"ok":true,"message":"enable web accepted"})");
  auto m = parse_admin_reply(encode_admin_reply("enable web accepted"));
  REQUIRE(m.ok());
  CHECK(*m == "enable web accepted");
  m = parse_admin_reply(R"({"ok":false,"error":"no service named 'x'"})");
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Code::refused);
  CHECK(m.status().message() == "no service named 'x'");
  for (const char* bad : {"", "{", R"({"ok":true})", R"({"ok":true,"message":1})", R"({"message":"x"})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_admin_reply(bad).ok());
  }
}

TEST_CASE("services codec: malformed services replies are errors") {
  const ordered_json base = ordered_json::parse(encode_services_reply(sample()));
  struct Case {
    const char* what;
    std::function<void(ordered_json&)> mutate;
  };
  std::vector<Case> cases = {
      {"peer_view lower case", [](ordered_json& j) { j["peer_view"] = "up"; }},
      {"load error not a string", [](ordered_json& j) { j["load_errors"].push_back(1); }},
      {"service not an object", [](ordered_json& j) { j["services"].push_back(nullptr); }},
      {"epoch negative", [](ordered_json& j) { j["services"][0]["epoch"] = -1; }},
      {"restarts a float", [](ordered_json& j) { j["services"][0]["restarts"] = 1.5; }},
      {"last_failure a string", [](ordered_json& j) { j["services"][0]["last_failure"] = "x"; }},
      {"last_failure without ago", [](ordered_json& j) { j["services"][0]["last_failure"].erase("ago_ms"); }},
      {"pending a number", [](ordered_json& j) { j["services"][0]["pending"] = 2; }},
      {"last_start_ms a string", [](ordered_json& j) { j["services"][0]["last_start_ms"] = "412"; }},
      {"last_stop_ms a float", [](ordered_json& j) { j["services"][0]["last_stop_ms"] = 8.5; }},
      {"peer_entry null", [](ordered_json& j) { j["services"][1]["peer_entry"] = nullptr; }},
      {"ok false", [](ordered_json& j) { j["ok"] = false; }},
  };
  for (const char* k : {"ok", "node", "peer", "peer_view", "standby", "peer_standby", "definitions_match",
                        "load_errors", "services"})
    cases.push_back({k, [k](ordered_json& j) { j.erase(k); }});
  for (const char* k : {"name", "state", "owner", "epoch", "restarts", "max_restarts", "phase"})
    cases.push_back({k, [k](ordered_json& j) { j["services"][1].erase(k); }});
  for (const auto& c : cases) {
    CAPTURE(c.what);
    ordered_json j = base;
    c.mutate(j);
    auto p = parse_services_reply(j.dump());
    REQUIRE_FALSE(p.ok());
    CHECK(!p.status().message().empty());
  }
  ordered_json j = base;
  j["services"][1]["owner"] = 5;
  auto p = parse_services_reply(j.dump());
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().message() == "services[1]: 'owner' must be a string");
  for (const char* bad : {"", "[]", "garbage", "{\"ok\":true"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_services_reply(bad).ok());
  }
}
