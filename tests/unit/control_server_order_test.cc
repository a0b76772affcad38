// A real ControlServer answers each connection's requests in their order, whenever the handler gives the
// replies. svcmgr pipelines table-set and table-peer on one connection and matches replies first in,
// first out; quorumd answers both when their disk I/O completes, in whichever order that is. Before the
// server kept the order, a peer-table read that completed before a table write gave svcmgr the read's
// reply as the write's ("a failed write") and the write's as the peer table (which does not parse).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "control/control_server.h"
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
