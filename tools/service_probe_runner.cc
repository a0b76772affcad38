#include "tools/service_probe_runner.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

extern char** environ;

namespace castor {
namespace {

using Steady = std::chrono::steady_clock;

int remaining_ms(Steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()).count();
  return left < 0 ? 0 : int(left);
}

// A connected non-blocking socket to host:port, or an invalid fd.
UniqueFd connect_to(const ServiceProbe& p, Steady::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(p.host.c_str(), std::to_string(p.port).c_str(), &hints, &res) != 0 || !res) return UniqueFd();
  UniqueFd fd(::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int rc = fd.valid() ? ::connect(fd.get(), res->ai_addr, res->ai_addrlen) : -1;
  ::freeaddrinfo(res);
  if (!fd.valid()) return UniqueFd();
  if (rc != 0 && errno != EINPROGRESS) return UniqueFd();
  if (rc != 0) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, remaining_ms(deadline)) != 1) return UniqueFd();
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return UniqueFd();
  }
  return fd;
}

bool http_probe(const ServiceProbe& p, Steady::time_point deadline) {
  UniqueFd fd = connect_to(p, deadline);
  if (!fd.valid()) return false;
  const std::string req = "GET " + p.path + " HTTP/1.0\r\nHost: " + p.host + "\r\nUser-Agent: castor-drill\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    pollfd pfd{fd.get(), POLLOUT, 0};
    if (::poll(&pfd, 1, remaining_ms(deadline)) != 1) return false;
    ssize_t n = ::send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += size_t(n);
  }
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 256) {
    pollfd pfd{fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, remaining_ms(deadline)) != 1) return false;
    char buf[256];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    head.append(buf, size_t(n));
  }
  // "HTTP/1.x NNN ...": 2xx and 3xx answer.
  return head.size() >= 12 && head.rfind("HTTP/1.", 0) == 0 && head[8] == ' ' && (head[9] == '2' || head[9] == '3');
}

bool exec_probe(const ServiceProbe& p, Steady::time_point deadline) {
  std::vector<char*> argv;
  for (const auto& a : p.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // its own group: a timeout kills what it started too
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return false;
  for (;;) {
    int status = 0;
    const pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (w < 0 && errno != EINTR) return false;
    if (Steady::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

bool run_service_probe(const ServiceProbe& probe, Duration timeout) {
  const auto deadline = Steady::now() + std::chrono::duration_cast<Steady::duration>(timeout);
  switch (probe.kind) {
    case ServiceProbe::Kind::http: return http_probe(probe, deadline);
    case ServiceProbe::Kind::tcp: return connect_to(probe, deadline).valid();
    case ServiceProbe::Kind::exec: return exec_probe(probe, deadline);
  }
  return false;
}

}  // namespace castor
