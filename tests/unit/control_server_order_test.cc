// A real ControlServer answers each connection's requests in their order, whenever the handler gives the
// replies. svcmgr pipelines table-set and table-peer on one connection and matches replies first in,
// first out; quorumd answers both when their disk I/O completes, in whichever order that is. Before the
// server kept the order, a peer-table read that completed before a table write gave svcmgr the read's
// reply as the write's ("a failed write") and the write's as the peer table (which does not parse).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "control/control_server.h"
#include "svcmgr/quorumd_link.h"
#include "tests/support/control_client.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

// "slow N": answered later (like table-set or table-peer); "fast N": answered at once (like status).
struct DeferringHandler : ControlServer::Handler {
  ControlServer* server = nullptr;
  std::vector<std::pair<ControlServer::ConnId, std::string>> later;
  int requests = 0;
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    ++requests;
    if (req.verb == "slow") later.push_back({server->defer(conn), req.args});
    else if (req.verb == "fail") later.push_back({server->defer(conn), "!" + req.args});
    else server->reply(conn, "{\"ok\":true,\"reply\":\"" + req.verb + " " + req.args + "\"}");
  }
};

void send_request(int fd, const std::string& line) { REQUIRE(testing::send_frame(fd, line)); }

// Every reply payload received within ~1 s (until `n` arrived).
std::vector<std::string> replies(int fd, ControlServer& server, DeferringHandler& h, size_t n) {
  return testing::read_replies(fd, server, h, n, 200, std::chrono::milliseconds(5));
}

// Drives the server until the handler has seen `n` requests (~0.2 s at most).
bool until_requests(ControlServer& server, DeferringHandler& h, int n) {
  return testing::drive_until(server, h, [&] { return h.requests >= n; }, 100, std::chrono::milliseconds(2));
}

}  // namespace

TEST_CASE("control server: replies go out in request order, whenever the handler gives them") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  auto server = ControlServer::listen(dir.file("q.sock"));
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  DeferringHandler h;
  h.server = server->get();
  UniqueFd c = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(c.valid());

  // table-set (answered once written), table-peer (answered once read), status (at once), pipelined.
  send_request(c.get(), "slow write");
  send_request(c.get(), "slow read");
  send_request(c.get(), "fast status");
  until_requests(**server, h, 3);
  REQUIRE(h.requests == 3);
  REQUIRE(h.later.size() == 2);
  // Nothing may go out yet: the first request is not answered, and the third's reply must wait for it.
  CHECK(replies(c.get(), **server, h, 1).empty());
  // The read completes first (its I/O was quicker), then the write.
  CHECK((*server)->reply(h.later[1].first, "{\"ok\":true,\"reply\":\"read\"}"));
  CHECK(replies(c.get(), **server, h, 1).empty());
  CHECK((*server)->reply(h.later[0].first, "{\"ok\":true,\"reply\":\"write\"}"));
  auto got = replies(c.get(), **server, h, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0] == "{\"ok\":true,\"reply\":\"write\"}");
  CHECK(got[1] == "{\"ok\":true,\"reply\":\"read\"}");
  CHECK(got[2] == "{\"ok\":true,\"reply\":\"fast status\"}");
  // A handle answers once.
  CHECK_FALSE((*server)->reply(h.later[0].first, "{\"ok\":true}"));
}

TEST_CASE("control server: a deferred error reply keeps its place; a reply given at once goes straight out") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  auto server = ControlServer::listen(dir.file("q.sock"));
  REQUIRE(server.ok());
  DeferringHandler h;
  h.server = server->get();
  UniqueFd c = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(c.valid());
  send_request(c.get(), "fast one");
  auto first = replies(c.get(), **server, h, 1);
  REQUIRE(first.size() == 1);
  CHECK(first[0] == "{\"ok\":true,\"reply\":\"fast one\"}");

  send_request(c.get(), "fail write");
  send_request(c.get(), "fast two");
  until_requests(**server, h, 3);
  REQUIRE(h.later.size() == 1);
  CHECK(replies(c.get(), **server, h, 1).empty());
  const ControlServer::ConnId handle = h.later[0].first;
  CHECK((*server)->connection_of(handle) != 0);
  CHECK((*server)->connection_of(handle) != handle);
  (*server)->reply_error(handle, "table write failed", false);
  CHECK((*server)->connection_of(handle) == 0);
  auto got = replies(c.get(), **server, h, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == "{\"ok\":false,\"error\":\"table write failed\"}");
  CHECK(got[1] == "{\"ok\":true,\"reply\":\"fast two\"}");
}

// svcmgr's side (svcmgr/quorumd_link.h): 1000 services claiming at once are 1000 table-set requests, each
// answered once its block is written. quorumd drops a client with more than kMaxPendingRequests
// unanswered; the link keeps at most kMaxInFlight on the wire and the rest in order behind them. Before it
// did, svcmgr with 1000 services lost quorumd at start, and its failed writes, retried from their callbacks
// (which request() ran at once while disconnected), recursed until the stack overflowed (a crash loop).
TEST_CASE("svcmgr's link: 1000 deferred requests get through in order, never more than kMaxInFlight on the wire") {
  static_assert(QuorumdLink::kMaxInFlight < ControlServer::kMaxPendingRequests);
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  auto server = ControlServer::listen(dir.file("q.sock"));
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  DeferringHandler h;
  h.server = server->get();
  QuorumdLink link(dir.file("q.sock"));
  REQUIRE(link.connect([](const std::string&) {}).ok());
  std::vector<int> answered;
  bool failed = false;
  for (int i = 0; i < 1000; ++i)
    link.request("slow " + std::to_string(i), [&answered, &failed, i](const Result<std::string>& r) {
      if (r.ok()) answered.push_back(i);
      else failed = true;
    });
  CHECK(link.in_flight() == QuorumdLink::kMaxInFlight);
  CHECK(link.waiting() == 1000 - QuorumdLink::kMaxInFlight);
  size_t most_deferred = 0;
  for (int pass = 0; pass < 5000 && answered.size() < 1000 && !failed; ++pass) {
    (*server)->process(h);
    most_deferred = std::max(most_deferred, h.later.size());
    for (auto& [id, args] : h.later) (*server)->reply(id, "{\"ok\":true}");
    h.later.clear();
    (*server)->process(h);
    link.process();
    if (answered.size() < 1000) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  CHECK_FALSE(failed);
  CHECK(link.connected());
  REQUIRE(answered.size() == 1000);
  CHECK(std::is_sorted(answered.begin(), answered.end()));
  CHECK(most_deferred <= QuorumdLink::kMaxInFlight);
}

TEST_CASE("svcmgr's link: a request refused while disconnected is answered from process(), never inside request()") {
  QuorumdLink down("/nonexistent/q.sock");
  int calls = 0, depth = 0, deepest = 0;
  std::function<void(const Result<std::string>&)> retry = [&](const Result<std::string>& r) {
    CHECK_FALSE(r.ok());
    ++calls;
    deepest = std::max(deepest, ++depth);
    if (calls < 100000) down.request("table-set again", retry);  // a failed write written again
    --depth;
  };
  down.request("table-set x", retry);
  CHECK(calls == 0);
  down.process();
  CHECK(calls == 1);
  down.process();
  CHECK(calls == 2);
  CHECK(deepest == 1);
}
