// connect_unix_socket on a daemon that does not accept (review14b finding 8): a full listen backlog makes an
// AF_UNIX connect() wait until the daemon accepts; the wait is bounded (non-blocking: none; blocking: the
// caller's timeout), with an error that says what is wrong. A daemon that accepts still connects.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/unix_socket.h"
#include "control/control_client.h"
#include "control/control_server.h"
#include "tests/support/scratch.h"

using namespace castor;
using castor::testing::ScratchDir;
using namespace std::chrono_literals;

namespace {

// A listener that accepts nothing (a stopped daemon), its backlog filled.
struct FullListener {
  UniqueFd lfd;
  std::vector<UniqueFd> pending;
  explicit FullListener(const std::string& path, bool fill = true) {
    lfd = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(lfd.valid());
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(lfd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(lfd.get(), 0) == 0);
    for (int i = 0; fill && i < 2; ++i) {
      int c = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      REQUIRE(c >= 0);
      (void)::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      pending.emplace_back(c);
    }
  }
};

// Runs `call` in a thread; if it has not returned after 5 s (the bug: a connect that waits forever), the
// listener is closed, which ends the wait, so that a regression fails the test instead of hanging it.
Status bounded(FullListener& l, const std::function<Status()>& call) {
  std::atomic<bool> done{false};
  Status out;
  std::thread t([&] {
    out = call();
    done = true;
  });
  for (int i = 0; i < 500 && !done; ++i) std::this_thread::sleep_for(10ms);
  const bool in_time = done;
  if (!in_time) l.lfd.reset();
  t.join();
  if (!in_time) return Error(Code::internal, "still blocked after 5 s: " + out.to_string());
  return out;
}

}  // namespace

TEST_CASE("unix socket: a full backlog is busy at once (non-blocking) and a timeout after the caller's (blocking)") {
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  FullListener l(path);
  BootClock clock;
  TimePoint t0 = clock.now();
  Status nb = bounded(l, [&] { return connect_unix_socket(path, true).status(); });
  CHECK(clock.now() - t0 < 500ms);
  CHECK_MESSAGE(nb.code() == Code::busy, nb.to_string());
  CHECK(nb.message().find("backlog") != std::string::npos);

  t0 = clock.now();
  Status b = bounded(l, [&] { return connect_unix_socket(path, false, 300ms).status(); });
  const Duration took = clock.now() - t0;
  CHECK_MESSAGE(b.code() == Code::timeout, b.to_string());
  CHECK(took >= 250ms);
  CHECK(took < 3s);

  t0 = clock.now();
  // The CLI's connect, with its timeout.
  Status c = bounded(l, [&] { return ControlClient::connect(path, 300ms).status(); });
  CHECK_MESSAGE(c.code() == Code::timeout, c.to_string());
  CHECK(clock.now() - t0 < 3s);
}

TEST_CASE("unix socket: a daemon with room in its backlog connects, blocking or not; nothing there is not_found") {
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  {
    FullListener l(path, /*fill=*/false);
    auto nb = connect_unix_socket(path, true);
    REQUIRE_MESSAGE(nb.ok(), nb.status().to_string());
  }
  ::unlink(path.c_str());
  FullListener again(path, false);
  auto b = connect_unix_socket(path, false, 1s);
  REQUIRE_MESSAGE(b.ok(), b.status().to_string());
  // Sends are not given the connect timeout (as before: the socket's default).
  timeval tv{};
  socklen_t len = sizeof tv;
  REQUIRE(::getsockopt(b->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0);
  CHECK(tv.tv_sec == 0);
  CHECK(tv.tv_usec == 0);
  CHECK(connect_unix_socket(dir.file("none.sock"), true).status().code() == Code::not_found);
}

// The same wait in a starting daemon: ControlServer::listen probes an existing socket for a live daemon;
// one that is stopped with its backlog full is "already listening" (busy), not a hang.
TEST_CASE("unix socket: a daemon starting on the socket of a stopped one says busy, does not hang") {
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  FullListener l(path);
  Status st = bounded(l, [&] { return ControlServer::listen(path).status(); });
  CHECK_MESSAGE(st.code() == Code::busy, st.to_string());
}
