// Root-only: the control sockets' non-root clients (ControlAccess, issue 20; review 20b). A child process
// becomes nobody with (or without) the status group and talks to a ControlServer served by this process:
// a reader reads and is closed at the first verb it may not send; a reader that pipelines a flood of
// requests is dropped after its burst (its requests cost the daemon's loop a bounded time: a status
// reader once fenced a node by flooding `status`); at most kMaxLimitedConnections readers at once (root
// keeps the rest of the slots); over-long arguments are refused; without the group, no connection at all.
#include <doctest/doctest.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "control/control_protocol.h"
#include "control/control_server.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

constexpr gid_t kStatusGid = 4242;  // numeric only: SO_PEERGROUPS carries numbers, no /etc/group entry needed
constexpr uid_t kNobody = 65534;

struct CountingHandler : ControlServer::Handler {
  int requests = 0;
  ControlServer* server = nullptr;
  void on_request(ControlServer::ConnId conn, const ControlRequest&) override {
    ++requests;
    server->reply(conn, "{\"ok\":true}");
  }
};

int connect_to(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_request(int fd, const std::string& line) {
  auto frame = encode_frame(line);
  return frame.ok() && ::send(fd, frame->data(), frame->size(), MSG_NOSIGNAL) == ssize_t(frame->size());
}

// The next reply's payload; "" at EOF, "timeout" when none came within 5 s.
std::string next_reply(int fd, std::string& buf) {
  for (;;) {
    auto f = take_frame(buf, kMaxReplyPayload);
    if (f.ok() && f->has_value()) return **f;
    char b[4096];
    ssize_t n = ::recv(fd, b, sizeof b, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return "timeout";
    if (n <= 0) return "";
    buf.append(b, size_t(n));
  }
}

// Runs `child` as nobody (with the status group when `in_group`) while this process serves `server`;
// returns the child's exit status.
int as_nobody(ControlServer& server, CountingHandler& handler, bool in_group, const std::function<int()>& child) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const gid_t groups[] = {kStatusGid};
    if (::setgroups(in_group ? 1 : 0, groups) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(120);
    ::_exit(child());
  }
  int status = 0;
  for (;;) {
    pollfd p{server.fd(), POLLIN, 0};
    ::poll(&p, 1, 5);
    server.process(handler);
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
  }
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

struct Fixture {
  testing::ScratchDir dir;
  std::unique_ptr<ControlServer> server;
  CountingHandler handler;
  std::string path;
  Fixture() {
    REQUIRE(::chmod(dir.path().c_str(), 0711) == 0);  // nobody reaches the socket in it
    path = dir.file("q.sock");
    ControlAccess access;
    access.status_group = kStatusGid;
    access.read_verbs = {"status"};
    auto s = ControlServer::listen(path, access);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    server = std::move(*s);
    handler.server = server.get();
  }
};

}  // namespace

TEST_CASE("control access: the socket is 0660 with the status group; a reader reads, and is closed at a verb it may not send") {
  Fixture fx;
  struct stat st{};
  REQUIRE(::stat(fx.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  CHECK(st.st_gid == kStatusGid);
  const int rc = as_nobody(*fx.server, fx.handler, true, [&] {
    int fd = connect_to(fx.path);
    if (fd < 0) return 10;
    std::string buf;
    if (!send_request(fd, "status") || next_reply(fd, buf) != "{\"ok\":true}") return 11;
    if (!send_request(fd, "leave")) return 12;
    if (next_reply(fd, buf).find("permission denied: 'leave' needs root") == std::string::npos) return 13;
    if (next_reply(fd, buf) != "") return 14;  // closed after the refusal
    return 0;
  });
  CHECK(rc == 0);
  CHECK(fx.handler.requests == 1);  // the refused verb never reached the daemon
}

TEST_CASE("control access: without the group, nobody cannot even connect") {
  Fixture fx;
  const int rc = as_nobody(*fx.server, fx.handler, false, [&] {
    int fd = connect_to(fx.path);
    return fd < 0 && errno == EACCES ? 0 : 20;
  });
  CHECK(rc == 0);
}

TEST_CASE("control access: a reader that floods pipelined requests is dropped after its burst (review 20b: it fenced a node)") {
  Fixture fx;
  const int replies = as_nobody(*fx.server, fx.handler, true, [&] {
    int fd = connect_to(fx.path);
    if (fd < 0) return 250;
    std::string all;
    for (int i = 0; i < 500; ++i) all += *encode_frame("status");
    if (::send(fd, all.data(), all.size(), MSG_NOSIGNAL) != ssize_t(all.size())) return 251;
    std::string buf;
    int n = 0;
    for (;;) {
      std::string r = next_reply(fd, buf);
      if (r == "timeout") return 252;  // never closed
      if (r.empty()) break;
      ++n;
    }
    // Reconnecting at once does not refill the budget (it is the uid's, not the connection's).
    int again = connect_to(fx.path);
    if (again < 0) return 253;
    if (::send(again, all.data(), all.size(), MSG_NOSIGNAL) != ssize_t(all.size())) return n;
    std::string buf2;
    for (;;) {
      std::string r = next_reply(again, buf2);
      if (r == "timeout") return 254;
      if (r.empty()) break;
      ++n;
    }
    return n;
  });
  // Both connections together: one burst and what 20/s refills in the moment between them.
  CHECK(replies <= int(ControlServer::kLimitedBurst) + 3);
  CHECK(fx.handler.requests <= int(ControlServer::kLimitedBurst) + 3);
  CHECK(fx.handler.requests >= 1);
}

TEST_CASE("control access: at most kMaxLimitedPerUser connections of one uid at once; over-long arguments refused") {
  Fixture fx;
  const int ok = as_nobody(*fx.server, fx.handler, true, [&] {
    std::vector<int> fds;
    int served = 0;
    for (size_t i = 0; i < ControlServer::kMaxLimitedPerUser + 4; ++i) {
      int fd = connect_to(fx.path);
      if (fd < 0) return 200;
      fds.push_back(fd);  // held open: the slots stay taken
      std::string buf;
      if (!send_request(fd, "status")) continue;
      if (next_reply(fd, buf) == "{\"ok\":true}") ++served;
    }
    std::string buf;
    if (!send_request(fds[0], "status " + std::string(ControlServer::kLimitedArgs + 1, 'x'))) return 201;
    if (next_reply(fds[0], buf).find("arguments longer than") == std::string::npos) return 202;
    return served;
  });
  CHECK(ok == int(ControlServer::kMaxLimitedPerUser));
}
