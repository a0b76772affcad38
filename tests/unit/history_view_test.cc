// Tests for the event history's records (lib/control/history_record.h) and what `castor history` makes of
// them (tools/history_view.h): round trips, torn and foreign lines skipped, two nodes' files merged by wall
// time with duplicates shown once, filters, --since's forms, and the table.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "control/history_record.h"
#include "tools/history_view.h"

using namespace castor;

namespace {

HistoryRecord rec(int64_t wall_ns, const std::string& node, const std::string& event, const std::string& service = "",
                  uint64_t epoch = 0) {
  HistoryRecord r;
  r.wall_ns = wall_ns;
  r.node = node;
  r.event = event;
  r.kind = service.empty() ? "node" : "resource";
  r.service = service;
  r.epoch = epoch;
  return r;
}

struct UtcZone {
  UtcZone() {
    setenv("TZ", "UTC", 1);
    tzset();
  }
  ~UtcZone() {
    unsetenv("TZ");
    tzset();
  }
};

}  // namespace

TEST_CASE("history record: round trip, and lines that are not records") {
  HistoryRecord r = rec(1765000000123456789, "alpha", "node_dead");
  r.subject = "beta";
  r.desc = "lost";
  r.reason = "heartbeat unchanged for 1.2s\nand \"quoted\"";
  const std::string line = encode_history_record(r);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line ==
        R"({"wall_ns":1765000000123456789,"node":"alpha","event":"node_dead","kind":"node","service":"","epoch":0,)"
        R"("subject":"beta","desc":"lost","reason":"heartbeat unchanged for 1.2s\nand \"quoted\""})");
  auto p = parse_history_record(line);
  REQUIRE_MESSAGE(p.ok(), p.status().to_string());
  CHECK(*p == r);
  for (const char* bad : {"", "{", "[]", R"({"wall_ns":1})", R"({"wall_ns":"1","node":"a","event":"e","kind":"k","service":"","epoch":0,"subject":"","desc":"","reason":""})"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_history_record(bad).ok());
  }
  size_t skipped = 9;
  auto all = parse_history_text(line + "\n" + "not json\n\n" + line.substr(0, 30), &skipped);  // a torn last line
  CHECK(all.size() == 1);
  CHECK(skipped == 2);
}

TEST_CASE("history view: two nodes merged by time, duplicates once, filters") {
  std::vector<HistoryRecord> alpha = {rec(100, "alpha", "service_started", "web", 3), rec(300, "alpha", "node_dead"),
                                      rec(400, "alpha", "service_claimed", "web", 5)};
  std::vector<HistoryRecord> beta = {rec(50, "beta", "admin_request"), rec(200, "beta", "service_failed", "web", 4),
                                     rec(300, "beta", "service_stopped", "db", 2)};
  auto merged = merge_history({alpha, beta, alpha});  // alpha's file read twice (copied over, or rotated)
  REQUIRE(merged.size() == 6);
  std::vector<std::string> order;
  for (const auto& r : merged) order.push_back(r.node + ":" + r.event);
  CHECK(order == std::vector<std::string>{"beta:admin_request", "alpha:service_started", "beta:service_failed",
                                          "alpha:node_dead", "beta:service_stopped", "alpha:service_claimed"});
  HistoryFilter f;
  f.service = "web";
  auto web = filter_history(merged, f);
  REQUIRE(web.size() == 3);
  CHECK(web[1].event == "service_failed");
  f.since_wall_ns = 250;
  web = filter_history(merged, f);
  REQUIRE(web.size() == 1);
  CHECK(web[0].epoch == 5);
  CHECK(filter_history(merged, HistoryFilter{}).size() == 6);
}

TEST_CASE("history view: --since as a duration or a local time") {
  UtcZone utc;
  const int64_t now = 1765000000LL * 1000000000LL;  // 2025-12-06 05:46:40 UTC
  auto t = parse_history_since("10m", now);
  REQUIRE(t.ok());
  CHECK(*t == now - 600LL * 1000000000LL);
  CHECK(*parse_history_since("2h", now) == now - 7200LL * 1000000000LL);
  CHECK(*parse_history_since("1d", now) == now - 86400LL * 1000000000LL);
  CHECK(*parse_history_since("30s", now) == now - 30LL * 1000000000LL);
  t = parse_history_since("2025-12-06 03:12", now);
  REQUIRE_MESSAGE(t.ok(), t.status().to_string());
  CHECK(*t == (1765000000LL - (5 * 3600 + 46 * 60 + 40) + 3 * 3600 + 12 * 60) * 1000000000LL);
  CHECK(*parse_history_since("2025-12-06T03:12:30", now) == *t + 30LL * 1000000000LL);
  CHECK(*parse_history_since("03:12", now) == *t);
  for (const char* bad : {"", "yesterday", "10", "10x", "m", "25:00", "2025-12-06", "03:12 junk", "-5m"}) {
    CAPTURE(bad);
    auto b = parse_history_since(bad, now);
    REQUIRE_FALSE(b.ok());
    CHECK(b.status().code() == Code::invalid_argument);
  }
}

TEST_CASE("history view: the table, every text escaped") {
  UtcZone utc;
  HistoryRecord r = rec(1765000000123456789, "alpha", "node_dead");
  r.subject = "beta";
  r.desc = "lost";
  r.reason = "heartbeat unchanged for 1.2s";
  HistoryRecord s = rec(1765000001000000000, "alpha", "service_relocated", "web", 7);
  s.desc = "relocated from beta";
  s.reason = "evil\x1b[2Jtext";
  const std::string t = format_history_table({r, s});
  CAPTURE(t);
  CHECK(t.find("TIME (local)") == 0);
  CHECK(t.find("2025-12-06 05:46:40.123  alpha    node_dead            -            -      beta: lost (heartbeat unchanged for 1.2s)\n") !=
        std::string::npos);
  CHECK(t.find("service_relocated    web          7      relocated from beta (evil") != std::string::npos);
  CHECK(t.find('\x1b') == std::string::npos);
}
