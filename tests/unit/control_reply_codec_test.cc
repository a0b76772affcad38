// Tests for lib/control/reply_codec.h: the plain ok/error replies every verb shares, and the part of
// quorumd's status reply svcmgr starts from (malformed and refused replies are errors, never a throw).
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/reply_codec.h"
#include "control/table_codec.h"

using namespace castor;
using nlohmann::ordered_json;

TEST_CASE("control reply codec: plain ok and error replies") {
  CHECK(encode_ok_reply() == R"({"ok":true})");
  CHECK(encode_error_reply("unknown verb 'x'") == R"({"ok":false,"error":"unknown verb 'x'"})");
  CHECK(parse_ok_reply(encode_ok_reply()).ok());
  CHECK(parse_ok_reply(R"({"ok":true,"standby":true})").ok());
  Status st = parse_ok_reply(encode_error_reply("table-set: a field is out of range"));
  CHECK(st.code() == Code::refused);
  CHECK(st.message() == "table-set: a field is out of range");
  // What any codec makes of the server's error reply: the same refusal.
  auto p = parse_table_peer_reply(encode_error_reply("reading the peer's table failed: timeout"));
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::refused);
  CHECK(p.status().message() == "reading the peer's table failed: timeout");
  for (const char* bad : {"", "ok", "[]", "{}", R"({"ok":"true"})", R"({"ok":null})"}) {
    CAPTURE(bad);
    CHECK(parse_ok_reply(bad).code() == Code::invalid_argument);
  }
}

TEST_CASE("control reply codec: quorumd identity from its status reply") {
  // The head of a real status reply (quorum_daemon.cc status_json), fields svcmgr does not read included.
  const std::string status =
      R"({"ok":true,"node":{"id":2,"name":"beta"},"cluster":{"name":"c1","uuid":"u"},"device":"/dev/x",)"
      R"("pid":42,"incarnation":7,"phase":"member","seq":9,"leaving":false,"standby":true,)"
      R"("lease":{"valid":true,"remaining_ms":5000,"expiry_boottime_ns":1},)"
      R"("peer":{"id":1,"name":"alpha","view":"UP"},)"
      R"("timing_ms":{"io_timeout":2000,"renew_interval":1000,"lease":6000,"kill_grace":2000,"watchdog":2000,"dead":12000}})";
  auto q = parse_quorumd_identity(status);
  REQUIRE_MESSAGE(q.ok(), q.status().to_string());
  CHECK(*q == QuorumdIdentity{2, "beta", 1, "alpha", true, 1000, false});  // an older quorumd: no peer_updated
  {
    ordered_json j = ordered_json::parse(status);
    j["sends_peer_updated"] = true;
    auto with = parse_quorumd_identity(j.dump());
    REQUIRE(with.ok());
    CHECK(with->sends_peer_updated);
    j["sends_peer_updated"] = "yes";
    CHECK_FALSE(parse_quorumd_identity(j.dump()).ok());
  }

  struct Case {
    const char* what;
    std::function<void(ordered_json&)> mutate;
  };
  const std::vector<Case> cases = {
      {"no node", [](ordered_json& j) { j.erase("node"); }},
      {"node not an object", [](ordered_json& j) { j["node"] = "beta"; }},
      {"node id 0", [](ordered_json& j) { j["node"]["id"] = 0; }},
      {"node id 3", [](ordered_json& j) { j["node"]["id"] = 3; }},
      {"node name empty", [](ordered_json& j) { j["node"]["name"] = ""; }},
      {"peer name missing", [](ordered_json& j) { j["peer"].erase("name"); }},
      {"peer id a string", [](ordered_json& j) { j["peer"]["id"] = "1"; }},
      {"standby missing", [](ordered_json& j) { j.erase("standby"); }},
      {"standby 1", [](ordered_json& j) { j["standby"] = 1; }},
      {"no timing", [](ordered_json& j) { j.erase("timing_ms"); }},
      {"renew 0", [](ordered_json& j) { j["timing_ms"]["renew_interval"] = 0; }},
      {"renew negative", [](ordered_json& j) { j["timing_ms"]["renew_interval"] = -1000; }},
      {"renew 2^63", [](ordered_json& j) { j["timing_ms"]["renew_interval"] = uint64_t(1) << 63; }},
      {"ok false", [](ordered_json& j) { j["ok"] = false; }},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    ordered_json j = ordered_json::parse(status);
    c.mutate(j);
    auto r = parse_quorumd_identity(j.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(!r.status().message().empty());
  }
  auto r = parse_quorumd_identity(R"({"ok":true,"node":{"id":1,"name":"a"},"peer":{"id":2,"name":"b"},"standby":false,"timing_ms":{"renew_interval":"x"}})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "timing_ms: 'renew_interval' must be an unsigned integer");
}
