// Tests for the typed control-socket messages (lib/control/table_codec.h, event_codec.h): the exact text
// quorumd has always sent (keys, value types, key order), round trips, and that malformed input of every
// kind (garbage, wrong types, missing fields, out-of-range numbers, unknown names) is an error value.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/event_codec.h"
#include "control/json_codec.h"
#include "control/table_codec.h"
#include "tests/support/sample_records.h"

using namespace castor;
using nlohmann::ordered_json;

namespace {

ServiceEntry entry(const std::string& name, OwnershipState st, uint32_t node, uint64_t epoch) {
  ServiceEntry e = testing::service_entry(name, st, node, epoch, epoch + 7);
  e.flags = ServiceEntry::kFrozen;
  e.restarts = 3;
  e.definition_digest = 0xFEDCBA9876543210ull;
  e.changed_wall_ns = 1700000000123456789;
  return e;
}

TablePeerReply sample_peer_reply() {
  TablePeerReply r;
  r.read_issued_boottime_ns = 123456789;
  r.entries.push_back({entry("web", OwnershipState::owned, 2, 5), 0, 77});
  r.entries.push_back({entry("db.main_1", OwnershipState::claiming, 1, UINT64_MAX), 33, UINT64_MAX});
  r.corrupt_blocks.push_back({4, "bad CRC \"quoted\"\n", 0xDEADBEEF});
  r.peer_epoch_floor = 40;
  r.own_epoch_floor = 41;
  r.peer = {PeerView::up, 9, 987654321, true, 0x1234, false};
  return r;
}

TableOwnReply sample_own_reply() {
  TableOwnReply r;
  r.entries.push_back({entry("web", OwnershipState::released, 0, 6), std::nullopt, std::nullopt});
  r.own_epoch_floor = 6;
  r.corrupt_blocks.push_back({2, "torn", std::nullopt});
  return r;
}

std::vector<QuorumdEvent> sample_events() {
  std::vector<QuorumdEvent> out;
  QuorumdEvent e;
  e.node = "alpha";
  e.incarnation = 3;
  e.boottime_ns = 5000;
  e.kind = QuorumdEventKind::lease_renewed;
  e.seq = 17;
  e.lease_expiry_boottime_ns = 9000;
  out.push_back(e);
  e = {};
  e.node = "alpha";
  e.incarnation = 3;
  e.boottime_ns = 5001;
  e.kind = QuorumdEventKind::lease_at_risk;
  e.reason = "renewal late";
  out.push_back(e);  // without an expiry
  e.lease_expiry_boottime_ns = -1;
  out.push_back(e);  // with one (any int64)
  e.lease_expiry_boottime_ns.reset();
  e.kind = QuorumdEventKind::leaving;
  e.reason = "admin";
  out.push_back(e);
  e.kind = QuorumdEventKind::fenced;
  e.fences = 2;
  out.push_back(e);
  e.fences = 0;
  e.kind = QuorumdEventKind::left;
  out.push_back(e);
  e.kind = QuorumdEventKind::peer_changed;
  e.peer = "beta";
  e.from = PeerView::up;
  e.to = PeerView::dead;
  e.peer_incarnation = 12;
  e.reason = "heartbeat unchanged for 5s";
  out.push_back(e);
  e.reason = "powered off by a confirmed fence (fence_ipmilan)";
  e.power_fenced = true;
  out.push_back(e);
  e = QuorumdEvent{};
  e.kind = QuorumdEventKind::device_changed;
  e.node = "alpha";
  e.incarnation = 3;
  e.boottime_ns = 5002;
  e.device_index = 1;
  e.device = "/dev/sdc";
  e.failing = true;
  e.redundant = false;
  e.reason = "write: no answer";
  out.push_back(e);
  e = QuorumdEvent{};
  e.kind = QuorumdEventKind::peer_updated;
  e.node = "alpha";
  e.incarnation = 3;
  e.boottime_ns = 5003;
  e.peer_incarnation = 9;
  e.reason = "table generation 17";
  out.push_back(e);
  return out;
}

// Every way to break one field of a JSON object: each key removed (an error unless the key is optional),
// and each value replaced by one of another type (an error, but null where the key is nullable). Keys ending in "_ns" are signed: a
// negative number is fine there.
void check_every_field_matters(const std::string& good, const std::function<bool(const std::string&)>& parses,
                               const std::vector<std::string>& optional_keys = {},
                               const std::vector<std::string>& nullable_keys = {}) {
  const ordered_json j = ordered_json::parse(good);
  REQUIRE(parses(good));
  for (const auto& [k, v] : j.items()) {
    CAPTURE(k);
    const bool optional = std::find(optional_keys.begin(), optional_keys.end(), k) != optional_keys.end();
    const bool is_signed = k.size() > 3 && k.compare(k.size() - 3, 3, "_ns") == 0;
    ordered_json m = j;
    m.erase(k);
    CHECK(parses(m.dump()) == optional);
    const std::vector<ordered_json> wrong = {"text", -1, 1.5, true, nullptr, ordered_json::array(),
                                             ordered_json::object()};
    for (const auto& w : wrong) {
      if (w.type() == v.type()) continue;
      if (is_signed && w.is_number_integer()) continue;
      if (w.is_null() && std::find(nullable_keys.begin(), nullable_keys.end(), k) != nullable_keys.end()) continue;
      CAPTURE(w.dump());
      m = j;
      m[k] = w;
      CHECK_FALSE(parses(m.dump()));
    }
  }
}

bool own_parses(const std::string& s) { return parse_table_own_reply(s).ok(); }
bool peer_parses(const std::string& s) { return parse_table_peer_reply(s).ok(); }

}  // namespace

TEST_CASE("control codec: table-set request text is the one svcmgr always sent") {
  TableSetRequest r;
  r.name = "web";
  r.state = OwnershipState::owned;
  r.node = 1;
  r.epoch = 5;
  r.ballot = 3;
  r.flags = 0;
  r.restarts = 0;
  r.digest = 99;
  CHECK(encode_table_set_request(r) == "table-set web owned 1 5 3 0 0 99");
  CHECK(encode_table_set_args(r) == "web owned 1 5 3 0 0 99");
  auto p = parse_table_set_args("web owned 1 5 3 0 0 99");
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK(*p == r);
}

TEST_CASE("control codec: table-set round trip, every state and extreme values") {
  for (uint8_t s = 0; s <= kMaxOwnershipState; ++s) {
    TableSetRequest r;
    r.name = std::string(63, 'a');
    r.state = OwnershipState(s);
    r.node = kNodeCount;
    r.epoch = UINT64_MAX;
    r.ballot = UINT64_MAX - 1;
    r.flags = ServiceEntry::kKnownFlags;
    r.restarts = UINT32_MAX;
    r.digest = UINT64_MAX;
    CAPTURE(encode_table_set_args(r));
    auto p = parse_table_set_args(encode_table_set_args(r));
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    CHECK(*p == r);
  }
  // from_entry/to_entry: the fields the request carries, the entry in use, its wall time left to the writer.
  ServiceEntry e = entry("web", OwnershipState::owned, 2, 5);
  TableSetRequest r = TableSetRequest::from_entry(e);
  ServiceEntry back = r.to_entry();
  CHECK(back.in_use);
  CHECK(back.changed_wall_ns == 0);
  back.changed_wall_ns = e.changed_wall_ns;
  CHECK(back == e);
}

TEST_CASE("control codec: table-set parse, as quorumd always read it") {
  SUBCASE("extra spaces between words are skipped") {
    auto p = parse_table_set_args("  web  owned 1 5 3 0 0 99 ");
    REQUIRE(p.ok());
    CHECK(p->name == "web");
    CHECK(p->digest == 99);
  }
  SUBCASE("unknown flag bits are dropped, known ones kept") {
    auto p = parse_table_set_args("web owned 1 5 3 65535 0 99");
    REQUIRE(p.ok());
    CHECK(p->flags == ServiceEntry::kKnownFlags);
  }
  SUBCASE("word count") {
    for (const char* a : {"", "web", "web owned 1 5 3 0 0", "web owned 1 5 3 0 0 99 1"}) {
      CAPTURE(a);
      auto p = parse_table_set_args(a);
      REQUIRE_FALSE(p.ok());
      CHECK(p.status().code() == Code::invalid_argument);
      CHECK(p.status().message() == "table-set NAME STATE NODE EPOCH BALLOT FLAGS RESTARTS DIGEST");
    }
  }
  SUBCASE("numbers") {
    struct Case {
      const char* args;
      const char* message;
    };
    for (const Case& c : {Case{"web owned x 5 3 0 0 99", "table-set: bad number 'x'"},
                          Case{"web owned 1 -5 3 0 0 99", "table-set: bad number '-5'"},
                          Case{"web owned 1 5 3 0 0 1.5", "table-set: bad number '1.5'"},
                          Case{"web owned 1 5 0x3 0 0 99", "table-set: bad number '0x3'"},
                          Case{"web owned 1 5 3 0 0 123456789012345678901", "table-set: bad number '123456789012345678901'"},
                          Case{"web owned 1 18446744073709551616 3 0 0 99",
                               "table-set: number too large '18446744073709551616'"}}) {
      CAPTURE(c.args);
      auto p = parse_table_set_args(c.args);
      REQUIRE_FALSE(p.ok());
      CHECK(p.status().message() == c.message);
    }
    auto p = parse_table_set_args("web owned 1 18446744073709551615 3 0 0 99");
    REQUIRE(p.ok());
    CHECK(p->epoch == UINT64_MAX);
  }
  SUBCASE("fields out of range") {
    for (const char* a : {"web OWNED 1 5 3 0 0 99", "web bogus 1 5 3 0 0 99", "web owned 3 5 3 0 0 99",
                          "web owned 1 5 3 65536 0 99", "web owned 1 5 3 0 4294967296 99",
                          "-web owned 1 5 3 0 0 99", "we/b owned 1 5 3 0 0 99",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa owned 1 5 3 0 0 99"}) {
      CAPTURE(a);
      auto p = parse_table_set_args(a);
      REQUIRE_FALSE(p.ok());
      CHECK(p.status().message() == "table-set: a field is out of range");
    }
  }
}

TEST_CASE("control codec: table-set reply") {
  CHECK(encode_table_set_reply({-5}) == R"({"ok":true,"completed_boottime_ns":-5})");
  for (int64_t t : {int64_t(0), int64_t(1), INT64_MAX, INT64_MIN}) {
    auto p = parse_table_set_reply(encode_table_set_reply({t}));
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    CHECK(p->completed_boottime_ns == t);
  }
  auto refused = parse_table_set_reply(R"({"ok":false,"error":"no lease: this node may not write"})");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::refused);
  CHECK(refused.status().message() == "no lease: this node may not write");
  for (const char* bad : {"", "{", "[]", "null", R"({"ok":true})", R"({"completed_boottime_ns":1})",
                          R"({"ok":"true","completed_boottime_ns":1})", R"({"ok":true,"completed_boottime_ns":"1"})",
                          R"({"ok":true,"completed_boottime_ns":1.0})",
                          R"({"ok":true,"completed_boottime_ns":9223372036854775808})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_table_set_reply(bad).ok());
  }
}

TEST_CASE("control codec: table-peer reply text is the one quorumd always sent") {
  // Keys, order and value types as quorumd's JsonWriter wrote them (and tools, qctl.py, tests read them).
  const std::string expected =
      R"({"ok":true,"read_issued_boottime_ns":123456789,"entries":[)"
      R"({"name":"web","state":"owned","node":2,"epoch":5,"ballot":12,"flags":1,"restarts":3,)"
      R"("digest":18364758544493064720,"changed_wall_ns":1700000000123456789,"block":0,"incarnation":77},)"
      R"({"name":"db.main_1","state":"claiming","node":1,"epoch":18446744073709551615,"ballot":6,"flags":1,)"
      R"("restarts":3,"digest":18364758544493064720,"changed_wall_ns":1700000000123456789,"block":33,)"
      R"("incarnation":18446744073709551615}],)"
      R"("corrupt_blocks":[{"block":4,"reason":"bad CRC \"quoted\"\n","hash":3735928559}],)"
      R"("peer_epoch_floor":40,"own_epoch_floor":41,)"
      R"("peer":{"view":"UP","incarnation":9,"confirmed_boottime_ns":987654321,"digest_known":true,)"
      R"("services_digest":4660,"standby":false,"request":"none","request_serial":0,"takes_requests":false,)"
      R"("handled_incarnation":0,"handled_serial":0}})";
  CHECK(encode_table_peer_reply(sample_peer_reply()) == expected);
  // A quorumd older than peer requests sent no request keys: no request, takes none.
  std::string older = expected;
  older.replace(older.find(R"(,"request")"), older.size() - 2 - older.find(R"(,"request")"), "");
  auto p = parse_table_peer_reply(older);
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK(p->peer.request == PeerRequest::none);
  CHECK_FALSE(p->peer.takes_requests);
  CHECK(p->peer.standby == false);
  // A request kind a later quorumd knows reads as none: the reply, which decides takeovers, still parses.
  std::string later = expected;
  later.replace(later.find(R"("request":"none")"), 16, R"("request":"drain")");
  p = parse_table_peer_reply(later);
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK(p->peer.request == PeerRequest::none);

  TablePeerReply r = sample_peer_reply();
  r.peer_epoch_floor.reset();
  r.peer_epoch_floor_error = "epoch record: bad magic";
  const std::string text = encode_table_peer_reply(r);
  CHECK(text.find(R"("peer_epoch_floor":null,"peer_epoch_floor_error":"epoch record: bad magic","own_epoch_floor":41)") !=
        std::string::npos);
}

TEST_CASE("control codec: table-own reply text is the one quorumd always sent") {
  const std::string expected =
      R"({"ok":true,"entries":[{"name":"web","state":"released","node":0,"epoch":6,"ballot":13,"flags":1,)"
      R"("restarts":3,"digest":18364758544493064720,"changed_wall_ns":1700000000123456789}],)"
      R"("own_epoch_floor":6,"corrupt_blocks":[{"block":2,"reason":"torn"}]})";
  CHECK(encode_table_own_reply(sample_own_reply()) == expected);
  TableOwnReply r = sample_own_reply();
  r.own_epoch_floor_error = "writing the epoch record failed";
  CHECK(encode_table_own_reply(r).find(R"("own_epoch_floor":6,"own_epoch_floor_error":"writing the epoch record failed","corrupt_blocks")") !=
        std::string::npos);
}

TEST_CASE("control codec: table replies round trip") {
  SUBCASE("table-peer") {
    TablePeerReply r = sample_peer_reply();
    for (int variant = 0; variant < 4; ++variant) {
      CAPTURE(variant);
      if (variant == 1) {
        r.peer_epoch_floor.reset();
        r.peer_epoch_floor_error = "bad CRC";
      }
      if (variant == 2) {
        r.entries.clear();
        r.corrupt_blocks.clear();
        r.peer = {PeerView::down, 0, -3, false, 0, true};
      }
      if (variant == 3) {
        r.peer.view = PeerView::dead;
        r.read_issued_boottime_ns = INT64_MIN;
        r.peer.request = PeerRequest::unstandby;
        r.peer.request_serial = UINT64_MAX;
        r.peer.takes_requests = true;
        r.peer.handled_incarnation = 3;
        r.peer.handled_serial = 17;
        r.peer.started_mark = 40;
        r.peer.not_started = {7, 39};
      }
      auto p = parse_table_peer_reply(encode_table_peer_reply(r));
      REQUIRE_MESSAGE(p.ok(), p.status().to_string());
      CHECK(*p == r);
    }
  }
  SUBCASE("table-own") {
    TableOwnReply r = sample_own_reply();
    auto p = parse_table_own_reply(encode_table_own_reply(r));
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    CHECK(*p == r);
    r.own_epoch_floor_error = "x";
    r.entries.clear();
    p = parse_table_own_reply(encode_table_own_reply(r));
    REQUIRE(p.ok());
    CHECK(*p == r);
  }
  SUBCASE("parsed entries are in use; a name is kept byte for byte") {
    TablePeerReply r = sample_peer_reply();
    r.entries[0].entry.name = "caf\xc3\xa9 \"x\"\\";  // any bytes the disk held, escaped in JSON
    auto p = parse_table_peer_reply(encode_table_peer_reply(r));
    REQUIRE(p.ok());
    CHECK(p->entries[0].entry.in_use);
    CHECK(p->entries[0].entry.name == r.entries[0].entry.name);
  }
}

TEST_CASE("control codec: table-peer reply without floors (an older quorumd) and without a floor error") {
  ordered_json j = ordered_json::parse(encode_table_peer_reply(sample_peer_reply()));
  j.erase("peer_epoch_floor");
  auto p = parse_table_peer_reply(j.dump());
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  REQUIRE(p->peer_epoch_floor.has_value());
  CHECK(*p->peer_epoch_floor == 0);

  j["peer_epoch_floor"] = nullptr;
  p = parse_table_peer_reply(j.dump());
  REQUIRE(p.ok());
  CHECK_FALSE(p->peer_epoch_floor.has_value());
  CHECK(p->peer_epoch_floor_error == "the peer's epoch record does not decode");
  j["peer_epoch_floor_error"] = 5;
  CHECK_FALSE(parse_table_peer_reply(j.dump()).ok());
  j["peer_epoch_floor"] = -1;
  j.erase("peer_epoch_floor_error");
  CHECK_FALSE(parse_table_peer_reply(j.dump()).ok());
}

TEST_CASE("control codec: table replies, every field checked") {
  SUBCASE("table-peer top level") {
    check_every_field_matters(encode_table_peer_reply(sample_peer_reply()), peer_parses, {"peer_epoch_floor"},
                              {"peer_epoch_floor"});
  }
  SUBCASE("table-own top level") {
    check_every_field_matters(encode_table_own_reply(sample_own_reply()), own_parses);
  }
  const ordered_json base = ordered_json::parse(encode_table_peer_reply(sample_peer_reply()));
  SUBCASE("an entry") {
    check_every_field_matters(
        base["entries"][0].dump(),
        [&](const std::string& e) {
          ordered_json j = base;
          j["entries"][0] = ordered_json::parse(e);
          return peer_parses(j.dump());
        },
        {"block", "incarnation"});
  }
  SUBCASE("a corrupt block") {
    check_every_field_matters(
        base["corrupt_blocks"][0].dump(),
        [&](const std::string& c) {
          ordered_json j = base;
          j["corrupt_blocks"][0] = ordered_json::parse(c);
          return peer_parses(j.dump());
        },
        {"hash"});
  }
  SUBCASE("the peer") {
    check_every_field_matters(base["peer"].dump(), [&](const std::string& pe) {
      ordered_json j = base;
      j["peer"] = ordered_json::parse(pe);
      return peer_parses(j.dump());
    }, {"request"});  // a quorumd older than peer requests sends none of their keys
  }
  SUBCASE("out-of-range numbers and unknown names") {
    struct Case {
      const char* what;
      std::function<void(ordered_json&)> mutate;
    };
    const std::vector<Case> cases = {
        {"node 3", [](ordered_json& j) { j["entries"][0]["node"] = 3; }},
        {"flags 65536", [](ordered_json& j) { j["entries"][0]["flags"] = 65536; }},
        {"restarts 2^32", [](ordered_json& j) { j["entries"][0]["restarts"] = uint64_t(1) << 32; }},
        {"block 2^32", [](ordered_json& j) { j["entries"][0]["block"] = uint64_t(1) << 32; }},
        {"hash 2^32", [](ordered_json& j) { j["corrupt_blocks"][0]["hash"] = uint64_t(1) << 32; }},
        {"changed_wall_ns 2^63", [](ordered_json& j) { j["entries"][0]["changed_wall_ns"] = uint64_t(1) << 63; }},
        {"read_issued 2^63", [](ordered_json& j) { j["read_issued_boottime_ns"] = uint64_t(1) << 63; }},
        {"empty name", [](ordered_json& j) { j["entries"][0]["name"] = ""; }},
        {"64-byte name", [](ordered_json& j) { j["entries"][0]["name"] = std::string(64, 'a'); }},
        {"state OWNED", [](ordered_json& j) { j["entries"][0]["state"] = "OWNED"; }},
        {"view up", [](ordered_json& j) { j["peer"]["view"] = "up"; }},
        {"entry not an object", [](ordered_json& j) { j["entries"][1] = 5; }},
        {"corrupt block not an object", [](ordered_json& j) { j["corrupt_blocks"].push_back("x"); }},
        {"ok false without error", [](ordered_json& j) { j["ok"] = false; }},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      ordered_json j = base;
      c.mutate(j);
      auto p = parse_table_peer_reply(j.dump());
      REQUIRE_FALSE(p.ok());
      CHECK(!p.status().message().empty());
    }
    ordered_json j = base;
    j["entries"][1]["node"] = 3;
    auto p = parse_table_peer_reply(j.dump());
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().message().find("entries[1]") != std::string::npos);  // says where
    CHECK(p.status().message().find("'node'") != std::string::npos);
  }
  SUBCASE("unknown keys are ignored") {
    ordered_json j = base;
    j["future"] = {1, 2};
    j["entries"][0]["future"] = "x";
    auto p = parse_table_peer_reply(j.dump());
    REQUIRE(p.ok());
    CHECK(*p == sample_peer_reply());
  }
  SUBCASE("garbage and refusals") {
    for (const std::string& bad : {std::string(""), std::string("garbage"), std::string("{\"ok\":true"),
                                   std::string("[1,2]"), std::string("\"x\""), std::string("{}"),
                                   std::string("{\"ok\":true}\0x", 13), std::string("\xff\xfe{}")}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_table_peer_reply(bad).ok());
      CHECK_FALSE(parse_table_own_reply(bad).ok());
    }
    auto p = parse_table_own_reply(R"({"ok":false,"error":"reading the peer's table failed: io"})");
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Code::refused);
    CHECK(p.status().message() == "reading the peer's table failed: io");
  }
}

TEST_CASE("control codec: events, the text quorumd always sent") {
  const auto ev = sample_events();
  const std::vector<std::string> expected = {
      R"({"event":"lease_renewed","node":"alpha","incarnation":3,"boottime_ns":5000,"seq":17,"lease_expiry_boottime_ns":9000})",
      R"({"event":"lease_at_risk","node":"alpha","incarnation":3,"boottime_ns":5001,"reason":"renewal late"})",
      R"({"event":"lease_at_risk","node":"alpha","incarnation":3,"boottime_ns":5001,"reason":"renewal late","lease_expiry_boottime_ns":-1})",
      R"({"event":"leaving","node":"alpha","incarnation":3,"boottime_ns":5001,"reason":"admin"})",
      R"({"event":"fenced","node":"alpha","incarnation":3,"boottime_ns":5001,"reason":"admin","fences":2})",
      R"({"event":"left","node":"alpha","incarnation":3,"boottime_ns":5001,"reason":"admin"})",
      R"({"event":"peer_changed","node":"alpha","incarnation":3,"boottime_ns":5001,"peer":"beta","from":"UP","to":"DEAD","peer_incarnation":12,"reason":"heartbeat unchanged for 5s"})",
      R"x({"event":"peer_changed","node":"alpha","incarnation":3,"boottime_ns":5001,"peer":"beta","from":"UP","to":"DEAD","peer_incarnation":12,"reason":"powered off by a confirmed fence (fence_ipmilan)","power_fenced":true})x",
      R"({"event":"device_changed","node":"alpha","incarnation":3,"boottime_ns":5002,"device_index":1,"device":"/dev/sdc","failing":true,"redundant":false,"reason":"write: no answer"})",
      R"({"event":"peer_updated","node":"alpha","incarnation":3,"boottime_ns":5003,"peer_incarnation":9,"reason":"table generation 17"})",
  };
  REQUIRE(ev.size() == expected.size());
  for (size_t i = 0; i < ev.size(); ++i) {
    CAPTURE(i);
    CHECK(encode_quorumd_event(ev[i]) == expected[i]);
    auto p = parse_quorumd_event(expected[i]);
    REQUIRE_MESSAGE(p.ok(), p.status().to_string());
    CHECK(*p == ev[i]);
  }
}

TEST_CASE("control codec: events, every field checked") {
  for (const auto& e : sample_events()) {
    CAPTURE(quorumd_event_name(e.kind));
    const std::string text = encode_quorumd_event(e);
    std::vector<std::string> optional;
    if (e.kind == QuorumdEventKind::lease_at_risk) optional.push_back("lease_expiry_boottime_ns");
    if (e.power_fenced) optional.push_back("power_fenced");
    check_every_field_matters(text, [](const std::string& s) { return parse_quorumd_event(s).ok(); }, optional);
  }
  auto p = parse_quorumd_event(R"({"event":"coffee_ready","node":"a","incarnation":1,"boottime_ns":1})");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::unsupported);
  p = parse_quorumd_event(
      R"({"event":"peer_changed","node":"a","incarnation":1,"boottime_ns":1,"peer":"b","from":"UP","to":"GONE","peer_incarnation":1,"reason":""})");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == Code::invalid_argument);
  for (const char* bad : {"", "{", "[]", "{\"event\":1}", "{\"event\":\"left\"}"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_quorumd_event(bad).ok());
  }
}

TEST_CASE("control codec: an event's kind alone, whatever its other fields hold") {
  for (const auto& e : sample_events()) {
    auto k = parse_quorumd_event_kind(encode_quorumd_event(e));
    REQUIRE(k.ok());
    CHECK(*k == e.kind);
  }
  // Malformed for parse_quorumd_event, yet its kind is known.
  auto k = parse_quorumd_event_kind(R"({"event":"fenced","node":7})");
  REQUIRE(k.ok());
  CHECK(*k == QuorumdEventKind::fenced);
  CHECK_FALSE(parse_quorumd_event(R"({"event":"fenced","node":7})").ok());
  k = parse_quorumd_event_kind(R"({"event":"coffee_ready"})");
  REQUIRE_FALSE(k.ok());
  CHECK(k.status().code() == Code::unsupported);
  for (const char* bad : {"", "{", "[]", "{\"event\":1}", "{\"reason\":\"fenced\"}"}) {
    CAPTURE(bad);
    auto b = parse_quorumd_event_kind(bad);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Code::invalid_argument);
  }
}

// Random damage to valid messages: never a throw or a crash; whatever still parses encodes and parses back
// to the same value (the same property fuzz/control_codec_fuzz.cc checks with coverage guidance).
TEST_CASE("control codec: random damage never throws, and what parses round-trips") {
  std::vector<std::string> seeds = {encode_table_peer_reply(sample_peer_reply()),
                                    encode_table_own_reply(sample_own_reply()), encode_table_set_reply({42}),
                                    "web owned 1 5 3 0 0 99"};
  for (const auto& e : sample_events()) seeds.push_back(encode_quorumd_event(e));
  std::mt19937_64 rng(13);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + int(rng() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = char(rng()); break;
        case 1: s.erase(at, 1 + rng() % 8); break;
        case 2: s.insert(at, 1, "0123456789-.e\"{}[],:ntf"[rng() % 23]); break;
        case 3: s.resize(at); break;
      }
    }
    CAPTURE(s);
    if (auto p = parse_table_peer_reply(s); p.ok()) {
      ++parsed;
      auto q = parse_table_peer_reply(encode_table_peer_reply(*p));
      REQUIRE(q.ok());
      CHECK(*q == *p);
    }
    if (auto p = parse_table_own_reply(s); p.ok()) {
      ++parsed;
      auto q = parse_table_own_reply(encode_table_own_reply(*p));
      REQUIRE(q.ok());
      CHECK(*q == *p);
    }
    if (auto p = parse_table_set_reply(s); p.ok()) {
      ++parsed;
      auto q = parse_table_set_reply(encode_table_set_reply(*p));
      REQUIRE(q.ok());
      CHECK(*q == *p);
    }
    if (auto p = parse_quorumd_event(s); p.ok()) {
      ++parsed;
      auto q = parse_quorumd_event(encode_quorumd_event(*p));
      REQUIRE(q.ok());
      CHECK(*q == *p);
    }
    if (auto p = parse_table_set_args(s); p.ok()) {
      ++parsed;
      auto q = parse_table_set_args(encode_table_set_args(*p));
      REQUIRE(q.ok());
      CHECK(*q == *p);
    }
  }
  CHECK(parsed > 100);  // the damage left enough valid messages for the round trip to be exercised
}

// The shared helpers under every codec and --json output (what JsonWriter's own test checked, and more).
TEST_CASE("control codec: json_codec dump escapes, keeps key order, and never throws") {
  json_codec::Json j = json_codec::Json::object();
  j["a"] = 1;
  j["s"] = "q\"\n\x01";
  j["arr"] = json_codec::Json{true, nullptr, 2.5};
  j["o"] = json_codec::Json::object();
  CHECK(json_codec::dump(j) == "{\"a\":1,\"s\":\"q\\\"\\n\\u0001\",\"arr\":[true,null,2.5],\"o\":{}}");
  // Invalid UTF-8 (a name read from a damaged disk) is replaced, where nlohmann's default dump throws.
  j = json_codec::Json::object();
  j["name"] = std::string("a\xff\xc3" "b");
  const std::string text = json_codec::dump(j);
  CHECK(text == "{\"name\":\"a\xef\xbf\xbd\xef\xbf\xbd" "b\"}");
  CHECK(json_codec::parse_object(text).ok());
}

TEST_CASE("control codec: json_codec typed getters") {
  auto j = json_codec::parse_object(R"({"u":18446744073709551615,"i":-9223372036854775808,"b":false,"s":"x",)"
                                    R"("a":[],"o":{},"f":1.0,"n":null,"big":9223372036854775808})");
  REQUIRE(j.ok());
  CHECK(*json_codec::get_u64(*j, "u") == UINT64_MAX);
  CHECK(*json_codec::get_i64(*j, "i") == INT64_MIN);
  CHECK(*json_codec::get_bool(*j, "b") == false);
  CHECK(*json_codec::get_string(*j, "s") == "x");
  CHECK(json_codec::get_array(*j, "a").ok());
  CHECK(json_codec::get_object(*j, "o").ok());
  CHECK(json_codec::get_u64(*j, "u", 10).status().message() == "'u' is out of range (at most 10)");
  CHECK(json_codec::get_u64(*j, "i").status().message() == "'i' must be an unsigned integer");
  CHECK(json_codec::get_u64(*j, "f").status().message() == "'f' must be an unsigned integer");
  CHECK(json_codec::get_i64(*j, "f").status().message() == "'f' must be an integer");
  CHECK(json_codec::get_i64(*j, "big").status().message() == "'big' is out of range");
  CHECK(json_codec::get_string(*j, "n").status().message() == "'n' must be a string");
  CHECK(json_codec::get_bool(*j, "missing").status().message() == "'missing' is missing");
  CHECK_FALSE(json_codec::get_array(*j, "o").ok());
  CHECK_FALSE(json_codec::get_object(*j, "a").ok());
  CHECK(json_codec::has(*j, "n"));
  CHECK_FALSE(json_codec::has(*j, "x"));
  for (const char* bad : {"", "[]", "1", "\"s\"", "{", "{\"a\":}", "{} {}", "{\"a\":1,}"}) {
    CAPTURE(bad);
    auto p = json_codec::parse_object(bad);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Code::invalid_argument);
  }
  CHECK(json_codec::check_ok(*json_codec::parse_object(R"({"ok":true})")).ok());
  CHECK(json_codec::check_ok(*json_codec::parse_object(R"({"ok":false})")).message() == "refused (no reason given)");
  // An empty reason is none (the fuzzer found it refused with an empty message).
  CHECK(json_codec::check_ok(*json_codec::parse_object(R"({"ok":false,"error":""})")).message() == "refused (no reason given)");
  CHECK(json_codec::check_ok(*json_codec::parse_object(R"({"ok":1})")).code() == Code::invalid_argument);
}

TEST_CASE("event codec: quorumd's answer to subscribe is no event (svcmgr warned of it at every start)") {
  CHECK(is_subscription_reply(R"({"ok":true,"subscribed":true,"node":"a","incarnation":3,"phase":"JOINING"})"));
  CHECK_FALSE(is_subscription_reply(R"({"event":"lease_renewed","node":"a","incarnation":3,"boottime_ns":1,"seq":2,"lease_expiry_boottime_ns":5})"));
  CHECK_FALSE(is_subscription_reply(R"({"ok":true})"));
  CHECK_FALSE(is_subscription_reply("not json"));
}

TEST_CASE("table-peer: which of the peer's claims are started, from its started mark") {
  PeerSummary p;
  CHECK(p.started_on_peer(99));  // a peer that publishes no mark (an older one): its entry's word
  p.started_mark = 40;
  p.not_started = {7, 39};
  CHECK(p.started_on_peer(40));
  CHECK(p.started_on_peer(8));
  CHECK_FALSE(p.started_on_peer(41));  // a newer claim: still starting
  CHECK_FALSE(p.started_on_peer(39));  // listed: starting or recovering
  CHECK_FALSE(p.started_on_peer(7));
  // Listed epochs that are not numbers make the reply unreadable, as any bad field does.
  TablePeerReply r = sample_peer_reply();
  r.peer.started_mark = 40;
  const std::string text = encode_table_peer_reply(r);
  CHECK(text.find(R"("started_mark":40,"not_started":[])") != std::string::npos);
  std::string bad = text;
  bad.replace(bad.find(R"("not_started":[])"), 16, R"("not_started":["x"])");
  CHECK_FALSE(parse_table_peer_reply(bad).ok());
}
