// Fuzz target: quorumd's control socket end to end — a real ControlServer on a Unix socket, one client
// connection per input sending the input's bytes in chunks, the server's process() loop reading, framing,
// parsing and answering (control_server.cc's read path, which control_protocol_fuzz cannot reach).
// Input: byte 0 = chunk size - 1 (1..256 bytes per send), the rest = what the client sends.
// Checks: no crash, leak or sanitizer report; the server never hangs (bounded loop); once the client
// closes, the server forgets the connection; and it answers a fresh client afterwards.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/fuzz_require.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "control/control_server.h"

using namespace castor;
using fuzz::require;

namespace {

struct EchoHandler : ControlServer::Handler {
  ControlServer* server = nullptr;
  void on_request(ControlServer::ConnId conn, const ControlRequest& req) override {
    if (req.verb == "subscribe") {
      server->subscribe(conn);
      server->broadcast("{\"event\":\"lease_renewed\"}");
    } else if (req.verb == "leave") {
      server->reply_error(conn, "leaving", true);
      return;
    }
    server->reply(conn, "{\"ok\":true,\"verb\":\"" + req.verb + "\",\"args\":" + std::to_string(req.args.size()) + "}");
  }
};

std::string g_dir;  // removed at exit, with the socket in it

struct Fixture {
  std::string dir, path;
  std::unique_ptr<ControlServer> server;
  EchoHandler handler;
  Fixture() {
    log::Options o;
    o.program = "control_server_fuzz";
    o.to_stderr = false;  // the server logs every malformed message: keep the fuzzer's output readable
    log::init(o);
    char tmpl[] = "/tmp/castor-fuzz.XXXXXX";
    require(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/q.sock";
    auto s = ControlServer::listen(path);
    require(s.ok());
    server = std::move(*s);
    handler.server = server.get();
    g_dir = dir;
    std::atexit([] {
      ::unlink((g_dir + "/q.sock").c_str());
      ::rmdir(g_dir.c_str());
    });
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // lives for the whole run
  return *f;
}

UniqueFd connect_client(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  require(fd.valid());
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.data(), path.size());
  require(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Reads whatever the server sent; false once the server closed the connection.
bool drain(int fd) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = fixture();
  if (size == 0) return 0;
  const size_t chunk = size_t(data[0]) + 1;
  ++data;
  --size;
  {
    UniqueFd c = connect_client(f.path);
    bool open = true;
    size_t off = 0;
    for (int round = 0; open && off < size && round < 100000; ++round) {
      const size_t n = std::min(chunk, size - off);
      ssize_t sent = ::send(c.get(), data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) off += size_t(sent);
      else if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) open = false;
      f.server->process(f.handler);
      if (!drain(c.get())) open = false;
    }
    ::shutdown(c.get(), SHUT_WR);
    for (int round = 0; open && round < 1000; ++round) {
      f.server->process(f.handler);
      open = drain(c.get());
    }
  }  // the client closes
  for (int round = 0; f.server->connection_count() > 0 && round < 1000; ++round) f.server->process(f.handler);
  require(f.server->connection_count() == 0);

  // A fresh client is answered.
  UniqueFd c = connect_client(f.path);
  static const char kStatus[] = "\x06\x00\x00\x00\x01\x00status";
  require(::send(c.get(), kStatus, sizeof kStatus - 1, MSG_NOSIGNAL) == ssize_t(sizeof kStatus - 1));
  std::string got;
  for (int round = 0; got.find('}') == std::string::npos && round < 1000; ++round) {
    f.server->process(f.handler);
    char buf[256];
    ssize_t n = ::recv(c.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, size_t(n));
  }
  require(got.find("\"verb\":\"status\"") != std::string::npos);
  c.reset();
  for (int round = 0; f.server->connection_count() > 0 && round < 1000; ++round) f.server->process(f.handler);
  require(f.server->connection_count() == 0);
  return 0;
}
