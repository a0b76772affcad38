// Root-only: a control socket served by a process that is not root (an impostor that got a socket path
// pointed at a directory it can write to) is refused by every Castor client: castor's ControlClient,
// svcmgr's QuorumdLink, and the connect_unix_socket both go through.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/unix_socket.h"
#include "control/control_client.h"
#include "svcmgr/quorumd_link.h"
#include "tests/support/scratch.h"

using namespace castor;

namespace {

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

// Forks a child that becomes uid/gid `uid` and listens on `path`; returns its pid once it listens.
pid_t serve_as(uid_t uid, const std::string& path) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(ready[0]);
    if (::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) ::_exit(4);
    if (::write(ready[1], "1", 1) != 1) ::_exit(5);
    for (;;) {  // accept and hold connections until killed
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) ::pause();
    }
  }
  ::close(ready[1]);
  char b = 0;
  const ssize_t n = ::read(ready[0], &b, 1);
  ::close(ready[0]);
  if (n != 1) {
    int status = 0;
    ::waitpid(child, &status, 0);
    FAIL("the serving child did not start (exit " << WEXITSTATUS(status) << ")");
  }
  return child;
}

void stop(pid_t child) {
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
}

}  // namespace

TEST_CASE("control socket: a server not running as root is refused as an impostor by every client (root)") {
  testing::ScratchDir dir;
  REQUIRE(!dir.path().empty());
  // A directory the impostor may write to (the socket path an admin was talked into).
  const std::string shared = dir.file("shared");
  REQUIRE(::mkdir(shared.c_str(), 0755) == 0);
  REQUIRE(::chown(shared.c_str(), 65534, 65534) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  const std::string path = shared + "/quorumd.sock";
  const pid_t child = serve_as(65534, path);

  auto fd = connect_unix_socket(path, false);
  CHECK_FALSE(fd.ok());
  CHECK(fd.status().code() == Code::refused);
  CHECK_MESSAGE(has(fd.status().message(), "refusing " + path + ": the process serving it (pid " + std::to_string(child) +
                                               ") runs as uid 65534, not root: an impostor"),
                fd.status().message());

  auto client = ControlClient::connect(path, std::chrono::seconds(1));
  CHECK_FALSE(client.ok());
  CHECK(client.status().code() == Code::refused);

  QuorumdLink link(path);
  Status st = link.connect([](const std::string&) {});
  CHECK(st.code() == Code::refused);
  CHECK(has(st.message(), "impostor"));
  CHECK_FALSE(link.connected());
  stop(child);

  // The same socket served by root is accepted.
  REQUIRE(::unlink(path.c_str()) == 0);
  const pid_t root_child = serve_as(0, path);
  auto ok = connect_unix_socket(path, false);
  CHECK_MESSAGE(ok.ok(), ok.status().to_string());
  stop(root_child);
}
