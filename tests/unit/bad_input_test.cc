// Bad input at the edges of quorumd and svcmgr that no other unit test drives end to end: hostile clients
// of a real ControlServer (huge declared lengths, endless streams, non-root peers) and the inputs that
// once crashed a fuzz target (fuzz/regressions/). Each must give a clear error and change nothing else.
// (Service files with 10,000 resources or 1 MiB lines: service_config_test.cc; whole daemons:
// tests/integration/bad_input.sh.)
#include <doctest/doctest.h>
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
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "control/control_protocol.h"
#include "control/control_server.h"
#include "tests/support/control_client.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

struct CountingHandler : ControlServer::Handler {
  int requests = 0;
  ControlServer* server = nullptr;
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    ++requests;
    server->reply(conn, "{\"ok\":true,\"verb\":\"" + req.verb + "\"}");
  }
};

// Runs the server until `done` or ~2 s pass.
bool pump(ControlServer& server, CountingHandler& h, const std::function<bool()>& done) {
  return testing::drive_until(server, h, done, 400, std::chrono::milliseconds(5));
}

// Reads what the server sent until it closes the connection (or ~2 s pass, then "(still open)" is appended).
std::string read_until_closed(int fd, ControlServer& server, CountingHandler& h) {
  std::string got;
  for (int i = 0; i < 400; ++i) {
    server.process(h);
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return got;
    if (n > 0) got.append(buf, size_t(n));
    else if (errno != EAGAIN && errno != EWOULDBLOCK) return got + "(error " + std::strerror(errno) + ")";
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return got + "(still open)";
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string header(uint32_t len) {
  std::string h;
  for (int i = 0; i < 4; ++i) h.push_back(char((len >> (8 * i)) & 0xff));
  h.push_back(char(kProtocolVersion & 0xff));
  h.push_back(char(kProtocolVersion >> 8));
  return h;
}

}  // namespace

TEST_CASE("bad input: a control frame declaring 1 GiB is refused at once, unallocated, and the server carries on") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  auto server = ControlServer::listen(dir.file("q.sock"));
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  CountingHandler h;
  h.server = server->get();

  UniqueFd c = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(c.valid());
  const std::string msg = header(1u << 30) + "status";
  REQUIRE(::send(c.get(), msg.data(), msg.size(), MSG_NOSIGNAL) == ssize_t(msg.size()));
  const std::string got = read_until_closed(c.get(), **server, h);
  CHECK_MESSAGE(has(got, "frame of 1073741824 bytes exceeds the 65536-byte maximum"), got);
  CHECK_MESSAGE(!has(got, "still open"), got);
  CHECK(h.requests == 0);
  pump(**server, h, [&] { return (*server)->connection_count() == 0; });
  CHECK((*server)->connection_count() == 0);

  // The header alone, one byte at a time: refused as soon as the 6 bytes are in, not after 1 GiB.
  UniqueFd slow = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(slow.valid());
  const std::string hdr = header(0xFFFFFFFFu);
  for (char ch : hdr) {
    REQUIRE(::send(slow.get(), &ch, 1, MSG_NOSIGNAL) == 1);
    (*server)->process(h);
  }
  const std::string got2 = read_until_closed(slow.get(), **server, h);
  CHECK_MESSAGE(has(got2, "frame of 4294967295 bytes exceeds"), got2);

  // Another client is served as before.
  UniqueFd ok = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(ok.valid());
  REQUIRE(testing::send_frame(ok.get(), "status"));
  pump(**server, h, [&] { return h.requests == 1; });
  CHECK(h.requests == 1);
}

TEST_CASE("bad input: a client that streams without ever completing a frame cannot grow the server") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  auto server = ControlServer::listen(dir.file("q.sock"));
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  CountingHandler h;
  h.server = server->get();
  UniqueFd c = testing::connect_unix(dir.file("q.sock"));
  REQUIRE(c.valid());
  // A legal header for the largest payload, then more than that: the frame completes at 64 KiB, and the
  // payload (not printable text) closes the connection. The client is cut off after at most a few hundred KiB.
  const std::string data = header(uint32_t(kMaxPayload)) + std::string(kMaxPayload, '\x01');
  const std::string chunk(16384, 'x');
  size_t off = 0, sent = 0;
  bool cut_off = false;
  for (int i = 0; i < 2000 && !cut_off; ++i) {
    const bool in_frame = off < data.size();
    const char* p = in_frame ? data.data() + off : chunk.data();
    const size_t len = in_frame ? data.size() - off : chunk.size();
    ssize_t n = ::send(c.get(), p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += size_t(n);
      if (in_frame) off += size_t(n);
    } else if (errno == EPIPE || errno == ECONNRESET) {
      cut_off = true;
    }
    (*server)->process(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(cut_off);
  CHECK(h.requests == 0);
  CHECK(sent < size_t(4) << 20);
}

TEST_CASE("bad input: a non-root client is refused by SO_PEERCRED even when the socket mode lets it in" *
          doctest::skip(::geteuid() != 0)) {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  const std::string path = dir.file("q.sock");
  auto server = ControlServer::listen(path);
  REQUIRE_MESSAGE(server.ok(), server.status().to_string());
  CountingHandler h;
  h.server = server->get();
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  REQUIRE(::chmod(path.c_str(), 0666) == 0);  // open it up: only the credential check is left

  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // nobody: connect, send a status request, report what came back through the pipe.
    ::close(pipefd[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) ::_exit(4);
    const char req[] = "\x06\x00\x00\x00\x01\x00status";
    if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != ssize_t(sizeof req - 1)) ::_exit(5);
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
      if (::write(pipefd[1], buf, size_t(n)) != n) ::_exit(6);
    // The server closed the connection: EOF, or ECONNRESET as it closed with the request still unread.
    ::_exit(n == 0 || errno == ECONNRESET ? 0 : 7);
  }
  ::close(pipefd[1]);
  std::string got;
  int status = -1;
  for (int i = 0; i < 400; ++i) {
    (*server)->process(h);
    if (::waitpid(child, &status, WNOHANG) == child) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) got.append(buf, size_t(n));
  ::close(pipefd[0]);
  if (!WIFEXITED(status)) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  REQUIRE_MESSAGE(WIFEXITED(status), "the child never finished");
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, "child exit " << WEXITSTATUS(status));
  CHECK_MESSAGE(has(got, "permission denied: the control socket is for root only"), got);
  CHECK(h.requests == 0);
  // Root is still served.
  UniqueFd ok = testing::connect_unix(path);
  REQUIRE(ok.valid());
  REQUIRE(testing::send_frame(ok.get(), "status"));
  pump(**server, h, [&] { return h.requests == 1; });
  CHECK(h.requests == 1);
}
