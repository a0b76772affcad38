// A client that pipelines requests behind one whose reply is deferred (a table-set waiting for its disk
// write) must not make the server hold replies without bound: the replies given at once wait in their
// slots for the deferred one, outside the kMaxOutputBytes check of the output buffer. With a hung disk
// the deferred reply waits up to an I/O timeout, and each small request can produce a large reply
// (status). The held replies count toward the same per-connection bound, and so does the number of
// requests waiting: past it the client is dropped as too slow, as one that does not read.
#include <doctest/doctest.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "control/control_protocol.h"
#include "control/control_server.h"
#include "tests/support/control_client.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

// "slow": deferred and never answered here; "big": 100 KB reply at once; anything else: small reply.
struct HoldingHandler : ControlServer::Handler {
  ControlServer* server = nullptr;
  std::vector<ControlServer::ConnId> later;
  int requests = 0;
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    ++requests;
    if (req.verb == "slow") later.push_back(server->defer(conn));
    else if (req.verb == "big") server->reply(conn, "{\"ok\":true,\"reply\":\"" + std::string(100 * 1024, 'x') + "\"}");
    else server->reply(conn, "{\"ok\":true}");
  }
};

// Sends `count` requests `line` while driving the server; stops early once the server dropped us.
void pipeline(int fd, ControlServer& server, HoldingHandler& h, const std::string& line, int count) {
  auto frame = encode_frame(line);
  REQUIRE(frame.ok());
  for (int i = 0; i < count && server.connection_count() > 0; ++i) {
    if (::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL) != ssize_t(frame->size())) return;
    server.process(h);
  }
  for (int i = 0; i < 50; ++i) {
    server.process(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Drives the server until it has accepted the one client (~0.1 s at most).
bool accepted(ControlServer& server, HoldingHandler& h) {
  return testing::drive_until(server, h, [&] { return server.connection_count() == 1; }, 100,
                              std::chrono::milliseconds(1));
}

// A server with one accepted client whose first request ("slow write") is deferred and never answered
// unless the test does.
struct DeferredClient {
  testing::ScratchDir dir;
  std::unique_ptr<ControlServer> owned;
  HoldingHandler h;
  UniqueFd c;
  DeferredClient() {
    auto listening = ControlServer::listen(dir.file("q.sock"));
    REQUIRE_MESSAGE(listening.ok(), listening.status().to_string());
    owned = std::move(listening).value();
    h.server = owned.get();
    c = testing::connect_unix(dir.file("q.sock"));
    REQUIRE(c.valid());
    REQUIRE(accepted(*owned, h));
    pipeline(c.get(), *owned, h, "slow write", 1);
  }
  ControlServer& server() { return *owned; }
};

}  // namespace

TEST_CASE_FIXTURE(DeferredClient, "control server: replies held behind a deferred one are bounded like unread output") {
  REQUIRE(h.later.size() == 1);
  REQUIRE(server().connection_count() == 1);
  // 60 x 100 KB = 6 MB of replies behind the deferred one: more than kMaxOutputBytes (2 MiB + headers).
  pipeline(c.get(), server(), h, "big", 60);
  CHECK(server().connection_count() == 0);
  CHECK(h.requests < 60);
}

TEST_CASE_FIXTURE(DeferredClient, "control server: the number of requests waiting behind a deferred reply is bounded") {
  REQUIRE(h.later.size() == 1);
  pipeline(c.get(), server(), h, "ping", 20000);
  CHECK(server().connection_count() == 0);
  CHECK(h.requests < 20000);
}

TEST_CASE_FIXTURE(DeferredClient,
                  "control server: a few pipelined requests behind a deferred one are kept and answered in order") {
  pipeline(c.get(), server(), h, "big", 10);  // 1 MB held: within the bound
  CHECK(server().connection_count() == 1);
  CHECK(h.requests == 11);
  REQUIRE(h.later.size() == 1);
  CHECK(server().reply(h.later[0], "{\"ok\":true,\"reply\":\"write\"}"));
  std::vector<std::string> got = testing::read_replies(c.get(), server(), h, 11, 500, std::chrono::milliseconds(2));
  REQUIRE(got.size() == 11);
  CHECK(got[0] == "{\"ok\":true,\"reply\":\"write\"}");
  CHECK(got[10].size() > 100 * 1024);
}
